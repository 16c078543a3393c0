import { sql, type Kysely } from 'kysely';

/** Who assigned a workout, when a trainer planned it in the client's record (null for the person's own). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_workouts ADD COLUMN assigned_by text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_workouts DROP COLUMN IF EXISTS assigned_by`.execute(db);
}
