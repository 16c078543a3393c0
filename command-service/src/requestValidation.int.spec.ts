import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';

const EXERCISE = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';
const PROBLEM_JSON = /^application\/problem\+json/;
const BODY_LIMIT = 64 * 1024;

type Method = 'POST' | 'PUT' | 'DELETE';
type JsonObject = { [key: string]: unknown };

interface Fixture {
  /** A planned workout (start, cancel accept it). */
  planned: string;
  /** A started workout with one set (set routes, complete, clone accept it). */
  started: string;
  setId: string;
}

interface RouteCase {
  readonly name: string;
  readonly method: Method;
  url(f: Fixture): string;
  /** A body the route accepts in the fixture's state. */
  readonly valid: JsonObject;
  /** [field pointer, body] pairs with one value of the wrong JSON type. */
  readonly wrongTypes: readonly (readonly [string, JsonObject])[];
  /** [field pointer, body] pairs with one value out of range. */
  readonly outOfRange: readonly (readonly [string, JsonObject])[];
}

const set = { exerciseId: EXERCISE, reps: 5, load: { value: 100, unit: 'kg' }, rpe: 8 };
/** The out-of-range values the set rules name, under `at` (a pointer prefix) inside `wrap`. */
function setOutOfRange(at: string, wrap: (s: JsonObject) => JsonObject): (readonly [string, JsonObject])[] {
  return [
    [`${at}/load/value`, wrap({ ...set, load: { value: 1000.5, unit: 'kg' } })],
    [`${at}/load/value`, wrap({ ...set, load: { value: 2300, unit: 'lb' } })],
    [`${at}/reps`, wrap({ ...set, reps: 0 })],
    [`${at}/rpe`, wrap({ ...set, rpe: 11 })],
    [`${at}/rpe`, wrap({ ...set, rpe: 7.3 })],
    [`${at}/durationS`, wrap({ ...set, durationS: 24 * 60 * 60 + 1 })],
    [`${at}/heartRateBpm`, wrap({ ...set, heartRateBpm: 300 })],
    [`${at}/exerciseId`, wrap({ ...set, exerciseId: 'bench press' })],
  ];
}

const routes: readonly RouteCase[] = [
  {
    name: 'POST /workouts (plan)',
    method: 'POST',
    url: () => '/api/v1/workouts',
    valid: { title: 'Lower body A', plannedFor: '2026-03-04T07:00:00.000Z', plannedSets: [set] },
    wrongTypes: [
      ['/body/plannedFor', { title: 'A', plannedFor: 20260304 }],
      ['/body/title', { title: ['A'], plannedFor: '2026-03-04T07:00:00.000Z' }],
      ['/body/plannedSets/0/reps', { title: 'A', plannedFor: '2026-03-04T07:00:00.000Z', plannedSets: [{ ...set, reps: '5' }] }],
    ],
    outOfRange: [
      ...setOutOfRange('/body/plannedSets/0', (s) => ({ title: 'A', plannedFor: '2026-03-04T07:00:00.000Z', plannedSets: [s] })),
      ['/body/title', { title: 'x'.repeat(201), plannedFor: '2026-03-04T07:00:00.000Z' }],
      ['/body/plannedFor', { title: 'A', plannedFor: '2026-02-30T07:00:00Z' }],
      ['/body/location/lat', { title: 'A', plannedFor: '2026-03-04T07:00:00.000Z', location: { lat: 91, lon: 0 } }],
      ['/body/workoutId', { workoutId: 'my-workout', title: 'A', plannedFor: '2026-03-04T07:00:00.000Z' }],
      ['/body/plannedFor', { title: 'A', start: true, plannedFor: '2026-03-04T07:00:00.000Z' }],
      ['/body/title', { plannedFor: '2026-03-04T07:00:00.000Z' }],
    ],
  },
  {
    name: 'POST /workouts/{id}/start',
    method: 'POST',
    url: (f) => `/api/v1/workouts/${f.planned}/start`,
    valid: { title: 'Renamed' },
    wrongTypes: [['/body/startedAt', { startedAt: 1_700_000_000 }]],
    outOfRange: [
      ['/body/title', { title: '' }],
      ['/body/startedAt', { startedAt: 'yesterday' }],
    ],
  },
  {
    name: 'POST /workouts/{id}/sets',
    method: 'POST',
    url: (f) => `/api/v1/workouts/${f.started}/sets`,
    valid: { set },
    wrongTypes: [
      ['/body/set/reps', { set: { ...set, reps: '5' } }],
      ['/body/set/load/value', { set: { ...set, load: { value: '100', unit: 'kg' } } }],
      ['/body/set/warmUp', { set: { ...set, warmUp: 'yes' } }],
      ['/body/set', { set: [set] }],
    ],
    outOfRange: [...setOutOfRange('/body/set', (s) => ({ set: s })), ['/body/setId', { setId: 'set-1', set }]],
  },
  {
    name: 'PUT /workouts/{id}/sets/{setId}',
    method: 'PUT',
    url: (f) => `/api/v1/workouts/${f.started}/sets/${f.setId}`,
    valid: { set: { ...set, reps: 4 }, reason: 'miscounted' },
    wrongTypes: [
      ['/body/set/rpe', { set: { ...set, rpe: '8' } }],
      ['/body/reason', { set, reason: 42 }],
    ],
    outOfRange: [...setOutOfRange('/body/set', (s) => ({ set: s })), ['/body/reason', { set, reason: 'x'.repeat(501) }]],
  },
  {
    name: 'DELETE /workouts/{id}/sets/{setId}',
    method: 'DELETE',
    url: (f) => `/api/v1/workouts/${f.started}/sets/${f.setId}`,
    valid: { reason: 'logged twice' },
    wrongTypes: [['/body/reason', { reason: false }]],
    outOfRange: [['/body/reason', { reason: 'x'.repeat(501) }]],
  },
  {
    name: 'POST /workouts/{id}/complete',
    method: 'POST',
    url: (f) => `/api/v1/workouts/${f.started}/complete`,
    valid: { perceivedExertion: 7 },
    wrongTypes: [['/body/perceivedExertion', { perceivedExertion: '7' }]],
    outOfRange: [
      ['/body/perceivedExertion', { perceivedExertion: 11 }],
      ['/body/perceivedExertion', { perceivedExertion: 0 }],
      ['/body/notes', { notes: 'x'.repeat(2001) }],
    ],
  },
  {
    name: 'POST /workouts/{id}/cancel',
    method: 'POST',
    url: (f) => `/api/v1/workouts/${f.planned}/cancel`,
    valid: { reason: 'gym closed' },
    wrongTypes: [['/body/cancelledAt', { cancelledAt: { at: 'now' } }]],
    outOfRange: [['/body/reason', { reason: 'x'.repeat(501) }]],
  },
  {
    name: 'POST /workouts/{id}/clone',
    method: 'POST',
    url: (f) => `/api/v1/workouts/${f.started}/clone`,
    valid: { title: 'Again', plannedFor: '2026-03-11T07:00:00.000Z' },
    wrongTypes: [['/body/title', { title: 7 }]],
    outOfRange: [
      ['/body/title', { title: 'x'.repeat(201) }],
      ['/body/plannedFor', { plannedFor: '2026-13-01T07:00:00Z' }],
    ],
  },
];

