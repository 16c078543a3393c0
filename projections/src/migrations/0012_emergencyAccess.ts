import { sql, type Kysely } from 'kysely';

/** Emergency (break-glass) grants across subjects: the auditors' review queue. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rm_emergency_access')
    .addColumn('grant_id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('opened_by', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('closed_at', 'timestamptz')
    .addColumn('reviewed_by', 'text')
    .addColumn('review_outcome', 'text')
    .addColumn('updated_position', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX rm_emergency_access_unreviewed ON rm_emergency_access (tenant_id, opened_at) WHERE reviewed_by IS NULL`.execute(db);
  await sql`CREATE INDEX rm_emergency_access_subject ON rm_emergency_access (subject_id, opened_at DESC)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rm_emergency_access').ifExists().execute();
}
