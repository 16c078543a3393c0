import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';
import { routeValidationSuite, type JsonObject, type RouteCase as GenericRouteCase } from './testing/routeValidationSuite';

const EXERCISE = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';

interface Fixture {
  /** A planned workout (start, cancel accept it). */
  planned: string;
  /** A started workout with one set (set routes, complete, clone accept it). */
  started: string;
  setId: string;
}

type RouteCase = GenericRouteCase<Fixture>;

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

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_validation');
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

  routeValidationSuite({ env: () => env, fresh: freshFixture, routes, massAssignment: MASS_ASSIGNMENT });
});
