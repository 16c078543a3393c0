import { sql, type Kysely } from 'kysely';

/** Who assigned a weekly plan, when a trainer created it in the client's record (null for the person's own). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_plans ADD COLUMN assigned_by text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_plans DROP COLUMN IF EXISTS assigned_by`.execute(db);
}
