import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * Row-level security on the read models: a second wall behind query-service's policy checks.
 *
 * query-service reads as the NOLOGIN role `fitledger_reader` (SET ROLE on each connection it
 * checks out, see query-service rowLevelSecurity.ts) with three settings taken from the verified
 * token and the scope the API policy resolved: `fitledger.tenant_id` (always the token's
 * organisation), `fitledger.subject_id` (whose data: the caller, or the client a trainer was
 * allowed to read) and `fitledger.role` (the token's role). The policies apply to that role only:
 * the projections write as the tables' owner and never see them.
 *
 * The role is cluster-wide and other databases on the same server use it too: created only if
 * missing (concurrent migrations of several databases race here), never dropped by `down`.
 * A read-model table added later needs a GRANT and a policy in its migration, or the reader is
 * refused (permission denied) — loud, never an open table.
 */
const tenant = `current_setting('fitledger.tenant_id', true)`;
const subject = `current_setting('fitledger.subject_id', true)`;
const role = `current_setting('fitledger.role', true)`;

/** Personal data: the subject's own rows within the token's organisation. */
const personal = `tenant_id = ${tenant} AND subject_id = ${subject}`;

/** Who may see which rows, by table; each must match what the API shows (query-service routes). */
const READ_MODEL_POLICIES: Readonly<Record<string, string>> = {
  rm_workouts: personal,
  rm_workout_sets: personal,
  rm_personal_records: personal,
  rm_body_measurements: personal,
  rm_profiles: personal,
  rm_profile_time_zones: personal,
  rm_plans: personal,
  rm_goals: personal,
  rm_consents: personal,
  // No tenant column: an upsert's payload is the entity's row, tenant_id included; a delete carries
  // no payload (only the entity's id), so it is keyed by subject alone.
  rm_feed_changes: `subject_id = ${subject} AND (payload IS NULL OR payload->>'tenant_id' = ${tenant})`,
  // Own templates, and those shared in the organisation (GET /templates).
  rm_templates: `tenant_id = ${tenant} AND (subject_id = ${subject} OR visibility = 'organisation')`,
  // Versions of a template the reader sees (the subquery is itself under rm_templates' policy).
  rm_template_versions: `EXISTS (SELECT 1 FROM rm_templates t WHERE t.template_id = rm_template_versions.template_id)`,
  // The public catalog, the organisation's custom exercises and the subject's private ones.
  rm_exercises: `visibility = 'public' OR (tenant_id = ${tenant} AND (visibility = 'organisation' OR subject_id = ${subject}))`,
  // Both sides of a relationship: GET /clients (trainer), GET /coaching (client), the trainer look-up of /clients/{id}/….
  rm_coaching: `tenant_id = ${tenant} AND (trainer_id = ${subject} OR client_id = ${subject})`,
  // Organisations are not tenants (no tenant column): a person's memberships in any organisation
  // (GET /memberships), and all members of one they actively administer (GET /organisations/{id}/members).
  rm_memberships: `subject_id = ${subject} OR rm_rls_administers(organisation_id)`,
  rm_organisations: `EXISTS (SELECT 1 FROM rm_memberships m WHERE m.organisation_id = rm_organisations.organisation_id AND m.subject_id = ${subject})`,
  // The review queue: auditors see their organisation's grants, platform admins every organisation's.
  rm_emergency_access: `(tenant_id = ${tenant} AND (subject_id = ${subject} OR ${role} = 'auditor')) OR ${role} = 'platform_admin'`,
};

const policyName = (table: string): string => `${table}_reader`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DO $$
    BEGIN
      CREATE ROLE fitledger_reader NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created by another database's migration (maybe at this very moment)
    END
    $$
  `.execute(db);
  // The migrating user (the tables' owner, as the services connect) must be able to SET ROLE to it.
  await sql`
    DO $$
    BEGIN
      IF NOT pg_has_role(current_user, 'fitledger_reader', 'MEMBER') THEN
        EXECUTE format('GRANT fitledger_reader TO %I', current_user);
      END IF;
    EXCEPTION WHEN unique_violation THEN
      NULL;
    END
    $$
  `.execute(db);
  await sql`GRANT USAGE ON SCHEMA public TO fitledger_reader`.execute(db);
  // Whether the caller actively administers an organisation. SECURITY DEFINER: a policy on
  // rm_memberships cannot query rm_memberships under its own policy (infinite recursion).
  await sql`
    CREATE FUNCTION rm_rls_administers(organisation uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    RETURN EXISTS (
      SELECT 1 FROM public.rm_memberships
      WHERE organisation_id = organisation AND subject_id = current_setting('fitledger.subject_id', true) AND status = 'active' AND role = 'org_admin'
    )
  `.execute(db);
  for (const [table, condition] of Object.entries(READ_MODEL_POLICIES)) {
    await sql`GRANT SELECT ON ${sql.table(table)} TO fitledger_reader`.execute(db);
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`CREATE POLICY ${sql.id(policyName(table))} ON ${sql.table(table)} AS PERMISSIVE FOR SELECT TO fitledger_reader USING (${sql.raw(condition)})`.execute(db);
  }
  // The exercise search's GIN indexes (full text @@, trigram %>) cannot serve a table under a
  // policy: those operators are not LEAKPROOF, so PostgreSQL evaluates them only after the policy,
  // row by row (the catalog search went from ~2.5 ms to ~12.5 ms). The library is therefore read
  // through this view: the same rows as rm_exercises' policy for the reader (its settings, tenant
  // from the token), every row for anyone else (the owner's own visibility SQL applies). It reads
  // the table with its owner's rights and is no security barrier, so the planner keeps the
  // indexes; a hostile SQL author could leak rows through a function of their own, which is not
  // what this wall is for (a policy check that resolved the wrong scope). `SELECT *` is expanded
  // now: a column added to rm_exercises later needs CREATE OR REPLACE VIEW.
  await sql`
    CREATE VIEW rm_exercises_visible AS
      SELECT * FROM rm_exercises
       WHERE current_user <> 'fitledger_reader' OR (${sql.raw(READ_MODEL_POLICIES['rm_exercises'] ?? 'false')})
  `.execute(db);
  await sql`GRANT SELECT ON rm_exercises_visible TO fitledger_reader`.execute(db);
  // The leaderboard (0015) ranks the organisation of the verified token when there is one, not a
  // tenant a resolved scope names: a bypassed check cannot read another organisation's board.
  await leaderboard(db, sql`coalesce(nullif(current_setting('fitledger.tenant_id', true), ''), p_tenant)`);
}

async function leaderboard(db: Kysely<unknown>, tenant: RawBuilder<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION fl_leaderboard(p_tenant text, p_from timestamptz, p_to timestamptz, p_limit int)
    RETURNS TABLE (subject_id text, workouts int, volume_kg numeric)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
      SELECT w.subject_id, count(*)::int, coalesce(sum(w.total_volume_kg), 0)
        FROM rm_workouts w
        JOIN rm_profiles p ON p.subject_id = w.subject_id AND p.tenant_id = w.tenant_id
       WHERE w.tenant_id = ${tenant} AND w.status = 'completed' AND p.profile_visibility = 'organisation'
         AND w.completed_at >= p_from AND w.completed_at < p_to
       GROUP BY w.subject_id
       ORDER BY count(*) DESC, sum(w.total_volume_kg) DESC NULLS LAST, w.subject_id
       LIMIT least(p_limit, 50)
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await leaderboard(db, sql`p_tenant`);
  await sql`DROP VIEW IF EXISTS rm_exercises_visible`.execute(db);
  for (const table of Object.keys(READ_MODEL_POLICIES)) {
    await sql`DROP POLICY IF EXISTS ${sql.id(policyName(table))} ON ${sql.table(table)}`.execute(db);
    await sql`ALTER TABLE ${sql.table(table)} DISABLE ROW LEVEL SECURITY`.execute(db);
    await sql`REVOKE SELECT ON ${sql.table(table)} FROM fitledger_reader`.execute(db);
  }
  await sql`DROP FUNCTION IF EXISTS rm_rls_administers(uuid)`.execute(db);
  await sql`REVOKE USAGE ON SCHEMA public FROM fitledger_reader`.execute(db);
  // The role stays: it is cluster-wide and other databases' policies name it.
}
