import { signTestToken } from '@fitledger/testing/oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';

const PROBLEM_JSON = /^application\/problem\+json/;
const OTHER_TENANT = 'bbbbbbbb-0000-4000-8000-000000000000';
const definition = { name: 'Landmine Press', category: 'strength', level: 'intermediate', primaryMuscles: ['shoulders'], equipment: 'barbell', visibility: 'organisation' } as const;

describe('exercise commands (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;
  let outsider: string;
  let readOnly: string;
  let auditor: string;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_exercises');
    const claims = env.oidc.accessTokenClaims('alice');
    outsider = await signTestToken({ ...claims, sub: '7e7e7e7e-0000-4000-8000-000000000001', tenant_id: OTHER_TENANT }, { privateKey: env.oidc.signingKey });
    readOnly = await signTestToken({ ...claims, scope: 'fitledger:read' }, { privateKey: env.oidc.signingKey });
    auditor = await signTestToken({ ...claims, role: 'auditor' }, { privateKey: env.oidc.signingKey });
  });
  afterAll(async () => {
    await env?.close();
  });

  const create = async (token = env.tokens.alice, body: object = definition, headers: Record<string, string> = {}) => env.inject('POST', '/api/v1/exercises', { token, body, headers });
  const events = async (exerciseId: string) => (await env.codec.decodeAll(await env.store.readStream(`exercise-${exerciseId}`))).map((e) => (e.erased ? e : { type: e.type, data: e.data, metadata: e.metadata }));

  it('creates an exercise: 201, Location, ETag, and an ExerciseCreated event about the caller', async () => {
    const response = await create();
    expect(response.statusCode, response.body).toBe(201);
    const { exerciseId, revision } = response.json<{ exerciseId: string; revision: number }>();
    expect(revision).toBe(0);
    expect(response.headers.location).toBe(`/api/v1/exercises/${exerciseId}`);
    expect(response.headers.etag).toBe('"0"');
    const recorded = await events(exerciseId);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      type: 'ExerciseCreated',
      data: { exerciseId, ...definition, secondaryMuscles: [], instructions: [], mediaLinks: [] },
      metadata: { subjectId: env.oidc.users.alice.sub, tenantId: env.oidc.users.alice.tenantId },
    });
  });

  it('revises with If-Match and archives; a stale If-Match is 412 and appends nothing', async () => {
    const { exerciseId } = (await create()).json<{ exerciseId: string }>();
    const revised = await env.inject('PUT', `/api/v1/exercises/${exerciseId}`, { token: env.tokens.alice, body: { ...definition, level: 'expert' }, headers: { 'if-match': '"0"' } });
    expect(revised.statusCode, revised.body).toBe(200);
    expect(revised.headers.etag).toBe('"1"');
    const before = await env.countEvents();
    const stale = await env.inject('PUT', `/api/v1/exercises/${exerciseId}`, { token: env.tokens.alice, body: { ...definition, level: 'beginner' }, headers: { 'if-match': '"0"' } });
    expect(stale.statusCode).toBe(412);
    expect(stale.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(await env.countEvents()).toBe(before);
    const archived = await env.inject('DELETE', `/api/v1/exercises/${exerciseId}`, { token: env.tokens.alice, headers: { 'if-match': '"1"' } });
    expect(archived.statusCode, archived.body).toBe(200);
    expect((await events(exerciseId)).map((e) => ('type' in e ? e.type : 'erased'))).toEqual(['ExerciseCreated', 'ExerciseRevised', 'ExerciseArchived']);
    // Archiving again records nothing; revising an archived exercise is refused.
    expect((await env.inject('DELETE', `/api/v1/exercises/${exerciseId}`, { token: env.tokens.alice })).statusCode).toBe(200);
    const afterArchive = await env.inject('PUT', `/api/v1/exercises/${exerciseId}`, { token: env.tokens.alice, body: definition });
    expect(afterArchive.statusCode).toBe(422);
    expect(afterArchive.json()).toMatchObject({ code: 'EXERCISE_ARCHIVED' });
    expect(await events(exerciseId)).toHaveLength(3);
  });

  it('only the author may revise or archive, also an organisation exercise: others get 404 and nothing is appended', async () => {
    const { exerciseId } = (await create()).json<{ exerciseId: string }>();
    const before = await env.countEvents();
    for (const token of [env.tokens.bob, env.tokens.coach, outsider]) {
      for (const [method, body] of [['PUT', { ...definition, name: 'Hijacked' }], ['DELETE', undefined]] as const) {
        const response = await env.inject(method, `/api/v1/exercises/${exerciseId}`, { token, body });
        expect(response.statusCode, response.body).toBe(404);
        expect(response.json()).toMatchObject({ code: 'EXERCISE_NOT_FOUND' });
      }
    }
    // The same answer as for an id nobody used: existence does not leak.
    const missing = await env.inject('DELETE', '/api/v1/exercises/0190f6c1-0000-7000-8000-00000000abcd', { token: env.tokens.bob });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<{ detail: string }>().detail).toBe('no such exercise');
    expect(await env.countEvents()).toBe(before);
    // Positive control: the author can.
    expect((await env.inject('PUT', `/api/v1/exercises/${exerciseId}`, { token: env.tokens.alice, body: { ...definition, name: 'Renamed' } })).statusCode).toBe(200);
  });

  it('refuses creating under an id someone else used, and callers who may not write', async () => {
    const exerciseId = '0190f6c1-0000-7000-8000-0000000000aa';
    expect((await create(env.tokens.alice, { ...definition, exerciseId })).statusCode).toBe(201);
    const taken = await create(outsider, { ...definition, exerciseId });
    expect(taken.statusCode).toBe(422);
    expect(taken.json()).toMatchObject({ code: 'EXERCISE_ALREADY_EXISTS', errors: [{ field: '/body/exerciseId' }] });
    // A retried create (same id, same definition) is answered as done.
    const retried = await create(env.tokens.alice, { ...definition, exerciseId });
    expect(retried.statusCode).toBe(201);
    expect(retried.json()).toMatchObject({ exerciseId, revision: 0 });
    expect((await create(readOnly)).statusCode).toBe(403);
    expect((await create(auditor)).statusCode).toBe(403);
    expect((await env.inject('POST', '/api/v1/exercises', { body: definition })).statusCode).toBe(401);
  });

  it('makes a retry with the same Idempotency-Key safe, and refuses the key for another request', async () => {
    const headers = { 'idempotency-key': 'exercise-create-1' };
    const first = await create(env.tokens.alice, definition, headers);
    const before = await env.countEvents();
    const again = await create(env.tokens.alice, definition, headers);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(await env.countEvents()).toBe(before);
    const other = await create(env.tokens.alice, { ...definition, name: 'Something else' }, headers);
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await env.countEvents()).toBe(before);
  });

  it('refuses a catalog-reserved (version 5) id and domain rules the schema cannot express, naming the field', async () => {
    const v5 = await create(env.tokens.alice, { ...definition, exerciseId: '8e3c5b4a-1f2d-5a6b-9c8d-7e6f5a4b3c2d' });
    expect(v5.statusCode).toBe(400);
    expect(v5.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain('/body/exerciseId');
    const overlap = await create(env.tokens.alice, { ...definition, secondaryMuscles: ['triceps', 'shoulders'] });
    expect(overlap.statusCode).toBe(422);
    expect(overlap.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: '/body/secondaryMuscles/1' }] });
  });
});
