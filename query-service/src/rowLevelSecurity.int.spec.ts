import { randomUUID } from 'node:crypto';
import { createTokenVerifier, type TokenVerifier } from '@fitledger/auth';
import { migrateReadModels, type ReadModelDb } from '@fitledger/projections';
import { signTestToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, inProcessChangeSource, type ReadScopeResolver } from './app';
import { inReadScope, rowSecurityPool, withReadScope } from './rowLevelSecurity';
import { openFeed } from './testing/feedClient';
import { feedPosition, insertPersonalRecord, insertSet, insertWorkout } from './testing/readModelRows';

// Row-level security on query-service's real request path: the tenant setting comes from the
// verified token, so even a policy check that resolves someone else's scope reads nothing of
// another organisation, and pooled connections never carry one request's settings into the next.
const ORG_A = 'a0000000-0000-4000-8000-00000000000a';
const ORG_B = 'b0000000-0000-4000-8000-00000000000b';
const alice = { sub: randomUUID(), tenantId: ORG_A, token: '' };
const erin = { sub: randomUUID(), tenantId: ORG_B, token: '' };
const coach = randomUUID();

let database: { url: string; drop(): Promise<void> };
/** One connection: every request reuses the connection the previous one released. */
let pool: pg.Pool;
let db: Kysely<ReadModelDb>;
let oidc: DevOidcProvider;
let verifier: TokenVerifier;
const workoutOf = new Map<string, string>();

/** Alice's scope whoever asks: an access check that lets everyone through. */
const bypassed: ReadScopeResolver = () => ({ tenantId: ORG_A, subjectId: alice.sub });

async function seed(person: { sub: string; tenantId: string }, name: string): Promise<void> {
  const workoutId = randomUUID();
  workoutOf.set(person.sub, workoutId);
  await insertWorkout(db, { workout_id: workoutId, tenant_id: person.tenantId, subject_id: person.sub, sort_at: '2026-01-05T10:00:00Z', title: `${name}'s session`, exercise_ids: ['squat'], set_count: 1 });
  await insertSet(db, { workout_id: workoutId, set_id: randomUUID(), ordinal: 1, exercise_id: 'squat', reps: 5, load_kg: 100, load_value: 100, load_unit: 'kg', tenant_id: person.tenantId, subject_id: person.sub });
  await insertPersonalRecord(db, { subject_id: person.sub, exercise_id: 'squat', tenant_id: person.tenantId, one_rm_kg: 110 });
  const p = [person.tenantId, person.sub];
  await pool.query(`INSERT INTO rm_body_measurements (measurement_id, tenant_id, subject_id, metric, value_si, measured_at, revision, updated_position) VALUES ($3, $1, $2, 'weight', 80, '2026-01-05T08:00:00Z', 1, '0')`, [...p, randomUUID()]);
  await pool.query(`INSERT INTO rm_profiles (subject_id, tenant_id, time_zone, revision, updated_position) VALUES ($2, $1, 'Europe/Berlin', 1, '0')`, p);
  await pool.query(`INSERT INTO rm_templates (template_id, tenant_id, subject_id, visibility, name, planned_sets, version, revision, updated_position) VALUES ($3, $1, $2, 'private', $4, '[]', 1, 1, '0')`, [...p, randomUUID(), `${name}'s template`]);
  await pool.query(`INSERT INTO rm_consents (consent_id, tenant_id, subject_id, purpose, confirmed, withdrawn, given_at, version, updated_position) VALUES ($3, $1, $2, 'processing', true, false, now(), 1, '0')`, [...p, randomUUID()]);
  await pool.query(`INSERT INTO rm_coaching (relationship_id, tenant_id, trainer_id, client_id, status, invited_at, revision, updated_position) VALUES ($3, $1, $4, $2, 'active', now(), 1, '0')`, [...p, randomUUID(), coach]);
  await pool.query(
    `INSERT INTO rm_exercises (exercise_id, source, visibility, tenant_id, subject_id, name, category, level, primary_muscles, secondary_muscles, instructions, media_links)
     VALUES ($3, 'custom', 'private', $1, $2, $4, 'strength', 'beginner', '{chest}', '{}', '{}', '{}')`,
    [...p, randomUUID(), `${name} Zercher Press`],
  );
  // The feed row as the workouts projection writes it: the workout's row (tenant included) and the change's sets.
  await pool.query(
    `INSERT INTO rm_feed_changes (subject_id, position, seq, kind, entity_id, op, payload)
     SELECT subject_id, $2, 0, 'workout', workout_id::text, 'upsert', to_jsonb(w) || '{"sets": [], "deletedSetIds": []}' FROM rm_workouts w WHERE workout_id = $1`,
    [workoutId, feedPosition(workoutOf.size)],
  );
}

