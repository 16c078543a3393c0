import { signTestToken } from '@fitledger/testing/oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';

const EXERCISE = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';
const PROBLEM_JSON = /^application\/problem\+json/;

describe('workout command routes (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_routes');
  });
  afterAll(async () => {
    await env?.close();
  });

  async function planWorkout(token: string): Promise<string> {
    const response = await env.inject('POST', '/api/v1/workouts', { token, body: { title: 'Lower body A', plannedFor: '2026-03-04T07:00:00.000Z' } });
    expect(response.statusCode).toBe(201);
    return response.json<{ workoutId: string }>().workoutId;
  }

  async function startedWorkout(token: string): Promise<string> {
    const response = await env.inject('POST', '/api/v1/workouts', { token, body: { start: true } });
    expect(response.statusCode).toBe(201);
    return response.json<{ workoutId: string }>().workoutId;
  }

  it('records a workout from plan to completion, and the stored events decode to what was sent', async () => {
    const plan = await env.inject('POST', '/api/v1/workouts', {
      token: env.tokens.alice,
      body: {
        title: 'Lower body A',
        plannedFor: '2026-03-04T07:00:00.000Z',
        notes: 'deload week',
        plannedSets: [{ exerciseId: EXERCISE, reps: 5, load: { value: 100, unit: 'kg' } }],
      },
    });
    expect(plan.statusCode).toBe(201);
    const { workoutId, revision: planned } = plan.json<{ workoutId: string; revision: number; position: string }>();
    expect(planned).toBe(0);
    expect(plan.headers.etag).toBe('"0"');
    expect(plan.headers.location).toBe(`/api/v1/workouts/${workoutId}`);

    const startedAt = new Date(Date.now() - 60 * 60_000).toISOString();
    const start = await env.inject('POST', `/api/v1/workouts/${workoutId}/start`, { token: env.tokens.alice, body: { startedAt } });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ workoutId, revision: 1 });

    const occurredAt = new Date(Date.now() - 50 * 60_000).toISOString();
    const logged = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, {
      token: env.tokens.alice,
      body: { occurredAt, set: { exerciseId: EXERCISE, reps: 5, load: { value: 225, unit: 'lb' }, rpe: 8, notes: 'knee felt fine' } },
    });
    expect(logged.statusCode).toBe(201);
    const { setId } = logged.json<{ setId: string }>();
    expect(setId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(logged.headers.location).toBe(`/api/v1/workouts/${workoutId}/sets/${setId}`);
    expect(logged.headers.etag).toBe('"2"');

    const clientSetId = '0190f5a3-1a2b-7c3d-8e4f-5a6b7c8d9e0f';
    const second = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, {
      token: env.tokens.alice,
      body: { setId: clientSetId, set: { exerciseId: EXERCISE, durationS: 60, warmUp: true } },
    });
    expect(second.statusCode).toBe(201);
    expect(second.json()).toMatchObject({ workoutId, setId: clientSetId, revision: 3 });

    const corrected = await env.inject('PUT', `/api/v1/workouts/${workoutId}/sets/${setId}`, {
      token: env.tokens.alice,
      body: { set: { exerciseId: EXERCISE, reps: 4, load: { value: 225, unit: 'lb' }, rpe: 9 }, reason: 'miscounted' },
    });
    expect(corrected.statusCode).toBe(200);
    expect(corrected.json()).toMatchObject({ workoutId, setId, revision: 4 });

    const deleted = await env.inject('DELETE', `/api/v1/workouts/${workoutId}/sets/${clientSetId}`, { token: env.tokens.alice });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toMatchObject({ revision: 5 });

    const completed = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice, body: { perceivedExertion: 7.5 } });
    expect(completed.statusCode).toBe(200);
    const result = completed.json<{ revision: number; position: string }>();
    expect(result.revision).toBe(6);
    expect(completed.headers.etag).toBe('"6"');

    const events = await env.readWorkout(workoutId);
    expect(events.map((e) => e.type)).toEqual(['WorkoutPlanned', 'WorkoutStarted', 'SetLogged', 'SetLogged', 'SetCorrected', 'SetDeleted', 'WorkoutCompleted']);
    expect(events.at(-1)?.position).toBe(result.position);
    expect(events[0]?.data).toEqual({
      workoutId,
      title: 'Lower body A',
      plannedFor: '2026-03-04T07:00:00.000Z',
      notes: 'deload week',
      plannedSets: [{ exerciseId: EXERCISE, reps: 5, load: { value: 100, unit: 'kg' }, loadKg: 100, warmUp: false, toFailure: false }],
    });
    expect(events[1]?.data).toEqual({ workoutId, startedAt });
    expect(events[2]?.data).toEqual({
      workoutId,
      setId,
      occurredAt,
      exerciseId: EXERCISE,
      reps: 5,
      load: { value: 225, unit: 'lb' },
      loadKg: 225 * 0.45359237,
      rpe: 8,
      notes: 'knee felt fine',
      warmUp: false,
      toFailure: false,
    });
    expect(events[4]?.data).toMatchObject({ workoutId, setId, reps: 4, rpe: 9, reason: 'miscounted' });
    expect(events[5]?.data).toEqual({ workoutId, setId: clientSetId });
    expect(events[6]?.data).toMatchObject({ workoutId, perceivedExertion: 7.5 });
    const { alice } = env.oidc.users;
    for (const event of events) {
      expect(event.metadata).toMatchObject({ subjectId: alice.sub, tenantId: alice.tenantId, actor: { sub: alice.sub, role: 'client' }, source: { kind: 'manual' } });
    }
  });

  it('stores the health data of a workout encrypted, never in clear', async () => {
    const workoutId = await startedWorkout(env.tokens.alice);
    const note = 'left shoulder pain after the third set';
    const response = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, {
      token: env.tokens.alice,
      body: { set: { exerciseId: EXERCISE, reps: 3, notes: note } },
    });
    expect(response.statusCode).toBe(201);
    const raw = await env.pool.query<{ row: string }>('SELECT row_to_json(e)::text AS row FROM es_events e WHERE stream_id = $1', [`workout-${workoutId}`]);
    expect(raw.rows.map((r) => r.row).join('\n')).not.toContain('shoulder');
  });

  it('starts a new unplanned workout with start: true and answers its id and location', async () => {
    const response = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.alice, body: { start: true, title: 'Easy run' } });
    expect(response.statusCode).toBe(201);
    const { workoutId } = response.json<{ workoutId: string }>();
    expect(response.headers.location).toBe(`/api/v1/workouts/${workoutId}`);
    const events = await env.readWorkout(workoutId);
    expect(events.map((e) => e.type)).toEqual(['WorkoutStarted']);
    expect(events[0]?.data).toMatchObject({ workoutId, title: 'Easy run' });
  });

  it('cancels a planned workout', async () => {
    const workoutId = await planWorkout(env.tokens.alice);
    const response = await env.inject('POST', `/api/v1/workouts/${workoutId}/cancel`, { token: env.tokens.alice, body: { reason: 'gym closed' } });
    expect(response.statusCode).toBe(200);
    expect((await env.readWorkout(workoutId)).map((e) => e.type)).toEqual(['WorkoutPlanned', 'WorkoutCancelled']);
  });

  it('clones a workout into a new planned workout whose targets are the sets done', async () => {
    const sourceId = await startedWorkout(env.tokens.alice);
    await env.inject('POST', `/api/v1/workouts/${sourceId}/sets`, { token: env.tokens.alice, body: { set: { exerciseId: EXERCISE, reps: 8, load: { value: 60, unit: 'kg' }, heartRateBpm: 150 } } });
    const response = await env.inject('POST', `/api/v1/workouts/${sourceId}/clone`, {
      token: env.tokens.alice,
      body: { title: 'Again next week', plannedFor: '2026-03-11T07:00:00.000Z' },
    });
    expect(response.statusCode).toBe(201);
    const { workoutId, revision } = response.json<{ workoutId: string; revision: number }>();
    expect(workoutId).not.toBe(sourceId);
    expect(revision).toBe(0);
    expect(response.headers.location).toBe(`/api/v1/workouts/${workoutId}`);
    const [cloned] = await env.readWorkout(workoutId);
    expect(cloned?.type).toBe('WorkoutCloned');
    expect(cloned?.data).toEqual({
      workoutId,
      sourceWorkoutId: sourceId,
      title: 'Again next week',
      plannedFor: '2026-03-11T07:00:00.000Z',
      plannedSets: [{ exerciseId: EXERCISE, reps: 8, load: { value: 60, unit: 'kg' }, loadKg: 60, warmUp: false, toFailure: false }],
    });
  });

  it('answers a domain rule violation with 422, the domain code and the field', async () => {
    const workoutId = await planWorkout(env.tokens.alice);
    const before = await env.countEvents();
    const response = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set: { exerciseId: EXERCISE, reps: 5 } } });
    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json()).toMatchObject({ status: 422, code: 'WORKOUT_NOT_STARTED' });

    const started = await startedWorkout(env.tokens.alice);
    const future = new Date(Date.now() + 24 * 60 * 60_000).toISOString();
    const inFuture = await env.inject('POST', `/api/v1/workouts/${started}/sets`, {
      token: env.tokens.alice,
      body: { occurredAt: future, set: { exerciseId: EXERCISE, reps: 5 } },
    });
    expect(inFuture.statusCode).toBe(422);
    expect(inFuture.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: '/body/occurredAt' }] });

    const nothingMeasured = await env.inject('POST', `/api/v1/workouts/${started}/sets`, { token: env.tokens.alice, body: { set: { exerciseId: EXERCISE } } });
    expect(nothingMeasured.statusCode).toBe(422);
    expect(nothingMeasured.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: '/body/set/reps' }] });
    expect(await env.countEvents()).toBe(before + 1); // only the started workout
  });

  it('answers 404 for a workout that does not exist', async () => {
    const response = await env.inject('POST', '/api/v1/workouts/0190f5a1-3b2c-7d4e-8f6a-1b2c3d4e5f60/complete', { token: env.tokens.alice });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json()).toMatchObject({ code: 'WORKOUT_NOT_FOUND' });
  });

  describe('a user cannot touch another user’s workout (404, as if it did not exist); the owner can', () => {
    const exercise = { exerciseId: EXERCISE, reps: 5 };
    type Case = { name: string; method: 'POST' | 'PUT' | 'DELETE'; path: (w: string, s: string) => string; body?: unknown; ownerStatus: number };
    const cases: Case[] = [
      { name: 'log a set', method: 'POST', path: (w) => `/api/v1/workouts/${w}/sets`, body: { set: exercise }, ownerStatus: 201 },
      { name: 'correct a set', method: 'PUT', path: (w, s) => `/api/v1/workouts/${w}/sets/${s}`, body: { set: { ...exercise, reps: 6 } }, ownerStatus: 200 },
      { name: 'delete a set', method: 'DELETE', path: (w, s) => `/api/v1/workouts/${w}/sets/${s}`, ownerStatus: 200 },
      { name: 'clone', method: 'POST', path: (w) => `/api/v1/workouts/${w}/clone`, body: { title: 'Again' }, ownerStatus: 201 },
      { name: 'complete', method: 'POST', path: (w) => `/api/v1/workouts/${w}/complete`, ownerStatus: 200 },
    ];
    for (const c of cases) {
      it(`${c.name}: bob gets 404 and nothing is appended; alice gets ${c.ownerStatus}`, async () => {
        const workoutId = await startedWorkout(env.tokens.alice);
        const set = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set: exercise } });
        const { setId } = set.json<{ setId: string }>();
        const url = c.path(workoutId, setId);
        const before = await env.countEvents();

        const intruder = await env.inject(c.method, url, { token: env.tokens.bob, ...(c.body === undefined ? {} : { body: c.body }) });
        expect(intruder.statusCode).toBe(404);
        expect(intruder.json()).toMatchObject({ code: 'WORKOUT_NOT_FOUND', detail: 'no such workout' });
        expect(await env.countEvents()).toBe(before);

        const owner = await env.inject(c.method, url, { token: env.tokens.alice, ...(c.body === undefined ? {} : { body: c.body }) });
        expect(owner.statusCode).toBe(c.ownerStatus);
        expect(await env.countEvents()).toBe(before + 1);
      });
    }

    it('start: bob gets 404 on alice’s planned workout; alice starts it', async () => {
      const workoutId = await planWorkout(env.tokens.alice);
      const intruder = await env.inject('POST', `/api/v1/workouts/${workoutId}/start`, { token: env.tokens.bob });
      expect(intruder.statusCode).toBe(404);
      const owner = await env.inject('POST', `/api/v1/workouts/${workoutId}/start`, { token: env.tokens.alice });
      expect(owner.statusCode).toBe(200);
    });

    it('cancel: bob gets 404 on alice’s planned workout; alice cancels it', async () => {
      const workoutId = await planWorkout(env.tokens.alice);
      const intruder = await env.inject('POST', `/api/v1/workouts/${workoutId}/cancel`, { token: env.tokens.bob });
      expect(intruder.statusCode).toBe(404);
      const owner = await env.inject('POST', `/api/v1/workouts/${workoutId}/cancel`, { token: env.tokens.alice });
      expect(owner.statusCode).toBe(200);
    });

    it('the 404 for someone else’s workout is byte-identical to the one for a workout that does not exist', async () => {
      const workoutId = await planWorkout(env.tokens.alice);
      const foreign = await env.inject('POST', `/api/v1/workouts/${workoutId}/cancel`, { token: env.tokens.bob });
      const missing = await env.inject('POST', '/api/v1/workouts/0190f5a1-3b2c-7d4e-8f6a-1b2c3d4e5f60/cancel', { token: env.tokens.bob });
      const strip = (body: string) => body.replace(/"instance":"[^"]*"/, '');
      expect(strip(foreign.body)).toBe(strip(missing.body));
    });

    it('creating a workout under an id someone else already uses is refused like one’s own duplicate, without touching it', async () => {
      const workoutId = await planWorkout(env.tokens.alice);
      const before = await env.countEvents();
      const body = { workoutId, title: 'Mine now', plannedFor: '2026-03-04T07:00:00.000Z' };
      const byBob = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.bob, body });
      const byAlice = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.alice, body });
      expect(byBob.statusCode).toBe(422);
      expect(byBob.json()).toMatchObject({ code: 'WORKOUT_ALREADY_EXISTS', errors: [{ field: '/body/workoutId' }] });
      expect(byBob.body).toBe(byAlice.body);
      expect(await env.countEvents()).toBe(before);
    });
  });

  describe('authentication', () => {
    const url = '/api/v1/workouts';
    const body = { title: 'Lower body A', plannedFor: '2026-03-04T07:00:00.000Z' };

    it('rejects a request without a token with 401 problem+json and a Bearer challenge; the same request with a token succeeds', async () => {
      const before = await env.countEvents();
      const response = await env.inject('POST', url, { body });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="fitledger"/);
      expect(response.json()).toMatchObject({ status: 401, code: 'TOKEN_MISSING' });
      expect(await env.countEvents()).toBe(before);
      expect((await env.inject('POST', url, { body, token: env.tokens.alice })).statusCode).toBe(201);
    });

    it('rejects an expired token signed by the provider’s own key with 401', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await signTestToken({ ...env.oidc.accessTokenClaims('alice'), iat: now - 7200, exp: now - 3600 }, { privateKey: env.oidc.signingKey });
      const response = await env.inject('POST', url, { body, token });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ code: 'TOKEN_EXPIRED' });
      // Positive control: the same claims, unexpired, under the same key.
      const fresh = await signTestToken(env.oidc.accessTokenClaims('alice'), { privateKey: env.oidc.signingKey });
      expect((await env.inject('POST', url, { body, token: fresh })).statusCode).toBe(201);
    });

    it('rejects a token signed by another key (unknown kid, and the provider’s kid) with 401', async () => {
      const claims = env.oidc.accessTokenClaims('alice');
      const unknownKid = await signTestToken(claims);
      const borrowedKid = await signTestToken(claims, { kid: env.oidc.signingKey.kid ?? null });
      for (const token of [unknownKid, borrowedKid]) {
        const response = await env.inject('POST', url, { body, token });
        expect(response.statusCode).toBe(401);
        expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(response.json()).toMatchObject({ code: 'TOKEN_INVALID' });
      }
    });

    it('authenticates every command route', async () => {
      const w = '0190f5a1-3b2c-7d4e-8f6a-1b2c3d4e5f60';
      const s = '0190f5a3-1a2b-7c3d-8e4f-5a6b7c8d9e0f';
      const routes: [method: 'POST' | 'PUT' | 'DELETE', url: string][] = [
        ['POST', '/api/v1/workouts'],
        ['POST', `/api/v1/workouts/${w}/start`],
        ['POST', `/api/v1/workouts/${w}/sets`],
        ['PUT', `/api/v1/workouts/${w}/sets/${s}`],
        ['DELETE', `/api/v1/workouts/${w}/sets/${s}`],
        ['POST', `/api/v1/workouts/${w}/complete`],
        ['POST', `/api/v1/workouts/${w}/cancel`],
        ['POST', `/api/v1/workouts/${w}/clone`],
      ];
      for (const [method, path] of routes) {
        const response = await env.inject(method, path, { body: {} });
        expect(response.statusCode, `${method} ${path}`).toBe(401);
      }
    });

    it('refuses a valid token without the fitledger:write scope with 403', async () => {
      const readOnly = await signTestToken({ ...env.oidc.accessTokenClaims('alice'), scope: 'fitledger:read' }, { privateKey: env.oidc.signingKey });
      const response = await env.inject('POST', url, { body, token: readOnly });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    });

    it('lets a trainer record their own workout', async () => {
      const response = await env.inject('POST', url, { body, token: env.tokens.coach });
      expect(response.statusCode).toBe(201);
    });
  });

  it('carries the request’s W3C traceparent into event metadata, and drops a malformed one', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const traced = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.alice, body: { start: true }, headers: { traceparent } });
    const untraced = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.alice, body: { start: true }, headers: { traceparent: 'not-a-trace' } });
    const [tracedEvent] = await env.readWorkout(traced.json<{ workoutId: string }>().workoutId);
    const [untracedEvent] = await env.readWorkout(untraced.json<{ workoutId: string }>().workoutId);
    expect(tracedEvent?.metadata.traceparent).toBe(traceparent);
    expect(untracedEvent?.metadata).not.toHaveProperty('traceparent');
  });

  it('answers 410 for a tombstoned workout', async () => {
    const workoutId = await startedWorkout(env.tokens.alice);
    await env.store.tombstoneStream(`workout-${workoutId}`);
    const response = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice });
    expect(response.statusCode).toBe(410);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json()).toMatchObject({ code: 'WORKOUT_DELETED' });
  });

  it('publishes every command route in the OpenAPI document', async () => {
    const response = await env.inject('GET', '/openapi.json');
    expect(response.statusCode).toBe(200);
    const doc = response.json<{ paths: Record<string, Record<string, unknown>> }>();
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/body-metrics',
      '/api/v1/body-metrics/{measurementId}',
      '/api/v1/clients/{clientId}/plans',
      '/api/v1/clients/{clientId}/workouts',
      '/api/v1/coaching/invitations',
      '/api/v1/coaching/{relationshipId}/accept',
      '/api/v1/coaching/{relationshipId}/end',
      '/api/v1/consents',
      '/api/v1/consents/{consentId}',
      '/api/v1/consents/{subjectId}/{consentId}/guardian-confirmation',
      '/api/v1/emergency-access',
      '/api/v1/emergency-access/{subjectId}/{grantId}/close',
      '/api/v1/emergency-access/{subjectId}/{grantId}/review',
      '/api/v1/exercises',
      '/api/v1/exercises/{exerciseId}',
      '/api/v1/goals',
      '/api/v1/goals/{goalId}',
      '/api/v1/organisations',
      '/api/v1/organisations/{organisationId}/invitations',
      '/api/v1/organisations/{organisationId}/join',
      '/api/v1/organisations/{organisationId}/members/{subjectId}',
      '/api/v1/organisations/{organisationId}/members/{subjectId}/role',
      '/api/v1/plans',
      '/api/v1/plans/{planId}',
      '/api/v1/profile',
      '/api/v1/templates',
      '/api/v1/templates/{templateId}',
      '/api/v1/templates/{templateId}/instantiate',
      '/api/v1/workouts',
      '/api/v1/workouts/{workoutId}/cancel',
      '/api/v1/workouts/{workoutId}/clone',
      '/api/v1/workouts/{workoutId}/complete',
      '/api/v1/workouts/{workoutId}/sets',
      '/api/v1/workouts/{workoutId}/sets/{setId}',
      '/api/v1/workouts/{workoutId}/start',
    ]);
    expect(Object.keys(doc.paths['/api/v1/workouts/{workoutId}/sets/{setId}'] ?? {}).sort()).toEqual(['delete', 'put']);
    expect(Object.keys(doc.paths['/api/v1/exercises/{exerciseId}'] ?? {}).sort()).toEqual(['delete', 'put']);
    expect(Object.keys(doc.paths['/api/v1/body-metrics/{measurementId}'] ?? {}).sort()).toEqual(['delete', 'put']);
  });

  // Last: destroys the coach's data key for good.
  it('answers 410 once the subject was erased (data key destroyed), for old and new workouts alike', async () => {
    const workoutId = await startedWorkout(env.tokens.coach);
    await env.keys.destroy(env.oidc.users.coach.sub);
    const before = await env.countEvents();
    const onOld = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.coach });
    const onNew = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.coach, body: { start: true } });
    for (const response of [onOld, onNew]) {
      expect(response.statusCode).toBe(410);
      expect(response.json()).toMatchObject({ code: 'SUBJECT_ERASED' });
    }
    expect(await env.countEvents()).toBe(before);
  });
});
