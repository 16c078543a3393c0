import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';
import { routeValidationSuite, type JsonObject, type RouteCase as GenericRouteCase } from './testing/routeValidationSuite';


type RouteCase = GenericRouteCase<string>;

const definition = { name: 'Landmine Press', category: 'strength', level: 'intermediate', primaryMuscles: ['shoulders'], equipment: 'barbell' };
const definitionCases = (): { wrongTypes: [string, JsonObject][]; outOfRange: [string, JsonObject][] } => ({
  wrongTypes: [
    ['/body/name', { ...definition, name: 42 }],
    ['/body/primaryMuscles', { ...definition, primaryMuscles: 'shoulders' }],
    ['/body/instructions/0', { ...definition, instructions: [7] }],
    ['/body/mediaLinks', { ...definition, mediaLinks: 'https://example.org/a.jpg' }],
  ],
  outOfRange: [
    ['/body/name', { ...definition, name: '' }],
    ['/body/name', { ...definition, name: '   ' }],
    ['/body/name', { ...definition, name: 'x'.repeat(121) }],
    ['/body/category', { ...definition, category: 'yoga' }],
    ['/body/level', { ...definition, level: 'elite' }],
    ['/body/equipment', { ...definition, equipment: 'sandbag' }],
    ['/body/mechanic', { ...definition, mechanic: 'hybrid' }],
    ['/body/force', { ...definition, force: 'pushpull' }],
    ['/body/visibility', { ...definition, visibility: 'public' }],
    ['/body/primaryMuscles', { ...definition, primaryMuscles: [] }],
    ['/body/primaryMuscles/0', { ...definition, primaryMuscles: ['biceps femoris'] }],
    ['/body/primaryMuscles', { ...definition, primaryMuscles: ['chest', 'chest'] }],
    ['/body/instructions', { ...definition, instructions: Array.from({ length: 21 }, () => 'step') }],
    ['/body/instructions/0', { ...definition, instructions: ['x'.repeat(2001)] }],
    ['/body/mediaLinks', { ...definition, mediaLinks: Array.from({ length: 11 }, (_, i) => `https://example.org/${i}.jpg`) }],
    ['/body/mediaLinks/0', { ...definition, mediaLinks: ['http://example.org/a.jpg'] }],
    ['/body/mediaLinks/0', { ...definition, mediaLinks: ['javascript:alert(1)'] }],
    ['/body/mediaLinks/0', { ...definition, mediaLinks: ['https://user:pw@example.org/a.jpg'] }],
    ['/body/name', { category: 'strength', level: 'beginner', primaryMuscles: ['chest'] }],
  ],
});

const routes: readonly RouteCase[] = [
  {
    name: 'POST /exercises',
    method: 'POST',
    url: () => '/api/v1/exercises',
    valid: { ...definition, visibility: 'organisation', instructions: ['Press.'], mediaLinks: ['https://example.org/a.mp4'] },
    wrongTypes: [...definitionCases().wrongTypes, ['/body/exerciseId', { ...definition, exerciseId: 12 }]],
    outOfRange: [...definitionCases().outOfRange, ['/body/exerciseId', { ...definition, exerciseId: 'landmine-press' }]],
  },
  {
    name: 'PUT /exercises/{id}',
    method: 'PUT',
    url: (id) => `/api/v1/exercises/${id}`,
    badPath: { url: '/api/v1/exercises/landmine-press', field: '/params/exerciseId' },
    valid: { ...definition, level: 'expert' },
    wrongTypes: definitionCases().wrongTypes,
    outOfRange: [...definitionCases().outOfRange, ['/body/exerciseId', { ...definition, exerciseId: '0190f6c1-0000-7000-8000-000000000001' }]],
  },
  {
    name: 'DELETE /exercises/{id}',
    method: 'DELETE',
    url: (id) => `/api/v1/exercises/${id}`,
    badPath: { url: '/api/v1/exercises/landmine-press', field: '/params/exerciseId' },
    valid: { reason: 'duplicate' },
    wrongTypes: [['/body/reason', { reason: false }]],
    outOfRange: [['/body/reason', { reason: 'x'.repeat(501) }]],
  },
];

const MASS_ASSIGNMENT = {
  subjectId: '5d2e9c71-3a48-4f6b-8e0d-7c9b1a2f3e84',
  tenantId: '00000000-0000-4000-8000-000000000000',
  ownerId: '5d2e9c71-3a48-4f6b-8e0d-7c9b1a2f3e84',
  role: 'platform_admin',
  source: 'catalog',
  revision: 0,
};

describe('request validation on every exercise command route (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_exercise_validation');
  });
  afterAll(async () => {
    await env?.close();
  });

  async function fresh(): Promise<string> {
    const response = await env.inject('POST', '/api/v1/exercises', { token: env.tokens.alice, body: definition });
    expect(response.statusCode).toBe(201);
    return response.json<{ exerciseId: string }>().exerciseId;
  }

  routeValidationSuite({ env: () => env, fresh, routes, massAssignment: MASS_ASSIGNMENT, fuzzRuns: 40 });
});
