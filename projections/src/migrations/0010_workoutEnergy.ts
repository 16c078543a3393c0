import { sql, type Kysely } from 'kysely';

/** Active energy (kcal) recorded when a workout is completed: shown with the workout and counted by calorie goals. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_workouts ADD COLUMN energy_kcal numeric`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_workouts DROP COLUMN IF EXISTS energy_kcal`.execute(db);
}
