import { sql, type Kysely } from 'kysely';

/**
 * Feed rows name the organisation (tenant) of the event that wrote them. Row-level security hid a
 * row of another organisation by its stored payload's `tenant_id`; since migration 0019 workout and
 * personal-record rows carry no payload, so the policy now reads the row's own `tenant_id` and
 * falls back to the payload only for rows written before this column existed.
 */
const tenant = `current_setting('fitledger.tenant_id', true)`;
const subject = `current_setting('fitledger.subject_id', true)`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_feed_changes ADD COLUMN tenant_id text`.execute(db);
  await sql`ALTER POLICY rm_feed_changes_reader ON rm_feed_changes USING (${sql.raw(
    `subject_id = ${subject} AND CASE WHEN tenant_id IS NOT NULL THEN tenant_id = ${tenant} ELSE payload IS NULL OR payload->>'tenant_id' = ${tenant} END`,
  )})`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER POLICY rm_feed_changes_reader ON rm_feed_changes USING (${sql.raw(`subject_id = ${subject} AND (payload IS NULL OR payload->>'tenant_id' = ${tenant})`)})`.execute(db);
  await sql`ALTER TABLE rm_feed_changes DROP COLUMN IF EXISTS tenant_id`.execute(db);
}
