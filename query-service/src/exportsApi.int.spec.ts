import { createTokenVerifier } from '@fitledger/auth';
import { migrateReadModels, type ReadModelDb, type RmWorkoutSetsTable } from '@fitledger/projections';
import { getDevToken, signTestToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect, type Insertable, type KyselyPlugin } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, inProcessChangeSource } from './app';
import { insertSet, insertWorkout } from './testing/readModelRows';

const TENANT = '3f1e2d4c-5b6a-4798-8c0b-1a2b3c4d5e6f';
const OTHER_TENANT = 'aaaaaaaa-0000-4000-8000-000000000000';
const POSITION = '0'.repeat(32);

// Exact definitions (NIST SP 811): 1 lb = 0.45359237 kg, 1 mi = 1609.344 m, 1 in = 2.54 cm, 1 US fl oz = 29.5735295625 ml.
const KG_PER_LB = 0.45359237;
const M_PER_MI = 1609.344;
const CM_PER_IN = 2.54;
const ML_PER_FL_OZ = 29.5735295625;
/** What the export promises: at most 3 decimal places. */
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

const WORKOUT_HEADER = 'workout_id,title,status,planned_for,started_at,completed_at,perceived_exertion,set_id,exercise_id,occurred_at,reps,load,load_unit,duration_s,distance,distance_unit,rpe,warm_up,failure,notes';
const BODY_HEADER = 'measurement_id,metric,site,measured_at,value,unit,entered_value,entered_unit,systolic_mmhg,diastolic_mmhg,note';

type Row = Record<string, string>;

let database: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let db: Kysely<ReadModelDb>;
let oidc: DevOidcProvider;
let app: FastifyInstance;
/** Imperial units (profile row). */
let alice: { sub: string; token: string };
/** No profile: metric defaults. */
let bob: { sub: string; token: string };
/** 2,500 sets, for the batching test. */
let bulk: { sub: string; token: string };
/** The bulk subject's `workout_id/set_id` in export order. */
let bulkExpected: string[] = [];

function uuid(n: number, prefix = '00000000'): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

const A1 = uuid(1, 'a11ce000');
const A2 = uuid(2, 'a11ce000');
const A3 = uuid(3, 'a11ce000');
const B1 = uuid(1, 'b0b00000');

async function get(url: string, token: string | undefined): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const response = await app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.statusCode, body: response.body, headers: response.headers };
}

async function csv(url: string, token: string): Promise<Row[]> {
  const response = await get(url, token);
  expect(response.status, response.body).toBe(200);
  return parse<Row>(response.body, { columns: true });
}

async function insertMeasurement(row: { measurement_id: string; subject_id: string; metric: string; value_si: number; measured_at: string } & Partial<Record<'site' | 'entered_unit' | 'note', string> & Record<'entered_value' | 'systolic_mmhg' | 'diastolic_mmhg', number>>, tenantId = TENANT): Promise<void> {
  await db.insertInto('rm_body_measurements').values({ tenant_id: tenantId, revision: 1, updated_position: POSITION, ...row }).execute();
}

/** 60 workouts of the bulk subject: 50 with 50 sets each (2,500), 10 without sets; answers the expected `workout_id/set_id` in export order. */
async function seedBulk(): Promise<string[]> {
  const expected: { workoutId: string; setId: string; sortAt: string; ordinal: number }[] = [];
  const sets: Insertable<RmWorkoutSetsTable>[] = [];
  for (let w = 0; w < 60; w++) {
    const workoutId = uuid(w + 1, 'b01c0000');
    // Four workouts a day: two pairs a microsecond apart, each pair on the same instant (ties by workout id).
    const sortAt = `2024-04-${String(1 + Math.floor(w / 4)).padStart(2, '0')}T10:00:00.${w % 4 < 2 ? '000002' : '000001'}Z`;
    await insertWorkout(db, { tenant_id: TENANT, subject_id: bulk.sub, workout_id: workoutId, sort_at: sortAt, started_at: sortAt, title: `W${w}` });
    // The first 20 workouts in export order (days 1 to 5) fill the first batch exactly.
    if (w >= 20 && w % 4 === 3) {
      expected.push({ workoutId, setId: '', sortAt, ordinal: -1 });
      continue;
    }
    for (let s = 0; s < 50; s++) {
      // Two sets per ordinal: ties by set id.
      const setId = uuid(w * 100 + s + 1, '5e7b0000');
      const ordinal = Math.floor((49 - s) / 2);
      sets.push({ tenant_id: TENANT, subject_id: bulk.sub, workout_id: workoutId, set_id: setId, ordinal, exercise_id: 'squat', reps: 5, load_kg: String(100 + s), warm_up: false, to_failure: false });
      expected.push({ workoutId, setId, sortAt, ordinal });
    }
  }
  for (let i = 0; i < sets.length; i += 500) await db.insertInto('rm_workout_sets').values(sets.slice(i, i + 500)).execute();
  expected.sort((a, b) => (a.sortAt !== b.sortAt ? (a.sortAt < b.sortAt ? -1 : 1) : a.workoutId !== b.workoutId ? (a.workoutId < b.workoutId ? -1 : 1) : a.ordinal !== b.ordinal ? a.ordinal - b.ordinal : a.setId < b.setId ? -1 : 1));
  return expected.map((e) => `${e.workoutId}/${e.setId}`);
}

