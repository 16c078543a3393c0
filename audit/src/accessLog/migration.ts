import { sql, type Kysely } from 'kysely';

/**
 * The access log: one row per recorded access (who, what, when, where, outcome, purpose), never
 * changed afterwards.
 *
 * Append-only by trigger: UPDATE is always refused; DELETE only of a record older than 6 years
 * that no legal hold covers (what `audit_purge_access_records` removes, with a configurable longer
 * retention); TRUNCATE never.
 * Triggers fire for the table's owner too (the role the services connect as), so the service role
 * cannot rewrite or drop the log by any statement it sends. A superuser can still disable
 * triggers — the Merkle tree and the checkpoints published outside the database catch that.
 *
 * `seq` orders records as they were committed for the audit tree; `id` (UUIDv7) is the record's
 * identity in exports and leaves.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE audit_access_records (
      seq                  bigserial PRIMARY KEY,
      id                   uuid NOT NULL UNIQUE,
      at                   timestamptz NOT NULL,
      actor_sub            text NOT NULL,
      actor_role           text NOT NULL,
      actor_organisation   text,
      client_id            text,
      action               text NOT NULL CHECK (action IN ('read', 'write', 'denied', 'admin')),
      record_type          text NOT NULL,
      record_id            text,
      subject_pseudonym    text,
      ip                   text NOT NULL,
      user_agent           text,
      service              text NOT NULL,
      method               text NOT NULL,
      route                text NOT NULL,
      status               integer NOT NULL,
      outcome              text NOT NULL CHECK (outcome IN ('allowed', 'denied', 'error')),
      purpose_of_use       text NOT NULL,
      consent_version      integer,
      break_glass_grant_id text,
      request_id           text NOT NULL
    )`.execute(db);
  // Accounting of disclosures ("who saw this subject's data"), newest first.
  await sql`CREATE INDEX audit_access_records_subject ON audit_access_records (subject_pseudonym, at DESC) WHERE subject_pseudonym IS NOT NULL`.execute(db);
  await sql`CREATE INDEX audit_access_records_at ON audit_access_records (at)`.execute(db);

  await sql`
    CREATE TABLE audit_legal_holds (
      id                uuid PRIMARY KEY,
      -- null: the whole log is held.
      subject_pseudonym text,
      reason            text NOT NULL,
      placed_at         timestamptz NOT NULL DEFAULT now(),
      released_at       timestamptz
    )`.execute(db);

  await sql`
    CREATE FUNCTION audit_access_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- The retention rule itself, whoever deletes: older than 6 years and under no legal hold.
      IF TG_OP = 'DELETE' AND OLD.at < now() - interval '6 years'
         AND NOT EXISTS (SELECT 1 FROM audit_legal_holds h WHERE h.released_at IS NULL AND (h.subject_pseudonym IS NULL OR h.subject_pseudonym = OLD.subject_pseudonym)) THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'the access log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_access_records_no_update BEFORE UPDATE OR DELETE ON audit_access_records
      FOR EACH ROW EXECUTE FUNCTION audit_access_records_append_only()`.execute(db);
  await sql`
    CREATE TRIGGER audit_access_records_no_truncate BEFORE TRUNCATE ON audit_access_records
      FOR EACH STATEMENT EXECUTE FUNCTION audit_access_records_append_only()`.execute(db);

  // Retention: the only way records leave. `retention` below 6 years is refused (HIPAA §164.316(b)(2)).
  await sql`
    CREATE FUNCTION audit_purge_access_records(retention interval) RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE removed bigint;
    BEGIN
      IF retention < interval '6 years' THEN
        RAISE EXCEPTION 'retention % is shorter than 6 years', retention USING ERRCODE = 'invalid_parameter_value';
      END IF;
      IF EXISTS (SELECT 1 FROM audit_legal_holds WHERE released_at IS NULL AND subject_pseudonym IS NULL) THEN
        RETURN 0;
      END IF;
      DELETE FROM audit_access_records r
       WHERE r.at < now() - retention
         AND NOT EXISTS (SELECT 1 FROM audit_legal_holds h WHERE h.released_at IS NULL AND h.subject_pseudonym = r.subject_pseudonym);
      GET DIAGNOSTICS removed = ROW_COUNT;
      RETURN removed;
    END $$`.execute(db);
  // The read-model reader role (projections migration 0017) never touches the log.
  await sql`
    DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fitledger_reader') THEN
        REVOKE ALL ON audit_access_records, audit_legal_holds FROM fitledger_reader;
      END IF;
    END $$`.execute(db);
  await sql`REVOKE ALL ON audit_access_records, audit_legal_holds FROM PUBLIC`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS audit_purge_access_records(interval)`.execute(db);
  await sql`DROP TABLE IF EXISTS audit_legal_holds`.execute(db);
  await sql`DROP TABLE IF EXISTS audit_access_records`.execute(db);
  await sql`DROP FUNCTION IF EXISTS audit_access_records_append_only()`.execute(db);
}
