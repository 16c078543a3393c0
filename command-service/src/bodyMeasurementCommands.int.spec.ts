import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';
import { PROBLEM_JSON, routeValidationSuite, type RouteCase } from './testing/routeValidationSuite';

const weight = { metric: 'weight', weight: { value: 81.5, unit: 'kg' } };
const bp = { metric: 'blood_pressure', systolicMmHg: 121, diastolicMmHg: 79 };

const MASS_ASSIGNMENT = {
  subjectId: '5d2e9c71-3a48-4f6b-8e0d-7c9b1a2f3e84',
  tenantId: '00000000-0000-4000-8000-000000000000',
  role: 'platform_admin',
  actor: { sub: 'someone', role: 'platform_admin' },
  weightKg: 80,
};

const routes: readonly RouteCase<string>[] = [
  {
    name: 'POST /body-metrics',
    method: 'POST',
    url: () => '/api/v1/body-metrics',
    valid: { measurement: bp, measuredAt: '2026-03-03T06:45:00.000Z', note: 'seated' },
    wrongTypes: [
      ['/body/measurement/systolicMmHg', { measurement: { ...bp, systolicMmHg: '121' } }],
      ['/body/measurement/weight/value', { measurement: { metric: 'weight', weight: { value: '80', unit: 'kg' } } }],
      ['/body/measuredAt', { measurement: bp, measuredAt: 1_700_000_000 }],
      ['/body/measurement', { measurement: [bp] }],
    ],
    outOfRange: [
      ['/body/measurement/metric', { measurement: { metric: 'mood', score: 3 } }],
      ['/body/measurement/systolicMmHg', { measurement: { ...bp, systolicMmHg: 400 } }],
      ['/body/measurement/heartRateBpm', { measurement: { metric: 'resting_heart_rate', heartRateBpm: 60.5 } }],
      ['/body/measurement/bodyFatPercent', { measurement: { metric: 'body_fat', bodyFatPercent: 90 } }],
      ['/body/measurement/site', { measurement: { metric: 'circumference', site: 'ear', circumference: { value: 30, unit: 'cm' } } }],
      ['/body/measurement/weight/unit', { measurement: { metric: 'weight', weight: { value: 12, unit: 'stone' } } }],
      ['/body/measurement/weight/value', { measurement: { metric: 'weight', weight: { value: -1, unit: 'kg' } } }],
      // Another metric's field under this metric is unknown.
      ['/body/measurement/bodyFatPercent', { measurement: { ...weight, bodyFatPercent: 20 } }],
      ['/body/measurement/weight', { measurement: { metric: 'weight' } }],
      ['/body/measurementId', { measurementId: 'scale-1', measurement: bp }],
      ['/body/note', { measurement: bp, note: 'x'.repeat(2001) }],
    ],
  },
  {
    name: 'PUT /body-metrics/{id}',
    method: 'PUT',
    url: (id) => `/api/v1/body-metrics/${id}`,
    badPath: { url: '/api/v1/body-metrics/yesterday', field: '/params/measurementId' },
    valid: { measurement: { ...weight, weight: { value: 81, unit: 'kg' } }, reason: 'scale recalibrated' },
    wrongTypes: [['/body/reason', { measurement: weight, reason: 7 }]],
    outOfRange: [
      ['/body/reason', { measurement: weight, reason: 'x'.repeat(501) }],
      ['/body/measurement/durationS', { measurement: { metric: 'sleep_duration', durationS: 90_000 } }],
    ],
  },
  {
    name: 'DELETE /body-metrics/{id}',
    method: 'DELETE',
    url: (id) => `/api/v1/body-metrics/${id}`,
    badPath: { url: '/api/v1/body-metrics/yesterday', field: '/params/measurementId' },
    valid: { reason: 'measured someone else' },
    wrongTypes: [['/body/reason', { reason: false }]],
    outOfRange: [['/body/reason', { reason: 'x'.repeat(501) }]],
  },
];