beforeAll(async () => {
  database = await testDatabase('qs_exports');
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await migrateReadModels(pool);
  db = new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool }) });
  oidc = await startDevOidcProvider();
  alice = { sub: oidc.users.alice.sub, token: await getDevToken(oidc.issuer, 'alice') };
  bob = { sub: oidc.users.bob.sub, token: await getDevToken(oidc.issuer, 'bob') };
  const bulkSub = 'b01c0000-0000-4000-8000-000000000001';
  bulk = { sub: bulkSub, token: await signTestToken({ ...oidc.accessTokenClaims('alice'), sub: bulkSub }, { privateKey: oidc.signingKey }) };
  app = buildApp({ db: pool, verifier: createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience }), changeSource: inProcessChangeSource() });
  await app.ready();

  await db
    .insertInto('rm_profiles')
    .values({ subject_id: alice.sub, tenant_id: TENANT, mass_unit: 'lb', length_unit: 'in', distance_unit: 'mi', volume_unit: 'fl_oz', revision: 1, updated_position: POSITION })
    .execute();

  const own = { tenant_id: TENANT, subject_id: alice.sub };
  await insertWorkout(db, { ...own, workout_id: A1, title: 'Push day', status: 'completed', started_at: '2024-03-01T10:00:00Z', completed_at: '2024-03-01T11:00:00Z', sort_at: '2024-03-01T10:00:00Z', perceived_exertion: '7.5' });
  // Inserted out of order: the export orders by ordinal.
  await insertSet(db, { ...own, workout_id: A1, set_id: uuid(12, '5e700000'), ordinal: 2, exercise_id: 'bench', reps: 8, load_value: 102.5, load_unit: 'lb', load_kg: '46.493217925', rpe: '8.5', to_failure: true, notes: 'felt "strong", then\nnot' });
  await insertSet(db, { ...own, workout_id: A1, set_id: uuid(11, '5e700000'), ordinal: 1, exercise_id: 'bench', reps: 5, load_value: 100, load_unit: 'kg', load_kg: '100', rpe: '8', occurred_at: '2024-03-01T10:05:00Z', notes: '=HYPERLINK("http://evil.example","click")' });
  await insertSet(db, { ...own, workout_id: A1, set_id: uuid(10, '5e700000'), ordinal: 0, exercise_id: 'bench', reps: 10, load_kg: '60', warm_up: true });
  await insertWorkout(db, { ...own, workout_id: A2, title: "=cmd|' /C calc'!A0", status: 'completed', started_at: '2024-03-03T07:00:00Z', sort_at: '2024-03-03T07:00:00Z' });
  await insertSet(db, { ...own, workout_id: A2, set_id: uuid(20, '5e700000'), ordinal: 0, exercise_id: 'run', duration_s: '1500.5', distance_value: 5, distance_unit: 'km', distance_m: '5000' });
  await insertWorkout(db, { ...own, workout_id: A3, title: 'Leg day', status: 'planned', planned_for: '2024-03-05T09:00:00Z', sort_at: '2024-03-05T09:00:00Z' });
  // Alice's subject id under another tenant: not hers in this tenant's context.
  await insertWorkout(db, { tenant_id: OTHER_TENANT, subject_id: alice.sub, workout_id: uuid(9, '07e40000'), title: 'elsewhere', sort_at: '2024-03-02T10:00:00Z' });
  await insertSet(db, { tenant_id: OTHER_TENANT, subject_id: alice.sub, workout_id: uuid(9, '07e40000'), set_id: uuid(90, '5e700000'), ordinal: 0, exercise_id: 'bench', load_kg: '10' });

  await insertWorkout(db, { tenant_id: TENANT, subject_id: bob.sub, workout_id: B1, title: 'Bob lifts', started_at: '2024-03-02T10:00:00Z', sort_at: '2024-03-02T10:00:00Z' });
  await insertSet(db, { tenant_id: TENANT, subject_id: bob.sub, workout_id: B1, set_id: uuid(30, '5e700000'), ordinal: 0, exercise_id: 'bench', reps: 5, load_kg: '100', distance_m: '5000' });

  await insertMeasurement({ subject_id: alice.sub, measurement_id: uuid(1, 'a11ceb0d'), metric: 'weight', value_si: 81.5, entered_value: 81.5, entered_unit: 'kg', measured_at: '2024-03-01T07:00:00Z', note: '+1 kg after holidays' });
  await insertMeasurement({ subject_id: alice.sub, measurement_id: uuid(2, 'a11ceb0d'), metric: 'circumference', site: 'waist', value_si: 0.84, entered_value: 84, entered_unit: 'cm', measured_at: '2024-03-02T07:00:00Z' });
  await insertMeasurement({ subject_id: alice.sub, measurement_id: uuid(3, 'a11ceb0d'), metric: 'hydration', value_si: 0.5, entered_value: 500, entered_unit: 'ml', measured_at: '2024-03-03T07:00:00Z' });
  await insertMeasurement({ subject_id: alice.sub, measurement_id: uuid(4, 'a11ceb0d'), metric: 'blood_pressure', value_si: 120, systolic_mmhg: 120, diastolic_mmhg: 80, measured_at: '2024-03-04T07:00:00Z' });
  await insertMeasurement({ subject_id: alice.sub, measurement_id: uuid(5, 'a11ceb0d'), metric: 'body_fat', value_si: 18.25, measured_at: '2024-03-05T07:00:00Z', note: '-ish' });
  await insertMeasurement({ subject_id: alice.sub, measurement_id: uuid(9, '07e4b0d0'), metric: 'weight', value_si: 50, measured_at: '2024-03-01T08:00:00Z' }, OTHER_TENANT);
  await insertMeasurement({ subject_id: bob.sub, measurement_id: uuid(1, 'b0b0b0d0'), metric: 'weight', value_si: 80, entered_value: 80, entered_unit: 'kg', measured_at: '2024-03-01T07:00:00Z' });
  bulkExpected = await seedBulk();
  await insertMeasurement({ subject_id: bob.sub, measurement_id: uuid(2, 'b0b0b0d0'), metric: 'circumference', site: 'waist', value_si: 0.84, entered_value: 84, entered_unit: 'cm', measured_at: '2024-03-02T07:00:00Z' });
});

