import { Kysely, Migrator, PostgresDialect, type Migration } from 'kysely';
import type pg from 'pg';
import * as m0001 from './0001_readModels';
import * as m0002 from './0002_feedPositionIndex';
import * as m0003 from './0003_feedTraceparent';
import * as m0004 from './0004_exerciseLibrary';
import * as m0005 from './0005_bodyMeasurements';
import * as m0006 from './0006_profiles';
import * as m0007 from './0007_templates';
import * as m0008 from './0008_plans';
import * as m0009 from './0009_goals';
import * as m0010 from './0010_workoutEnergy';
import * as m0011 from './0011_access';
import * as m0012 from './0012_emergencyAccess';
import * as m0013 from './0013_workoutAssignment';
import * as m0015 from './0015_leaderboard';
import * as m0016 from './0016_planAssignment';
import * as m0017 from './0017_rowLevelSecurity';
import * as m0018 from './0018_feedPositionCollation';
import * as m0019 from './0019_feedRenderedOnRead';
import * as m0020 from './0020_workoutsFillfactor';
import * as m0021 from './0021_feedTenant';
import * as m0022 from './0022_feedRetention';
import * as m0023 from './0023_feedRetentionIndex';
import * as m0024 from './0024_feedOrder';

/** The read models' migrations, in order. Names never change once released. */
export const readModelMigrations: Readonly<Record<string, Migration>> = {
  '0001_read_models': m0001,
  '0002_feed_position_index': m0002,
  '0003_feed_traceparent': m0003,
  '0004_exercise_library': m0004,
  '0005_body_measurements': m0005,
  '0006_profiles': m0006,
  '0007_templates': m0007,
  '0008_plans': m0008,
  '0009_goals': m0009,
  '0010_workout_energy': m0010,
  '0011_access': m0011,
  '0012_emergency_access': m0012,
  '0013_workout_assignment': m0013,
  '0015_leaderboard': m0015,
  '0016_plan_assignment': m0016,
  '0017_row_level_security': m0017,
  '0018_feed_position_collation': m0018,
  '0019_feed_rendered_on_read': m0019,
  '0020_workouts_fillfactor': m0020,
  '0021_feed_tenant': m0021,
  '0022_feed_retention': m0022,
  '0023_feed_retention_index': m0023,
  '0024_feed_order': m0024,
};

export const READ_MODEL_MIGRATION_TABLE = 'rm_migrations';
export const READ_MODEL_MIGRATION_LOCK_TABLE = 'rm_migrations_lock';

/** Brings the read-model tables to the latest version (own migration table `rm_migrations`). The pool stays open. */
export async function migrateReadModels(pool: pg.Pool): Promise<void> {
  // No db.destroy(): it would end the caller's pool.
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...readModelMigrations }) },
    migrationTableName: READ_MODEL_MIGRATION_TABLE,
    migrationLockTableName: READ_MODEL_MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed) {
    throw new Error(`read model migration ${failed?.migrationName ?? ''} failed`, { cause: error });
  }
}
