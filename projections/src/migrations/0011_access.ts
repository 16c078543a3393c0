import { sql, type Kysely } from 'kysely';

/**
 * Trainer–client relationships and consents as lists (who coaches whom; what a subject consented
 * to). Access decisions read the consent stream itself, so a withdrawal counts on the very next
 * request; these tables serve listings and the relationship look-up. Also an index for the
 * all-metrics body-measurement export (subject, time).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rm_coaching')
    .addColumn('relationship_id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('trainer_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('invited', 'active', 'ended')`))
    .addColumn('invited_at', 'timestamptz', (c) => c.notNull())
    .addColumn('accepted_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('updated_position', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX rm_coaching_trainer ON rm_coaching (trainer_id, client_id, status)`.execute(db);
  await sql`CREATE INDEX rm_coaching_client ON rm_coaching (client_id, status)`.execute(db);
  await db.schema
    .createTable('rm_consents')
    .addColumn('consent_id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('trainer_id', 'text')
    .addColumn('scopes', sql`text[]`)
    .addColumn('provider', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('guardian_id', 'text')
    .addColumn('confirmed', 'boolean', (c) => c.notNull())
    .addColumn('withdrawn', 'boolean', (c) => c.notNull())
    .addColumn('given_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_position', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX rm_consents_subject ON rm_consents (subject_id, given_at DESC, consent_id)`.execute(db);
  await db.schema
    .createTable('rm_organisations')
    .addColumn('organisation_id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('rm_memberships')
    .addColumn('organisation_id', 'uuid', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('invited', 'active')`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_position', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('rm_memberships_pk', ['organisation_id', 'subject_id'])
    .execute();
  await sql`CREATE INDEX rm_memberships_subject ON rm_memberships (subject_id)`.execute(db);
  await sql`CREATE INDEX rm_body_measurements_timeline ON rm_body_measurements (subject_id, measured_at, measurement_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS rm_body_measurements_timeline`.execute(db);
  await db.schema.dropTable('rm_memberships').ifExists().execute();
  await db.schema.dropTable('rm_organisations').ifExists().execute();
  await db.schema.dropTable('rm_consents').ifExists().execute();
  await db.schema.dropTable('rm_coaching').ifExists().execute();
}