afterAll(async () => {
  await app?.close();
  await db?.destroy();
  await oidc?.close();
  await database?.drop();
});

describe('GET /api/v1/exports/workouts.csv', () => {
  it('streams a CSV attachment, private to the caller, with the documented header row and CRLF line ends', async () => {
    const response = await get('/api/v1/exports/workouts.csv', alice.token);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe('attachment; filename="fitledger-workouts.csv"');
    expect(response.headers['cache-control']).toBe('private, no-cache');
    expect(response.headers['vary']).toBe('authorization');
    expect(response.body.split('\r\n')[0]).toBe(WORKOUT_HEADER);
  });

  it("gives an imperial user's loads in lb and distances in mi (rounded to 3 places), one row per set in order, a workout without sets once", async () => {
    const rows = await csv('/api/v1/exports/workouts.csv', alice.token);
    expect(rows.map((r) => [r['workout_id'], r['set_id']])).toEqual([
      [A1, uuid(10, '5e700000')],
      [A1, uuid(11, '5e700000')],
      [A1, uuid(12, '5e700000')],
      [A2, uuid(20, '5e700000')],
      [A3, ''],
    ]);
    expect(rows[0]).toMatchObject({ title: 'Push day', status: 'completed', started_at: '2024-03-01T10:00:00.000Z', completed_at: '2024-03-01T11:00:00.000Z', planned_for: '', perceived_exertion: '7.5' });
    expect(rows[0]).toMatchObject({ exercise_id: 'bench', reps: '10', load: String(round3(60 / KG_PER_LB)), load_unit: 'lb', distance: '', distance_unit: '', warm_up: 'true', failure: 'false' });
    expect(rows[1]).toMatchObject({ load: String(round3(100 / KG_PER_LB)), load_unit: 'lb', rpe: '8', occurred_at: '2024-03-01T10:05:00.000Z' });
    expect(rows[1]?.['load']).toBe('220.462');
    // Entered as 102.5 lb: canonical kg and back gives the entered value again.
    expect(rows[2]).toMatchObject({ load: '102.5', load_unit: 'lb', rpe: '8.5', failure: 'true', notes: 'felt "strong", then\nnot' });
    expect(rows[3]).toMatchObject({ load: '', load_unit: '', duration_s: '1500.5', distance: String(round3(5000 / M_PER_MI)), distance_unit: 'mi' });
    expect(rows[3]?.['distance']).toBe('3.107');
    expect(rows[4]).toMatchObject({ title: 'Leg day', status: 'planned', planned_for: '2024-03-05T09:00:00.000Z', set_id: '', exercise_id: '', load: '', warm_up: '', failure: '', notes: '' });
  });

  it("gives a metric user's loads in kg and distances in km", async () => {
    const rows = await csv('/api/v1/exports/workouts.csv', bob.token);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ workout_id: B1, load: '100', load_unit: 'kg', distance: '5', distance_unit: 'km' });
  });

  it("never contains another subject's rows, nor the caller's subject id under another tenant", async () => {
    const alices = await csv('/api/v1/exports/workouts.csv', alice.token);
    expect(new Set(alices.map((r) => r['workout_id']))).toEqual(new Set([A1, A2, A3]));
    const bobs = await csv('/api/v1/exports/workouts.csv', bob.token);
    expect(bobs.map((r) => r['workout_id'])).toEqual([B1]);
  });

  it('filters on the workout date, from inclusive and to exclusive', async () => {
    const rows = await csv('/api/v1/exports/workouts.csv?from=2024-03-03T07:00:00Z&to=2024-03-05T09:00:00Z', alice.token);
    expect(rows.map((r) => r['workout_id'])).toEqual([A2]);
    const open = await csv('/api/v1/exports/workouts.csv?from=2024-03-02T00:00:00Z', alice.token);
    expect(open.map((r) => r['workout_id'])).toEqual([A2, A3]);
    const empty = await get('/api/v1/exports/workouts.csv?to=2024-01-01T00:00:00Z', alice.token);
    expect(empty.status).toBe(200);
    expect(empty.body).toBe(`${WORKOUT_HEADER}\r\n`);
  });

  it('neutralises formulas in titles and notes with a leading quote', async () => {
    const rows = await csv('/api/v1/exports/workouts.csv', alice.token);
    expect(rows[1]?.['notes']).toBe('\'=HYPERLINK("http://evil.example","click")');
    expect(rows[3]?.['title']).toBe("'=cmd|' /C calc'!A0");
  });

  it('reads in batches: 2,500 sets (and workouts without sets between them) come out each once, in order', async () => {
    const rows = await csv('/api/v1/exports/workouts.csv', bulk.token);
    expect(rows).toHaveLength(2_510);
    expect(rows.map((r) => `${r['workout_id']}/${r['set_id']}`)).toEqual(bulkExpected);
    expect(rows.every((r) => r['set_id'] === '' || r['load_unit'] === 'kg')).toBe(true);
  });
});

