import { sql, type Kysely } from 'kysely';

/**
 * The audit projector's positions and the checkpoints it published.
 *
 * `audit_projector_position` is one row: the last event position and the last access record seq
 * already in the tree. The projector moves it in the transaction that appends the leaves, so a
 * crash leaves both or neither; a trigger refuses to move it backwards (that would append an entry
 * twice — the leaves' UNIQUE (kind, ref) would refuse that too).
 *
 * `audit_checkpoints` holds a copy of every signed checkpoint for the HTTP API, append-only like
 * the tree. It is a convenience: the copy published outside the database is what verifiers trust.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE audit_projector_position (
      singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      event_position text NOT NULL CHECK (event_position ~ '^[0-9a-f]{32}$'),
      access_seq     bigint NOT NULL CHECK (access_seq >= 0),
      updated_at     timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`INSERT INTO audit_projector_position (singleton, event_position, access_seq) VALUES (true, ${'0'.repeat(32)}, 0)`.execute(db);
  await sql`
    CREATE FUNCTION audit_projector_position_forward() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF NEW.event_position < OLD.event_position OR NEW.access_seq < OLD.access_seq THEN
        RAISE EXCEPTION 'the audit projector position only moves forward'
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NEW;
    END
    $fn$`.execute(db);
  await sql`CREATE TRIGGER audit_projector_position_forward BEFORE UPDATE ON audit_projector_position FOR EACH ROW EXECUTE FUNCTION audit_projector_position_forward()`.execute(db);
  await sql`CREATE TRIGGER audit_projector_position_no_delete BEFORE DELETE ON audit_projector_position FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`.execute(db);
  await sql`CREATE TRIGGER audit_projector_position_no_truncate BEFORE TRUNCATE ON audit_projector_position FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`.execute(db);

  await sql`
    CREATE TABLE audit_checkpoints (
      size         bigint PRIMARY KEY CHECK (size >= 0),
      root_hash    bytea NOT NULL CHECK (octet_length(root_hash) = 32),
      -- The signed note exactly as published (C2SP signed-note text).
      note         text NOT NULL,
      published_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`.execute(db);
  await sql`CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS audit_checkpoints, audit_projector_position`.execute(db);
  await sql`DROP FUNCTION IF EXISTS audit_projector_position_forward()`.execute(db);
}
