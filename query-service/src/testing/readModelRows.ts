import { lockFeedOrder, type ReadModelDb } from '@fitledger/projections';
import { sql, type Insertable, type Kysely } from 'kysely';
import type { RmFeedChangesTable, RmPersonalRecordsTable, RmWorkoutSetsTable, RmWorkoutsTable } from '@fitledger/projections';

/**
 * Read-model rows written straight into the tables, as the projections would leave them: these
 * tests check the read side; the projections' own tests check how the rows are written.
 */

export type WorkoutRow = Insertable<RmWorkoutsTable>;

export async function insertWorkout(db: Kysely<ReadModelDb>, row: Partial<WorkoutRow> & Pick<WorkoutRow, 'workout_id' | 'tenant_id' | 'subject_id' | 'sort_at'>): Promise<void> {
  await db
    .insertInto('rm_workouts')
    .values({
      status: 'completed',
      title: null,
      revision: 1,
      updated_position: '0'.repeat(32),
      first_recorded_at: new Date('2024-01-01T00:00:00Z'),
      exercise_ids: [],
      set_count: 0,
      total_volume_kg: 0,
      ...row,
    })
    .execute();
}

export async function insertSet(db: Kysely<ReadModelDb>, row: Partial<Insertable<RmWorkoutSetsTable>> & Pick<Insertable<RmWorkoutSetsTable>, 'workout_id' | 'set_id' | 'ordinal' | 'exercise_id' | 'tenant_id' | 'subject_id'>): Promise<void> {
  await db.insertInto('rm_workout_sets').values({ warm_up: false, to_failure: false, ...row }).execute();
}

export async function insertPersonalRecord(
  db: Kysely<ReadModelDb>,
  row: Partial<Insertable<RmPersonalRecordsTable>> & Pick<Insertable<RmPersonalRecordsTable>, 'subject_id' | 'exercise_id' | 'tenant_id'>,
): Promise<void> {
  await db.insertInto('rm_personal_records').values({ updated_position: '0'.repeat(32), records: '{}', ...row }).execute();
}

/** A feed position: 32 lower-case hex digits, ordered as the number `n`. */
export function feedPosition(n: number): string {
  return n.toString(16).padStart(32, '0');
}

/** Inserts feed rows in one transaction under the feed-order lock, then NOTIFYs `rm_changes` after commit, as the projection runner does. */
export async function commitFeedChanges(db: Kysely<ReadModelDb>, rows: readonly Insertable<RmFeedChangesTable>[], notify = true): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction().execute(async (trx) => {
    await lockFeedOrder(trx);
    await trx.insertInto('rm_feed_changes').values([...rows]).execute();
  });
  if (notify) {
    const last = rows[rows.length - 1];
    await sql`SELECT pg_notify('rm_changes', ${JSON.stringify({ projection: 'workouts', position: last?.position })})`.execute(db);
  }
}
