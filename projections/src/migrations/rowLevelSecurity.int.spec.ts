import { randomUUID } from 'node:crypto';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import { migrateReadModels, READ_MODEL_MIGRATION_LOCK_TABLE, READ_MODEL_MIGRATION_TABLE, readModelMigrations } from './index';

// Migration 0017 as PostgreSQL enforces it, in plain SQL: what the role `fitledger_reader` sees
// under each setting, against what the tables' owner (the projections) sees.
const ORG_A = 'org-a-tenant';
const ORG_B = 'org-b-tenant';
const alice = randomUUID(); // client in A
const coach = randomUUID(); // alice's trainer in A, admin of organisation ONE
const bob = randomUUID(); // client in B, admin of organisation TWO
const carol = randomUUID(); // member of organisation TWO
const ONE = randomUUID();
const TWO = randomUUID();

interface Settings {
  readonly tenant?: string;
  readonly subject?: string;
  readonly role?: string;
}

let database: { url: string; drop(): Promise<void> };
let pool: pg.Pool;

async function asReader<T extends pg.QueryResultRow>(settings: Settings | undefined, text: string): Promise<T[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL ROLE fitledger_reader');
    if (settings) {
      await client.query(`SELECT set_config('fitledger.tenant_id', $1, true), set_config('fitledger.subject_id', $2, true), set_config('fitledger.role', $3, true)`, [
        settings.tenant ?? '',
        settings.subject ?? '',
        settings.role ?? '',
      ]);
    }
    return (await client.query<T>(text)).rows;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

const count = async (settings: Settings | undefined, table: string): Promise<number> =>
  (await asReader<{ n: number }>(settings, `SELECT count(*)::int AS n FROM ${table}${table === 'rm_exercises' ? " WHERE source = 'custom'" : ''}`))[0]?.n ?? -1;
const ownerCount = async (table: string): Promise<number> =>
  (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}${table === 'rm_exercises' ? " WHERE source = 'custom'" : ''}`)).rows[0]?.n ?? -1;

/** One row per personal table for `subject` in `tenant`, two templates, two custom exercises, two feed rows. */
async function seedPerson(tenant: string, subject: string): Promise<void> {
  const workout = randomUUID();
  const position = randomUUID().replace(/-/g, '');
  const q = (text: string, values: unknown[] = []) => pool.query(text, [tenant, subject, ...values]);
  await q(`INSERT INTO rm_workouts (workout_id, tenant_id, subject_id, status, revision, sort_at, updated_position, first_recorded_at) VALUES ($3, $1, $2, 'completed', 1, now(), '0', now())`, [workout]);
  await q(`INSERT INTO rm_workout_sets (workout_id, set_id, ordinal, exercise_id, warm_up, to_failure, tenant_id, subject_id) VALUES ($3, $4, 1, 'squat', false, false, $1, $2)`, [workout, randomUUID()]);
  await q(`INSERT INTO rm_personal_records (subject_id, exercise_id, tenant_id, updated_position, records) VALUES ($2, 'squat', $1, '0', '{}')`);
  await q(`INSERT INTO rm_body_measurements (measurement_id, tenant_id, subject_id, metric, value_si, measured_at, revision, updated_position) VALUES ($3, $1, $2, 'weight', 80, now(), 1, '0')`, [randomUUID()]);
  await q(`INSERT INTO rm_profiles (subject_id, tenant_id, revision, updated_position) VALUES ($2, $1, 1, '0')`);
  await q(`INSERT INTO rm_profile_time_zones (subject_id, position, tenant_id, effective_from, time_zone) VALUES ($2, '0', $1, now(), 'Europe/Berlin')`);
  await q(`INSERT INTO rm_plans (plan_id, tenant_id, subject_id, name, definition, revision, updated_position) VALUES ($3, $1, $2, 'Plan', '{}', 1, '0')`, [randomUUID()]);
  await q(`INSERT INTO rm_goals (goal_id, tenant_id, subject_id, target, starts_on, ends_on, status, revision, updated_position) VALUES ($3, $1, $2, '{}', '2026-01-01', '2026-02-01', 'active', 1, '0')`, [randomUUID()]);
  await q(`INSERT INTO rm_consents (consent_id, tenant_id, subject_id, purpose, confirmed, withdrawn, given_at, version, updated_position) VALUES ($3, $1, $2, 'processing', true, false, now(), 1, '0')`, [randomUUID()]);
  // An upsert (payload: the entity's row, tenant included) and a delete (no payload).
  await q(`INSERT INTO rm_feed_changes (subject_id, position, seq, kind, entity_id, op, payload) VALUES ($2, $3, 0, 'workout', $4, 'upsert', jsonb_build_object('tenant_id', $1::text, 'subject_id', $2::text))`, [position, workout]);
  await pool.query(`INSERT INTO rm_feed_changes (subject_id, position, seq, kind, entity_id, op, payload) VALUES ($1, $2, 1, 'personal_record', 'squat', 'delete', NULL)`, [subject, position]);
  // Rows as the projections write them since migrations 0019/0021: no payload, the event's tenant.
  await q(`INSERT INTO rm_feed_changes (subject_id, position, seq, kind, entity_id, op, payload, tenant_id) VALUES ($2, $3, 2, 'workout', $4, 'upsert', NULL, $1)`, [position, workout]);
  await q(`INSERT INTO rm_feed_changes (subject_id, position, seq, kind, entity_id, op, payload, tenant_id) VALUES ($2, $3, 3, 'personal_record', 'squat', 'delete', NULL, $1)`, [position]);
  for (const visibility of ['private', 'organisation']) {
    const template = randomUUID();
    await q(`INSERT INTO rm_templates (template_id, tenant_id, subject_id, visibility, name, planned_sets, version, revision, updated_position) VALUES ($3, $1, $2, $4, 'T', '[]', 1, 1, '0')`, [template, visibility]);
    await pool.query(`INSERT INTO rm_template_versions (template_id, version, name, planned_sets, visibility, recorded_at) VALUES ($1, 1, 'T', '[]', $2, now())`, [template, visibility]);
    await q(
      `INSERT INTO rm_exercises (exercise_id, source, visibility, tenant_id, subject_id, name, category, level, primary_muscles, secondary_muscles, instructions, media_links)
       VALUES ($3, 'custom', $4, $1, $2, 'Custom lift', 'strength', 'beginner', '{}', '{}', '{}', '{}')`,
      [randomUUID(), visibility],
    );
  }
}

beforeAll(async () => {
  database = await testDatabase('rls');
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await migrateReadModels(pool);
  await seedPerson(ORG_A, alice);
  await seedPerson(ORG_B, bob);
  const relationship = `INSERT INTO rm_coaching (relationship_id, tenant_id, trainer_id, client_id, status, invited_at, revision, updated_position) VALUES ($1, $2, $3, $4, 'active', now(), 1, '0')`;
  await pool.query(relationship, [randomUUID(), ORG_A, coach, alice]);
  await pool.query(relationship, [randomUUID(), ORG_B, randomUUID(), bob]);
  const grant = `INSERT INTO rm_emergency_access (grant_id, tenant_id, subject_id, opened_by, opened_at, expires_at, updated_position) VALUES ($1, $2, $3, $4, now(), now() + interval '1 hour', '0')`;
  await pool.query(grant, [randomUUID(), ORG_A, alice, coach]);
  await pool.query(grant, [randomUUID(), ORG_B, bob, randomUUID()]);
  await pool.query(`INSERT INTO rm_organisations (organisation_id, name, kind, created_at) VALUES ($1, 'One', 'gym', now()), ($2, 'Two', 'gym', now())`, [ONE, TWO]);
  await pool.query(
    `INSERT INTO rm_memberships (organisation_id, subject_id, role, status, updated_at, updated_position)
     VALUES ($1, $3, 'client', 'active', now(), '0'), ($1, $4, 'org_admin', 'active', now(), '0'), ($2, $5, 'org_admin', 'active', now(), '0'), ($2, $6, 'client', 'active', now(), '0')`,
    [ONE, TWO, alice, coach, bob, carol],
  );
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe('row-level security on the read models (migration 0017)', () => {
  const aliceOwn: Settings = { tenant: ORG_A, subject: alice, role: 'client' };
  /** A caller of organisation B whose request names alice (as a bypassed API check would). */
  const otherOrganisation: Settings = { tenant: ORG_B, subject: alice, role: 'client' };

  // Expected counts, by hand: [owner, no settings, alice's own, B's setting naming alice].
  const expected: Record<string, [owner: number, none: number, own: number, otherOrganisation: number]> = {
    rm_workouts: [2, 0, 1, 0],
    rm_workout_sets: [2, 0, 1, 0],
    rm_personal_records: [2, 0, 1, 0],
    rm_body_measurements: [2, 0, 1, 0],
    rm_profiles: [2, 0, 1, 0],
    rm_profile_time_zones: [2, 0, 1, 0],
    rm_plans: [2, 0, 1, 0],
    rm_goals: [2, 0, 1, 0],
    rm_consents: [2, 0, 1, 0],
    // Alice's old-style delete marker (an entity id, no payload, no tenant) is keyed by subject only;
    // rows with a tenant stay in it whatever their payload.
    rm_feed_changes: [8, 0, 4, 1],
    // B's organisation template is B's to share: visible in B, never alice's.
    rm_templates: [4, 0, 2, 1],
    rm_template_versions: [4, 0, 2, 1],
    rm_exercises: [4, 0, 2, 1],
    rm_coaching: [2, 0, 1, 0],
    rm_emergency_access: [2, 0, 1, 0],
    // Organisations are not tenants: a person's memberships are theirs in any organisation.
    rm_organisations: [2, 0, 1, 1],
    rm_memberships: [4, 0, 1, 1],
  };

  it('protects every read-model table with a policy for fitledger_reader only, and grants the reader nothing else', async () => {
    const { rows } = await pool.query<{ table: string; rls: boolean; forced: boolean; roles: string[] | null }>(`
      SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
             (SELECT array_agg(DISTINCT r)::text[] FROM pg_policies p, unnest(p.roles) r WHERE p.tablename = c.relname) AS roles
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'rm\\_%' AND c.relname NOT LIKE 'rm\\_migrations%'
       ORDER BY 1`);
    expect(rows.map((r) => r.table)).toEqual(Object.keys(expected).sort());
    for (const row of rows) expect(row, row.table).toEqual({ table: row.table, rls: true, forced: false, roles: ['fitledger_reader'] });
    await expect(asReader(aliceOwn, 'SELECT * FROM projection_checkpoints')).rejects.toThrow(/permission denied/);
    await expect(asReader(aliceOwn, 'SELECT * FROM rm_migrations')).rejects.toThrow(/permission denied/);
  });

  it("as fitledger_reader under another organisation's setting, no table returns that organisation's rows while the owner sees them all", async () => {
    for (const [table, [owner, none, own, other]] of Object.entries(expected)) {
      expect([table, await ownerCount(table)]).toEqual([table, owner]);
      expect([table, 'no settings', await count(undefined, table)]).toEqual([table, 'no settings', none]);
      expect([table, 'own', await count(aliceOwn, table)]).toEqual([table, 'own', own]);
      expect([table, 'other organisation', await count(otherOrganisation, table)]).toEqual([table, 'other organisation', other]);
    }
    // Every row B's setting shows is B's or keyed by subject alone: none of A's data.
    for (const table of ['rm_templates', 'rm_exercises', 'rm_coaching', 'rm_emergency_access']) {
      expect(await asReader<{ tenant_id: string }>(otherOrganisation, `SELECT tenant_id FROM ${table} WHERE tenant_id = '${ORG_A}'`)).toEqual([]);
    }
    expect(await asReader(otherOrganisation, 'SELECT op, payload FROM rm_feed_changes')).toEqual([{ op: 'delete', payload: null }]);
    // The public catalog stays public.
    expect((await asReader<{ n: number }>(undefined, `SELECT count(*)::int AS n FROM rm_exercises WHERE visibility = 'public'`))[0]?.n).toBeGreaterThan(800);
    // The exercise library's view (indexes usable) shows the reader what the policy shows, the owner everything.
    const viewCount = async (settings: Settings | undefined) => (await asReader<{ n: number }>(settings, `SELECT count(*)::int AS n FROM rm_exercises_visible WHERE source = 'custom'`))[0]?.n;
    expect([await viewCount(undefined), await viewCount(aliceOwn), await viewCount(otherOrganisation)]).toEqual([0, 2, 1]);
    expect((await asReader(otherOrganisation, `SELECT tenant_id FROM rm_exercises_visible WHERE tenant_id = '${ORG_A}'`))).toEqual([]);
    expect((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM rm_exercises_visible WHERE source = 'custom'`)).rows[0]?.n).toBe(4);
  });

  it('shows shared rows as the API does: both sides of a relationship, members to active admins, the review queue to auditors and platform admins', async () => {
    const trainer: Settings = { tenant: ORG_A, subject: coach, role: 'trainer' };
    expect(await asReader(trainer, 'SELECT client_id FROM rm_coaching')).toEqual([{ client_id: alice }]);
    expect(await asReader(aliceOwn, 'SELECT trainer_id FROM rm_coaching')).toEqual([{ trainer_id: coach }]);
    // A trainer reading a client's data (scope resolved to the client): the client's rows in the trainer's organisation.
    expect(await count({ tenant: ORG_A, subject: alice, role: 'trainer' }, 'rm_workouts')).toBe(1);
    expect(await count({ tenant: ORG_B, subject: alice, role: 'trainer' }, 'rm_workouts')).toBe(0);

    // Organisation admins list their organisation's members; a member sees only their own membership.
    const members = (settings: Settings, organisation: string) => asReader<{ subject_id: string }>(settings, `SELECT subject_id FROM rm_memberships WHERE organisation_id = '${organisation}' ORDER BY 1`);
    expect(await members(trainer, ONE)).toEqual([alice, coach].sort().map((subject_id) => ({ subject_id })));
    expect(await members(aliceOwn, ONE)).toEqual([{ subject_id: alice }]);
    expect(await members(trainer, TWO)).toEqual([]);
    expect(await members({ tenant: ORG_B, subject: bob, role: 'org_admin' }, TWO)).toEqual([bob, carol].sort().map((subject_id) => ({ subject_id })));
    expect(await asReader(aliceOwn, 'SELECT name FROM rm_organisations')).toEqual([{ name: 'One' }]);

    const queue = (settings: Settings) => asReader<{ tenant_id: string }>(settings, 'SELECT tenant_id FROM rm_emergency_access ORDER BY 1');
    expect(await queue({ tenant: ORG_A, subject: randomUUID(), role: 'auditor' })).toEqual([{ tenant_id: ORG_A }]);
    expect(await queue({ tenant: ORG_A, subject: randomUUID(), role: 'platform_admin' })).toEqual([{ tenant_id: ORG_A }, { tenant_id: ORG_B }]);
    expect(await queue({ tenant: ORG_A, subject: randomUUID(), role: 'org_admin' })).toEqual([]);
  });

  it('leaves the shared role and this database\'s policies in place when other databases migrate at once and one undoes 0017', async () => {
    const other = await testDatabase('rls_other');
    const otherPool = new pg.Pool({ connectionString: other.url, max: 2 });
    try {
      // Databases of the same server migrating at once each ask for the (cluster-wide) role.
      const third = await testDatabase('rls_third');
      const thirdPool = new pg.Pool({ connectionString: third.url, max: 2 });
      try {
        await Promise.all([migrateReadModels(otherPool), migrateReadModels(thirdPool)]);
        // Undoing 0017 in one database leaves the role to the others.
        const migrator = new Migrator({
          db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool: thirdPool }) }),
          provider: { getMigrations: () => Promise.resolve({ ...readModelMigrations }) },
          migrationTableName: READ_MODEL_MIGRATION_TABLE,
          migrationLockTableName: READ_MODEL_MIGRATION_LOCK_TABLE,
        });
        const { error, results } = await migrator.migrateTo('0016_plan_assignment');
        expect(error).toBeUndefined();
        expect(results?.map((r) => [r.migrationName, r.status])).toContainEqual(['0017_row_level_security', 'Success']);
        expect((await thirdPool.query(`SELECT relrowsecurity FROM pg_class WHERE relname = 'rm_workouts'`)).rows).toEqual([{ relrowsecurity: false }]);
      } finally {
        await thirdPool.end();
        await third.drop();
      }
    } finally {
      await otherPool.end();
      await other.drop();
    }
    expect((await pool.query(`SELECT rolname FROM pg_roles WHERE rolname = 'fitledger_reader'`)).rows).toHaveLength(1);
    expect(await count(aliceOwn, 'rm_workouts')).toBe(1);
  });
});