describe('GET /api/v1/exports/body-metrics.csv', () => {
  it('streams a CSV attachment with the documented header row, oldest first', async () => {
    const response = await get('/api/v1/exports/body-metrics.csv', alice.token);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe('attachment; filename="fitledger-body-metrics.csv"');
    expect(response.headers['cache-control']).toBe('private, no-cache');
    expect(response.body.split('\r\n')[0]).toBe(BODY_HEADER);
    const rows = parse<Row>(response.body, { columns: true });
    expect(rows.map((r) => r['measurement_id'])).toEqual([1, 2, 3, 4, 5].map((n) => uuid(n, 'a11ceb0d')));
  });

  it("gives an imperial user's weight in lb, circumference in in and hydration in fl_oz, keeping what was entered", async () => {
    const rows = await csv('/api/v1/exports/body-metrics.csv', alice.token);
    expect(rows[0]).toMatchObject({ metric: 'weight', value: String(round3(81.5 / KG_PER_LB)), unit: 'lb', entered_value: '81.5', entered_unit: 'kg', measured_at: '2024-03-01T07:00:00.000Z' });
    expect(rows[0]?.['value']).toBe('179.677');
    expect(rows[1]).toMatchObject({ metric: 'circumference', site: 'waist', value: String(round3(84 / CM_PER_IN)), unit: 'in', entered_value: '84', entered_unit: 'cm' });
    expect(rows[1]?.['value']).toBe('33.071');
    expect(rows[2]).toMatchObject({ metric: 'hydration', value: String(round3(500 / ML_PER_FL_OZ)), unit: 'fl_oz' });
    expect(rows[3]).toMatchObject({ metric: 'blood_pressure', value: '120', unit: 'mmHg', systolic_mmhg: '120', diastolic_mmhg: '80', entered_value: '', entered_unit: '' });
    expect(rows[4]).toMatchObject({ metric: 'body_fat', value: '18.25', unit: '%' });
  });

  it("gives a metric user's weight in kg and circumference in cm, and none of anyone else's rows", async () => {
    const rows = await csv('/api/v1/exports/body-metrics.csv', bob.token);
    expect(rows.map((r) => [r['measurement_id'], r['value'], r['unit']])).toEqual([
      [uuid(1, 'b0b0b0d0'), '80', 'kg'],
      [uuid(2, 'b0b0b0d0'), '84', 'cm'],
    ]);
    const alices = await csv('/api/v1/exports/body-metrics.csv', alice.token);
    expect(alices.every((r) => r['measurement_id']?.startsWith('a11ceb0d'))).toBe(true);
  });

  it('filters by metric and by measured_at, from inclusive and to exclusive', async () => {
    const weights = await csv('/api/v1/exports/body-metrics.csv?metric=weight', alice.token);
    expect(weights.map((r) => r['measurement_id'])).toEqual([uuid(1, 'a11ceb0d')]);
    const ranged = await csv('/api/v1/exports/body-metrics.csv?from=2024-03-02T07:00:00Z&to=2024-03-04T07:00:00Z', alice.token);
    expect(ranged.map((r) => r['metric'])).toEqual(['circumference', 'hydration']);
  });

  it('neutralises formulas in notes with a leading quote', async () => {
    const rows = await csv('/api/v1/exports/body-metrics.csv', alice.token);
    expect(rows[0]?.['note']).toBe("'+1 kg after holidays");
    expect(rows[4]?.['note']).toBe("'-ish");
  });
});

