import { sql, type Kysely } from 'kysely';

/**
 * The audit Merkle tree: one row per leaf, one row per completed perfect subtree of level ≥ 1
 * (level 0 is the leaf hash itself), and the tree size in a single head row whose lock
 * serialises appenders.
 *
 * The tables are append-only by trigger: no UPDATE, DELETE or TRUNCATE of leaves or nodes, and
 * the head may only grow. This does not stop a superuser (who can drop triggers) — the signed
 * checkpoints kept outside the database do that — but it turns a bug or a careless script into an
 * error instead of silent history rewriting.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE audit_tree_head (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      size      bigint NOT NULL CHECK (size >= 0)
    )`.execute(db);
  await sql`INSERT INTO audit_tree_head (singleton, size) VALUES (true, 0)`.execute(db);
  await sql`
    CREATE TABLE audit_leaves (
      seq       bigint PRIMARY KEY CHECK (seq >= 0),
      kind      text NOT NULL CHECK (kind IN ('event', 'access')),
      ref       text NOT NULL,
      leaf_hash bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
      -- An event or an access record enters the log once.
      CONSTRAINT audit_leaves_entry UNIQUE (kind, ref)
    )`.execute(db);
  await sql`
    CREATE TABLE audit_tree_nodes (
      level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
      index bigint NOT NULL CHECK (index >= 0),
      hash  bytea NOT NULL CHECK (octet_length(hash) = 32),
      PRIMARY KEY (level, index)
    )`.execute(db);

  await sql`
    CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      RAISE EXCEPTION 'the audit tree is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
    END
    $fn$`.execute(db);
  await sql`
    CREATE FUNCTION audit_head_only_grows() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF NEW.size < OLD.size THEN
        RAISE EXCEPTION 'the audit tree cannot shrink (% -> %)', OLD.size, NEW.size
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NEW;
    END
    $fn$`.execute(db);
  for (const table of ['audit_leaves', 'audit_tree_nodes']) {
    await sql`CREATE TRIGGER ${sql.raw(`${table}_append_only`)} BEFORE UPDATE OR DELETE ON ${sql.table(table)} FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`.execute(db);
  }
  for (const table of ['audit_leaves', 'audit_tree_nodes', 'audit_tree_head']) {
    await sql`CREATE TRIGGER ${sql.raw(`${table}_no_truncate`)} BEFORE TRUNCATE ON ${sql.table(table)} FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`.execute(db);
  }
  await sql`CREATE TRIGGER audit_tree_head_no_delete BEFORE DELETE ON audit_tree_head FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`.execute(db);
  await sql`CREATE TRIGGER audit_tree_head_grows BEFORE UPDATE ON audit_tree_head FOR EACH ROW EXECUTE FUNCTION audit_head_only_grows()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE audit_tree_nodes, audit_leaves, audit_tree_head`.execute(db);
  await sql`DROP FUNCTION audit_refuse_change(), audit_head_only_grows()`.execute(db);
}
