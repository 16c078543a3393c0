import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';
import { routeValidationSuite, type RouteCase } from './testing/routeValidationSuite';

const SQUAT = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';
const set = { exerciseId: SQUAT, reps: 5, load: { value: 100, unit: 'kg' } };
const template = { name: 'Lower A', plannedSets: [set], visibility: 'organisation' };

const MASS_ASSIGNMENT = {
  subjectId: '5d2e9c71-3a48-4f6b-8e0d-7c9b1a2f3e84',
  tenantId: '00000000-0000-4000-8000-000000000000',
  role: 'platform_admin',
  version: 7,
  useCount: 1000,
};

const routes: readonly RouteCase<string>[] = [
  {
    name: 'POST /templates',
    method: 'POST',
    url: () => '/api/v1/templates',
    valid: template,
    wrongTypes: [
      ['/body/name', { ...template, name: 5 }],
      ['/body/plannedSets', { ...template, plannedSets: set }],
      ['/body/plannedSets/0/reps', { ...template, plannedSets: [{ ...set, reps: '5' }] }],
    ],
    outOfRange: [
      ['/body/name', { ...template, name: '' }],
      ['/body/visibility', { ...template, visibility: 'public' }],
      ['/body/plannedSets/0/load/value', { ...template, plannedSets: [{ ...set, load: { value: 1200, unit: 'kg' } }] }],
      ['/body/templateId', { ...template, templateId: 'lower-a' }],
      ['/body/name', { plannedSets: [set] }],
    ],
  },
  {
    name: 'PUT /templates/{id}',
    method: 'PUT',
    url: (id) => `/api/v1/templates/${id}`,
    badPath: { url: '/api/v1/templates/lower-a', field: '/params/templateId' },
    valid: { ...template, name: 'Lower A v2' },
    wrongTypes: [['/body/notes', { ...template, notes: ['x'] }]],
    outOfRange: [['/body/notes', { ...template, notes: 'x'.repeat(2001) }]],
  },
  {
    name: 'DELETE /templates/{id}',
    method: 'DELETE',
    url: (id) => `/api/v1/templates/${id}`,
    badPath: { url: '/api/v1/templates/lower-a', field: '/params/templateId' },
    valid: { reason: 'replaced' },
    wrongTypes: [['/body/reason', { reason: 1 }]],
    outOfRange: [['/body/reason', { reason: 'x'.repeat(501) }]],
  },
  {
    name: 'POST /templates/{id}/instantiate',
    method: 'POST',
    url: (id) => `/api/v1/templates/${id}/instantiate`,
    badPath: { url: '/api/v1/templates/lower-a/instantiate', field: '/params/templateId' },
    valid: { plannedFor: '2026-03-10T07:00:00.000Z' },
    wrongTypes: [['/body/plannedFor', { plannedFor: 20260310 }]],
    outOfRange: [
      ['/body/plannedFor', { plannedFor: '2026-02-30T07:00:00Z' }],
      ['/body/title', { plannedFor: '2026-03-10T07:00:00.000Z', title: '' }],
      ['/body/workoutId', { plannedFor: '2026-03-10T07:00:00.000Z', workoutId: 'w1' }],
      ['/body/plannedFor', { title: 'x' }],
    ],
  },
];

describe('request validation on every template route (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_template_validation');
  });
  afterAll(async () => {
    await env?.close();
  });

  async function fresh(): Promise<string> {
    const response = await env.inject('POST', '/api/v1/templates', { token: env.tokens.alice, body: template });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ templateId: string }>().templateId;
  }

  routeValidationSuite({ env: () => env, fresh, routes, massAssignment: MASS_ASSIGNMENT, fuzzRuns: 30 });
});

const PLAN_TEMPLATE = '0190f6c1-0000-7000-8000-0000000077aa';
const plan = { name: 'Split', timeZone: 'Europe/Berlin', startsOn: '2026-03-02', entries: [{ weekday: 1, time: '07:00', templateId: PLAN_TEMPLATE }] };
const entry = (over: Record<string, unknown>) => ({ ...plan, entries: [{ ...plan.entries[0], ...over }] });