const MASS_ASSIGNMENT = {
  subjectId: '5d2e9c71-3a48-4f6b-8e0d-7c9b1a2f3e84',
  role: 'platform_admin',
  tenantId: '00000000-0000-4000-8000-000000000000',
  actor: { sub: 'someone', role: 'platform_admin' },
  eventId: '0190f5a3-1a2b-7c3d-8e4f-5a6b7c8d9e0f',
  revision: 0,
};

describe('request validation on every command route (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;
  let fixture: Fixture;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_validation');
    fixture = await freshFixture();
  });
  afterAll(async () => {
    await env?.close();
  });

  async function freshFixture(): Promise<Fixture> {
    const token = env.tokens.alice;
    const planned = await env.inject('POST', '/api/v1/workouts', { token, body: { title: 'A', plannedFor: '2026-03-04T07:00:00.000Z' } });
    const started = await env.inject('POST', '/api/v1/workouts', { token, body: { start: true, title: 'B' } });
    const startedId = started.json<{ workoutId: string }>().workoutId;
    const logged = await env.inject('POST', `/api/v1/workouts/${startedId}/sets`, { token, body: { set } });
    expect([planned.statusCode, started.statusCode, logged.statusCode]).toEqual([201, 201, 201]);
    return { planned: planned.json<{ workoutId: string }>().workoutId, started: startedId, setId: logged.json<{ setId: string }>().setId };
  }

  /** Sends the request and checks it was refused with `status` as problem+json, with nothing appended. */
  async function expectRefused(route: RouteCase, body: unknown, status: number, field?: string): Promise<LightMyRequestResponse> {
    const before = await env.countEvents();
    const response = await env.inject(route.method, route.url(fixture), { token: env.tokens.alice, body });
    expect(response.statusCode, `${route.name} ${response.body}`).toBe(status);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    const problem = response.json<{ status: number; code: string; errors?: { field: string }[] }>();
    expect(problem.status).toBe(status);
    expect(typeof problem.code).toBe('string');
    if (field !== undefined) expect(problem.errors?.map((e) => e.field), `${route.name} ${response.body}`).toContain(field);
    expect(await env.countEvents()).toBe(before);
    return response;
  }

  for (const route of routes) {
    describe(route.name, () => {
      it('rejects malformed JSON with 400 MALFORMED_JSON and appends nothing', async () => {
        for (const raw of ['{"set": ', '{title: "A"}', "{'a': 1}", '[1,]', '\u0000']) {
          const response = await expectRefused(route, raw, 400);
          expect(response.json()).toMatchObject({ code: 'MALFORMED_JSON' });
        }
      });

      it('rejects a body that is not a JSON object with 400', async () => {
        for (const body of ['null', '[]', '"workout"', '42']) await expectRefused(route, body, 400, '/body');
      });

      it('rejects values of the wrong type with 400 naming the field and appends nothing', async () => {
        for (const [field, body] of route.wrongTypes) await expectRefused(route, body, 400, field);
      });

      it('rejects unknown fields, including subjectId, role and tenantId mass assignment, with 400 naming the field', async () => {
        for (const [key, value] of Object.entries(MASS_ASSIGNMENT)) await expectRefused(route, { ...route.valid, [key]: value }, 400, `/body/${key}`);
        await expectRefused(route, { ...route.valid, someOtherField: 1 }, 400, '/body/someOtherField');
      });

      it('rejects out-of-range values with 400 naming the field and appends nothing', async () => {
        for (const [field, body] of route.outOfRange) await expectRefused(route, body, 400, field);
      });

      it('rejects a body over the 64 KiB limit with 413 and appends nothing', async () => {
        const response = await expectRefused(route, { ...route.valid, padding: 'x'.repeat(BODY_LIMIT) }, 413);
        expect(response.json()).toMatchObject({ code: 'BODY_TOO_LARGE' });
      });

      it('rejects a body that is not application/json with 415', async () => {
        const before = await env.countEvents();
        const response = await env.app.inject({
          method: route.method,
          url: route.url(fixture),
          headers: { authorization: `Bearer ${env.tokens.alice}`, 'content-type': 'text/plain' },
          payload: 'title=A',
        });
        expect(response.statusCode).toBe(415);
        expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(await env.countEvents()).toBe(before);
      });

      it('accepts the valid body (positive control for the refusals above)', async () => {
        const response = await env.inject(route.method, route.url(fixture), { token: env.tokens.alice, body: route.valid });
        expect(response.statusCode, response.body).toBeLessThan(300);
        fixture = await freshFixture();
      });
    });
  }

  describe('generated bodies (fast-check)', () => {
    /** Every JSON pointer-ish path (as key lists) into a value, objects and arrays alike. */
    function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
      if (Array.isArray(value)) return [prefix, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
      if (typeof value === 'object' && value !== null) return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
      return [prefix];
    }

    function edit(valid: JsonObject, path: (string | number)[], change: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
      const copy = structuredClone(valid) as unknown;
      if (path.length === 0) return copy;
      let parent = copy as Record<string | number, unknown>;
      for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
      change(parent, path.at(-1) as string | number);
      return copy;
    }

    const edgeValue = fc.oneof(
      fc.jsonValue(),
      fc.constantFrom(0, -1, 0.5, 1e308, -1e308, 1001, 2 ** 53, '', ' ', '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e', '2026-03-04T07:00:00Z', '9999-12-31T23:59:59.999-23:59', '2016-12-31T23:59:60Z'),
    );

    /** Mutations of a valid body: a value replaced, a field removed, a field added. */
    function mutationsOf(valid: JsonObject): fc.Arbitrary<unknown> {
      const all = paths(valid).filter((p) => p.length > 0);
      const objects = paths(valid).filter((p) => {
        let v: unknown = valid;
        for (const k of p) v = (v as Record<string | number, unknown>)[k];
        return typeof v === 'object' && v !== null && !Array.isArray(v);
      });
      return fc.oneof(
        fc.tuple(fc.constantFrom(...all), edgeValue).map(([p, v]) => edit(valid, p, (parent, k) => void (parent[k] = v))),
        fc.constantFrom(...all).map((p) => edit(valid, p, (parent, k) => void delete parent[k])),
        fc.tuple(fc.constantFrom(...objects), fc.string({ maxLength: 12 }), edgeValue).map(([p, key, v]) =>
          edit(valid, [...p, key], (parent, k) => void (parent[k] = v)),
        ),
      );
    }

    for (const route of routes) {
      it(`${route.name}: never answers 5xx; every 4xx is problem+json and appends nothing`, async () => {
        const bodies = fc.oneof(
          { weight: 3, arbitrary: mutationsOf(route.valid) },
          { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
          { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
        );
        await fc.assert(
          fc.asyncProperty(bodies, async (body) => {
            const before = await env.countEvents();
            const response = await env.inject(route.method, route.url(fixture), { token: env.tokens.alice, body });
            expect(response.statusCode, response.body).toBeLessThan(500);
            if (response.statusCode >= 400) {
              expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
              expect(response.json()).toMatchObject({ status: response.statusCode, code: expect.any(String) as string });
              expect(await env.countEvents()).toBe(before);
            }
          }),
          { numRuns: 60 },
        );
      });
    }
  });
});
