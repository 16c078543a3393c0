import { sql, type Kysely } from 'kysely';

/**
 * Every batch that touches a workout rewrites its rm_workouts row (set count, volume, revision), and
 * every changed personal record its row. With full pages each new row version went to another page
 * and into every index (the primary key, the subject/sort index and the GIN index on exercise_ids).
 * Room left on each page lets PostgreSQL keep the new version on the same page without touching
 * any index (a HOT update) whenever no indexed column changed, which is the usual case. Applies to
 * pages written from now on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_workouts SET (fillfactor = 70)`.execute(db);
  await sql`ALTER TABLE rm_personal_records SET (fillfactor = 70)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_workouts RESET (fillfactor)`.execute(db);
  await sql`ALTER TABLE rm_personal_records RESET (fillfactor)`.execute(db);
}
