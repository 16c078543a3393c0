import { sql, type Kysely } from 'kysely';

/**
 * Events are immutable: no UPDATE, DELETE or TRUNCATE of `es_events`, for any role the services
 * connect as (triggers fire for the table's owner too). Erasure destroys the subject's key, it
 * never rewrites an event. A superuser can still switch triggers off — the audit tree and its
 * checkpoints published outside the database detect what such a session changes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION es_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'events are immutable (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`CREATE TRIGGER es_events_no_change BEFORE UPDATE OR DELETE ON es_events FOR EACH ROW EXECUTE FUNCTION es_events_append_only()`.execute(db);
  await sql`CREATE TRIGGER es_events_no_truncate BEFORE TRUNCATE ON es_events FOR EACH STATEMENT EXECUTE FUNCTION es_events_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS es_events_no_truncate ON es_events`.execute(db);
  await sql`DROP TRIGGER IF EXISTS es_events_no_change ON es_events`.execute(db);
  await sql`DROP FUNCTION IF EXISTS es_events_append_only()`.execute(db);
}