const planRoutes: readonly RouteCase<string>[] = [
  {
    name: 'POST /plans',
    method: 'POST',
    url: () => '/api/v1/plans',
    valid: plan,
    wrongTypes: [
      ['/body/entries/0/weekday', entry({ weekday: 'monday' })],
      ['/body/entries', { ...plan, entries: 'weekly' }],
    ],
    outOfRange: [
      ['/body/entries/0/weekday', entry({ weekday: 0 })],
      ['/body/entries/0/time', entry({ time: '7am' })],
      ['/body/entries/0/templateId', entry({ templateId: 'lower-a' })],
      ['/body/startsOn', { ...plan, startsOn: 'next monday' }],
      // Well-formed, but not a template the caller may use.
      ['/body/entries/0/templateId', entry({ templateId: '0190f6c1-0000-7000-8000-00000000dead' })],
    ],
  },
  {
    name: 'PUT /plans/{id}',
    method: 'PUT',
    url: (id) => `/api/v1/plans/${id}`,
    badPath: { url: '/api/v1/plans/split', field: '/params/planId' },
    valid: { ...plan, name: 'Split 2' },
    wrongTypes: [['/body/name', { ...plan, name: 3 }]],
    outOfRange: [['/body/name', { ...plan, name: '' }]],
  },
];

describe('request validation on every weekly-plan route (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_plan_validation');
    const response = await env.inject('POST', '/api/v1/templates', { token: env.tokens.alice, body: { ...template, templateId: PLAN_TEMPLATE } });
    expect(response.statusCode, response.body).toBe(201);
  });
  afterAll(async () => {
    await env?.close();
  });

  async function fresh(): Promise<string> {
    const response = await env.inject('POST', '/api/v1/plans', { token: env.tokens.alice, body: plan });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ planId: string }>().planId;
  }

  routeValidationSuite({ env: () => env, fresh, routes: planRoutes, massAssignment: MASS_ASSIGNMENT, fuzzRuns: 20 });
});

const goal = { target: { kind: 'reps_at_load', exerciseId: SQUAT, reps: 5, loadKg: 100 }, startsOn: '2026-03-02', endsOn: '2026-12-31' };
const goalRoutes: readonly RouteCase<string>[] = [
  {
    name: 'POST /goals',
    method: 'POST',
    url: () => '/api/v1/goals',
    valid: goal,
    wrongTypes: [
      ['/body/target/reps', { ...goal, target: { ...goal.target, reps: '5' } }],
      ['/body/target', { ...goal, target: 'squat 5x100' }],
    ],
    outOfRange: [
      ['/body/target/kind', { ...goal, target: { kind: 'steps', count: 10_000 } }],
      ['/body/target/kcal', { ...goal, target: { kind: 'calories', kcal: 0 } }],
      ['/body/target/loadKg', { ...goal, target: { ...goal.target, loadKg: 1500 } }],
      ['/body/target/perWeek', { ...goal, target: { kind: 'workouts_per_week', perWeek: 30 } }],
      ['/body/target/direction', { ...goal, target: { kind: 'weight', weightKg: 80 } }],
      ['/body/target/weightKg', { ...goal, target: { kind: 'weight', weightKg: 5, direction: 'at_most' } }],
      ['/body/endsOn', { ...goal, endsOn: '2026-13-01' }],
      ['/body/goalId', { ...goal, goalId: 'my-goal' }],
    ],
  },
  {
    name: 'DELETE /goals/{id}',
    method: 'DELETE',
    url: (id) => `/api/v1/goals/${id}`,
    badPath: { url: '/api/v1/goals/my-goal', field: '/params/goalId' },
    valid: { reason: 'injured' },
    wrongTypes: [['/body/reason', { reason: 7 }]],
    outOfRange: [['/body/reason', { reason: 'x'.repeat(501) }]],
  },
];

describe('request validation on every goal route (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_goal_validation');
  });
  afterAll(async () => {
    await env?.close();
  });

  async function fresh(): Promise<string> {
    const response = await env.inject('POST', '/api/v1/goals', { token: env.tokens.alice, body: goal });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ goalId: string }>().goalId;
  }

  routeValidationSuite({ env: () => env, fresh, routes: goalRoutes, massAssignment: MASS_ASSIGNMENT, fuzzRuns: 20 });
});
