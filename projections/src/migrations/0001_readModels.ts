import { sql, type Kysely } from 'kysely';

/**
 * Checkpoints and the workout read models. Column names are a contract with query-service: add
 * columns and indexes freely, never rename. Row-level security on (tenant_id, subject_id) comes in
 * a later migration: every table carries both ids so policies need no joins.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('projection_checkpoints')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('position', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('rm_workouts')
    .addColumn('workout_id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('planned', 'in_progress', 'completed', 'cancelled')`))
    .addColumn('title', 'text')
    .addColumn('planned_for', 'timestamptz')
    .addColumn('started_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('cancelled_at', 'timestamptz')
    .addColumn('perceived_exertion', 'numeric')
    .addColumn('notes', 'text')
    .addColumn('location', 'jsonb')
    .addColumn('exercise_ids', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('set_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('total_volume_kg', 'numeric', (c) => c.notNull().defaultTo(0))
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('sort_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_position', 'text', (c) => c.notNull())
    // Extra columns (not in the contract, free to use):
    .addColumn('source_workout_id', 'uuid')
    .addColumn('planned_sets', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('first_recorded_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX rm_workouts_subject_sort ON rm_workouts (subject_id, sort_at DESC, workout_id DESC)`.execute(db);
  await sql`CREATE INDEX rm_workouts_exercise_ids ON rm_workouts USING gin (exercise_ids)`.execute(db);

  await db.schema
    .createTable('rm_workout_sets')
    .addColumn('workout_id', 'uuid', (c) => c.notNull())
    .addColumn('set_id', 'uuid', (c) => c.notNull())
    .addColumn('ordinal', 'integer', (c) => c.notNull())
    .addColumn('exercise_id', 'text', (c) => c.notNull())
    .addColumn('reps', 'integer')
    .addColumn('load_value', 'numeric')
    .addColumn('load_unit', 'text')
    .addColumn('load_kg', 'numeric')
    .addColumn('duration_s', 'numeric')
    .addColumn('distance_value', 'numeric')
    .addColumn('distance_unit', 'text')
    .addColumn('distance_m', 'numeric')
    .addColumn('rpe', 'numeric')
    .addColumn('heart_rate_bpm', 'integer')
    .addColumn('warm_up', 'boolean', (c) => c.notNull())
    .addColumn('to_failure', 'boolean', (c) => c.notNull())
    .addColumn('superset_group', 'text')
    .addColumn('rest_before_s', 'numeric')
    .addColumn('notes', 'text')
    .addColumn('custom_fields', 'jsonb')
    .addColumn('occurred_at', 'timestamptz')
    // Extra columns: the personal-record recomputation selects by (subject, exercise) without a join
    // on the hot path, and row-level security will need both ids.
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('rm_workout_sets_pkey', ['workout_id', 'set_id'])
    .execute();
  await sql`CREATE INDEX rm_workout_sets_subject_exercise ON rm_workout_sets (subject_id, exercise_id)`.execute(db);

  await db.schema
    .createTable('rm_personal_records')
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('exercise_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('one_rm_kg', 'numeric')
    .addColumn('three_rm_kg', 'numeric')
    .addColumn('five_rm_kg', 'numeric')
    .addColumn('ten_rm_kg', 'numeric')
    .addColumn('epley_kg', 'numeric')
    .addColumn('brzycki_kg', 'numeric')
    .addColumn('best_volume_kg', 'numeric')
    .addColumn('updated_position', 'text', (c) => c.notNull())
    // Extra column: the full record of packages/domain personalRecords(), including which set holds each record.
    .addColumn('records', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('rm_personal_records_pkey', ['subject_id', 'exercise_id'])
    .execute();

  await db.schema
    .createTable('rm_feed_changes')
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('position', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('workout', 'personal_record')`))
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('op', 'text', (c) => c.notNull().check(sql`op IN ('upsert', 'delete')`))
    .addColumn('payload', 'jsonb')
    .addPrimaryKeyConstraint('rm_feed_changes_pkey', ['subject_id', 'position', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['rm_feed_changes', 'rm_personal_records', 'rm_workout_sets', 'rm_workouts', 'projection_checkpoints']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