describe('errors', () => {
  const routes = ['/api/v1/exports/workouts.csv', '/api/v1/exports/body-metrics.csv'];

  it.each(routes)('GET %s answers 401 without a token, 200 with one', async (route) => {
    const none = await get(route, undefined);
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect((await get(route, alice.token)).status).toBe(200);
  });

  it.each([
    ['/api/v1/exports/workouts.csv?from=yesterday', '/querystring/from'],
    ['/api/v1/exports/workouts.csv?to=2024-13-01T00:00:00Z', '/querystring/to'],
    ['/api/v1/exports/workouts.csv?format=xlsx', '/querystring/format'],
    ['/api/v1/exports/workouts.csv?from=2024-03-05T00:00:00Z&to=2024-03-01T00:00:00Z', '/querystring/from'],
    ['/api/v1/exports/body-metrics.csv?from=2024-03-01', '/querystring/from'],
    ['/api/v1/exports/body-metrics.csv?metric=mood', '/querystring/metric'],
    ['/api/v1/exports/body-metrics.csv?site=waist', '/querystring/site'],
  ])('GET %s answers 400 problem+json naming %s', async (url, field) => {
    const response = await get(url, alice.token);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const problem = JSON.parse(response.body) as { code: string; errors: { field: string }[] };
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors[0]?.field).toBe(field);
  });

  it('truncates the response when the database fails mid-export, and logs it without row data', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    );
    // Executed queries: the unit preferences, the first batch (1,000 rows), then the second batch
    // fails with PHI in its message (as a constraint error can quote values).
    let queries = 0;
    const failThird: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult(args) {
        queries += 1;
        return queries === 3 ? Promise.reject(new Error('Key (notes)=(secret PHI) violates something')) : Promise.resolve(args.result);
      },
    };
    const failing = buildApp({ db: db.withPlugin(failThird), verifier: createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience }), changeSource: inProcessChangeSource(), logger });
    try {
      await failing.ready();
      // The status and the first 1,000 rows went out; then the client sees the connection dropped, not an end.
      const request = failing.inject({ method: 'GET', url: '/api/v1/exports/workouts.csv', headers: { authorization: `Bearer ${bulk.token}` } });
      await expect(request).rejects.toThrow('response destroyed before completion');
      expect(queries).toBe(3);
      const log = lines.join('');
      expect(log).toContain('export failed; response truncated');
      expect(log).not.toContain('secret PHI');
    } finally {
      await failing.close();
    }
  });

  it('documents both exports in the OpenAPI document as text/csv', async () => {
    const response = await get('/openapi.json', undefined);
    const paths = (JSON.parse(response.body) as { paths: Record<string, { get: { tags: string[]; responses: Record<string, { content?: Record<string, unknown> }> } }> }).paths;
    for (const route of routes) {
      expect(paths[route]?.get.tags).toEqual(['exports']);
      expect(Object.keys(paths[route]?.get.responses['200']?.content ?? {})).toEqual(['text/csv']);
      expect(Object.keys(paths[route]?.get.responses ?? {})).toEqual(expect.arrayContaining(['400', '401', '403']));
    }
  });
});