/** What a request shows of the seeded person's data, one number (or status) per read. */
async function visible(app: FastifyInstance, token: string): Promise<Record<string, number>> {
  const get = (url: string) => app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` } });
  const items = async (url: string): Promise<number> => {
    const response = await get(url);
    expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
    return response.json<{ items: unknown[] }>().items.length;
  };
  const found = async (url: string): Promise<number> => {
    const { statusCode } = await get(url);
    expect([200, 404], url).toContain(statusCode);
    return statusCode === 200 ? 1 : 0;
  };
  const csv = await get('/exports/workouts.csv');
  expect(csv.statusCode).toBe(200);
  const exercises = await get('/exercises?q=zercher%20press');
  return {
    workouts: await items('/workouts'),
    workout: await found(`/workouts/${workoutOf.get(alice.sub) ?? ''}`),
    personalRecords: await items('/personal-records'),
    bodyMetrics: await items('/body-metrics?metric=weight'),
    profile: await found('/profile'),
    templates: await items('/templates'),
    consents: await items('/consents'),
    coaching: await items('/coaching'),
    exportRows: csv.body.trim().split('\n').length - 1,
    ownExercises: exercises.json<{ items: { source: string }[] }>().items.filter((e) => e.source === 'custom').length,
  };
}

/** The titles of the workouts a request as `person` lists. */
async function workoutTitles(app: FastifyInstance, person: { token: string }): Promise<string[]> {
  const response = await app.inject({ method: 'GET', url: '/api/v1/workouts', headers: { authorization: `Bearer ${person.token}` } });
  return response.json<{ items: { title: string }[] }>().items.map((w) => w.title);
}

const NOTHING = { workouts: 0, workout: 0, personalRecords: 0, bodyMetrics: 0, profile: 0, templates: 0, consents: 0, coaching: 0, exportRows: 0, ownExercises: 0 };
const ALICE_ROWS = { workouts: 1, workout: 1, personalRecords: 1, bodyMetrics: 1, profile: 1, templates: 1, consents: 1, coaching: 1, exportRows: 1, ownExercises: 1 };

beforeAll(async () => {
  database = await testDatabase('qs_rls');
  pool = new pg.Pool({ connectionString: database.url, max: 1 });
  await migrateReadModels(pool);
  db = new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool }) });
  oidc = await startDevOidcProvider();
  verifier = createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience });
  for (const person of [alice, erin]) person.token = await signTestToken({ ...oidc.accessTokenClaims('alice'), sub: person.sub, tenant_id: person.tenantId }, { privateKey: oidc.signingKey });
  await seed(alice, 'Alice');
  await seed(erin, 'Erin');
});

afterAll(async () => {
  await db?.destroy();
  await oidc?.close();
  await database?.drop();
});

describe('row-level security on the query path', () => {
  it("a query run under another organisation's setting returns nothing even with the API check bypassed", async () => {
    const app = buildApp({ db: pool, verifier, changeSource: inProcessChangeSource(), resolveScope: bypassed });
    try {
      // Positive control: alice herself reads her rows through the same app.
      expect(await visible(app, alice.token)).toEqual(ALICE_ROWS);
      // Erin (organisation B) is resolved to alice's scope, but her token's tenant stays B.
      expect(await visible(app, erin.token)).toEqual(NOTHING);
    } finally {
      await app.close();
    }
    // Without the wall (the owner's connections), the same bypass would hand erin alice's data.
    const unguarded = buildApp({ db, verifier, changeSource: inProcessChangeSource(), resolveScope: bypassed });
    try {
      expect((await visible(unguarded, erin.token)).workouts).toBe(1);
    } finally {
      await unguarded.close();
    }
  });

  it("keeps the live feed of a bypassed scope empty: pages are read under the token's tenant", async () => {
    const app = buildApp({ db: pool, verifier, changeSource: inProcessChangeSource(), resolveScope: bypassed });
    const url = `${(await app.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws')}/api/v1/feed`;
    try {
      const own = await openFeed(url, { token: alice.token });
      expect((await own.next()).entityId).toBe(workoutOf.get(alice.sub));
      await own.close();
      const other = await openFeed(url, { token: erin.token });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(other.pending).toEqual([]);
      await other.close();
    } finally {
      await app.close();
    }
  });

  it("never carries one request's settings into the next on a pooled connection", async () => {
    const app = buildApp({ db: pool, verifier, changeSource: inProcessChangeSource() });
    try {
      const titles = (person: typeof alice) => workoutTitles(app, person);
      // Alternating callers on one connection, in sequence and all at once.
      for (let i = 0; i < 4; i++) {
        expect(await titles(alice)).toEqual(["Alice's session"]);
        expect(await titles(erin)).toEqual(["Erin's session"]);
      }
      const concurrent = await Promise.all(Array.from({ length: 12 }, (_, i) => titles(i % 2 === 0 ? alice : erin)));
      expect(concurrent).toEqual(Array.from({ length: 12 }, (_, i) => [i % 2 === 0 ? "Alice's session" : "Erin's session"]));
    } finally {
      await app.close();
    }
    // Back in the pool the connection is the owner's again, with no settings.
    const { rows } = await pool.query<{ user: string; tenant: string | null; subject: string | null; role: string | null }>(
      `SELECT current_user AS user, current_setting('fitledger.tenant_id', true) AS tenant, current_setting('fitledger.subject_id', true) AS subject, current_setting('fitledger.role', true) AS role`,
    );
    expect(rows.map((r) => ({ ...r, tenant: r.tenant || null, subject: r.subject || null, role: r.role || null }))).toEqual([{ user: 'postgres', tenant: null, subject: null, role: null }]);
  });

  it('reads nothing personal outside a request and a scope (fails closed); withReadScope reads as the given scope', async () => {
    const outside = await rowSecurityPool(pool).connect();
    try {
      expect((await outside.query<{ user: string; n: number }>('SELECT current_user AS user, (SELECT count(*)::int FROM rm_workouts) AS n')).rows).toEqual([{ user: 'fitledger_reader', n: 0 }]);
    } finally {
      outside.release();
    }
    const ids = await withReadScope(pool, { tenantId: ORG_A, subjectId: alice.sub }, async (client) => (await client.query<{ workout_id: string }>('SELECT workout_id FROM rm_workouts')).rows);
    expect(ids).toEqual([{ workout_id: workoutOf.get(alice.sub) }]);
    expect(await withReadScope(pool, { tenantId: ORG_B, subjectId: alice.sub }, async (client) => (await client.query<{ workout_id: string }>('SELECT workout_id FROM rm_workouts')).rows)).toEqual([]);
  });

  describe("query-service's own read pool (dedicated: connections stay in the reader role)", () => {
    /** One connection used by nothing but the read models, as startQueryService gives it. */
    let readPool: pg.Pool;
    beforeAll(() => {
      readPool = new pg.Pool({ connectionString: database.url, max: 1 });
    });
    afterAll(async () => {
      await readPool?.end();
    });

    it('gives every request exactly its own settings on the one connection, alternating and concurrent, and a bypassed scope still reads nothing', async () => {
      const app = buildApp({ db: readPool, dedicatedReadPool: true, verifier, changeSource: inProcessChangeSource() });
      const bypassedApp = buildApp({ db: readPool, dedicatedReadPool: true, verifier, changeSource: inProcessChangeSource(), resolveScope: bypassed });
      try {
        const titles = (person: typeof alice) => workoutTitles(app, person);
        for (let i = 0; i < 4; i++) {
          // The same caller twice in a row (settings kept), then the other (settings replaced).
          expect(await titles(alice)).toEqual(["Alice's session"]);
          expect(await titles(alice)).toEqual(["Alice's session"]);
          expect(await titles(erin)).toEqual(["Erin's session"]);
        }
        const concurrent = await Promise.all(Array.from({ length: 12 }, (_, i) => titles(i % 3 === 0 ? erin : alice)));
        expect(concurrent).toEqual(Array.from({ length: 12 }, (_, i) => [i % 3 === 0 ? "Erin's session" : "Alice's session"]));
        // Right after alice's reads on this connection: erin resolved to alice's scope keeps her own tenant.
        expect(await titles(alice)).toEqual(["Alice's session"]);
        expect(await visible(bypassedApp, erin.token)).toEqual(NOTHING);
        expect(await visible(app, alice.token)).toEqual(ALICE_ROWS);
      } finally {
        await app.close();
        await bypassedApp.close();
      }
    });

    it("keeps the reader role between checkouts, yet a checkout outside any request after alice's reads sees nothing", async () => {
      const app = buildApp({ db: readPool, dedicatedReadPool: true, verifier, changeSource: inProcessChangeSource() });
      try {
        const response = await app.inject({ method: 'GET', url: '/api/v1/workouts', headers: { authorization: `Bearer ${alice.token}` } });
        expect(response.json<{ items: unknown[] }>().items).toHaveLength(1);
      } finally {
        await app.close();
      }
      // The raw connection was not reset: still the reader, still alice's settings...
      const raw = await readPool.connect();
      try {
        const { rows } = await raw.query<{ user: string; subject: string }>(`SELECT current_user AS user, current_setting('fitledger.subject_id', true) AS subject`);
        expect(rows).toEqual([{ user: 'fitledger_reader', subject: alice.sub }]);
      } finally {
        raw.release();
      }
      // ...which is why only rowSecurityPool may hand it out: outside a request it applies "no access".
      const outside = await rowSecurityPool(readPool, { dedicated: true }).connect();
      try {
        expect((await outside.query<{ n: number }>('SELECT count(*)::int AS n FROM rm_workouts')).rows).toEqual([{ n: 0 }]);
      } finally {
        outside.release();
      }
      // A connection given back inside a transaction (a later ROLLBACK could undo its settings) is destroyed, never reused.
      const leftOpen = await readPool.connect();
      await leftOpen.query('BEGIN');
      leftOpen.release();
      await expect(rowSecurityPool(readPool, { dedicated: true }).connect()).rejects.toThrow(/inside a transaction/);
      const fresh = await inReadScope({ tenantId: ORG_A, subjectId: alice.sub, role: 'client' }, () => rowSecurityPool(readPool, { dedicated: true }).connect());
      try {
        expect((await fresh.query<{ n: number; tx: string }>(`SELECT count(*)::int AS n, current_setting('fitledger.subject_id') AS tx FROM rm_workouts`)).rows).toEqual([{ n: 1, tx: alice.sub }]);
      } finally {
        fresh.release();
      }
      const inScope = await withReadScope(pool, { tenantId: ORG_B, subjectId: erin.sub }, async (client) => (await client.query<{ workout_id: string }>('SELECT workout_id FROM rm_workouts')).rows);
      expect(inScope).toEqual([{ workout_id: workoutOf.get(erin.sub) }]);
    });
  });
});