describe('body measurement commands (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_body');
  });
  afterAll(async () => {
    await env?.close();
  });

  async function record(body: object, token = env.tokens.alice) {
    return env.inject('POST', '/api/v1/body-metrics', { token, body });
  }

  async function fresh(): Promise<string> {
    const response = await record({ measurement: weight, measuredAt: '2026-03-03T06:30:00.000Z' });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ measurementId: string }>().measurementId;
  }

  describe('bad input on every route', () => {
    routeValidationSuite({ env: () => env, fresh, routes, massAssignment: MASS_ASSIGNMENT, fuzzRuns: 40 });
  });

  it('records, corrects and deletes with revisions as ETags; Location names the measurement', async () => {
    const created = await record({ measurement: bp });
    expect(created.statusCode).toBe(201);
    const { measurementId, revision } = created.json<{ measurementId: string; revision: number }>();
    expect(revision).toBe(0);
    expect(created.headers.etag).toBe('"0"');
    expect(created.headers.location).toBe(`/api/v1/body-metrics/${measurementId}`);

    const corrected = await env.inject('PUT', `/api/v1/body-metrics/${measurementId}`, { token: env.tokens.alice, body: { measurement: { ...bp, systolicMmHg: 125 } }, headers: { 'if-match': '"0"' } });
    expect(corrected.statusCode, corrected.body).toBe(200);
    expect(corrected.json()).toMatchObject({ measurementId, revision: 1 });

    const stale = await env.inject('PUT', `/api/v1/body-metrics/${measurementId}`, { token: env.tokens.alice, body: { measurement: { ...bp, systolicMmHg: 126 } }, headers: { 'if-match': '"0"' } });
    expect(stale.statusCode).toBe(412);
    expect(stale.headers['content-type']).toMatch(PROBLEM_JSON);

    const deleted = await env.inject('DELETE', `/api/v1/body-metrics/${measurementId}`, { token: env.tokens.alice });
    expect(deleted.json()).toMatchObject({ measurementId, revision: 2 });
    // Deleting again changes nothing; correcting a deleted measurement is refused.
    expect((await env.inject('DELETE', `/api/v1/body-metrics/${measurementId}`, { token: env.tokens.alice })).json()).toMatchObject({ revision: 2 });
    const afterDelete = await env.inject('PUT', `/api/v1/body-metrics/${measurementId}`, { token: env.tokens.alice, body: { measurement: bp } });
    expect(afterDelete.statusCode).toBe(422);
    expect(afterDelete.json()).toMatchObject({ code: 'MEASUREMENT_DELETED' });
  });

  it('refuses implausible values with 422 naming the entered field, and appends nothing', async () => {
    const before = await env.countEvents();
    const heavy = await record({ measurement: { metric: 'weight', weight: { value: 1_500, unit: 'lb' } } });
    expect(heavy.statusCode).toBe(422);
    expect(heavy.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toEqual(['/body/measurement/weight/value']);
    const inverted = await record({ measurement: { ...bp, systolicMmHg: 70, diastolicMmHg: 90 } });
    expect(inverted.statusCode).toBe(422);
    expect(inverted.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toEqual(['/body/measurement/systolicMmHg']);
    const future = await record({ measurement: bp, measuredAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(future.statusCode).toBe(422);
    expect(future.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toEqual(['/body/measuredAt']);
    expect(await env.countEvents()).toBe(before);
  });

  it('refuses to change the metric of a measurement', async () => {
    const id = await fresh();
    const response = await env.inject('PUT', `/api/v1/body-metrics/${id}`, { token: env.tokens.alice, body: { measurement: bp } });
    expect(response.statusCode).toBe(422);
    expect(response.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toEqual(['/body/measurement/metric']);
  });

  it('answers 404 for another person’s measurement, exactly as for a missing one (positive control: the owner succeeds)', async () => {
    const id = await fresh();
    const missing = '0190f6c1-0000-7000-8000-0000000000ff';
    const asBob = await env.inject('PUT', `/api/v1/body-metrics/${id}`, { token: env.tokens.bob, body: { measurement: weight } });
    const none = await env.inject('PUT', `/api/v1/body-metrics/${missing}`, { token: env.tokens.bob, body: { measurement: weight } });
    expect([asBob.statusCode, none.statusCode]).toEqual([404, 404]);
    const { instance: _a, ...bobProblem } = asBob.json<Record<string, unknown>>();
    const { instance: _b, ...noneProblem } = none.json<Record<string, unknown>>();
    expect(bobProblem).toEqual(noneProblem);
    expect((await env.inject('DELETE', `/api/v1/body-metrics/${id}`, { token: env.tokens.bob })).statusCode).toBe(404);
    expect((await env.inject('DELETE', `/api/v1/body-metrics/${id}`, { token: env.tokens.alice })).statusCode).toBe(200);
  });

  it('recognises a retried record by Idempotency-Key and by client-chosen id', async () => {
    const headers = { 'idempotency-key': 'scale-sync-0001' };
    const first = await env.inject('POST', '/api/v1/body-metrics', { token: env.tokens.alice, body: { measurement: weight }, headers });
    const retry = await env.inject('POST', '/api/v1/body-metrics', { token: env.tokens.alice, body: { measurement: weight }, headers });
    expect(first.statusCode).toBe(201);
    expect(retry.json()).toEqual(first.json());
    const measurementId = '0190f6c1-0000-7000-8000-00000000abcd';
    const body = { measurementId, measurement: weight, measuredAt: '2026-03-03T06:30:00.000Z' };
    const once = await record(body);
    const twice = await record(body);
    expect([once.statusCode, twice.statusCode]).toEqual([201, 201]);
    expect(twice.json<{ revision: number }>().revision).toBe(0);
    const other = await record({ ...body, measurement: { ...weight, weight: { value: 90, unit: 'kg' } } });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'MEASUREMENT_ALREADY_EXISTS' });
  });

  it('keeps every value out of the event store in clear (PHI sealed)', async () => {
    await record({ measurement: { metric: 'blood_pressure', systolicMmHg: 187, diastolicMmHg: 113 }, note: 'dizzy after stairs' });
    const raw = await env.pool.query<{ data: unknown }>(`SELECT data FROM es_events WHERE stream_id LIKE 'bodymeasurement-%'`);
    const text = JSON.stringify(raw.rows);
    expect(raw.rows.length).toBeGreaterThan(0);
    // Strings ciphertext (base64url) cannot hold by chance: spaces, JSON punctuation, field names.
    for (const secret of ['dizzy after stairs', 'blood_pressure', 'systolicMmHg', ':187', ':113']) expect(text).not.toContain(secret);
  });
});
