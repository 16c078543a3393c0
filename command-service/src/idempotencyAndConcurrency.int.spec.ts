import { randomBytes } from 'node:crypto';
import { createTokenVerifier } from '@fitledger/auth';
import type { EventStore } from '@fitledger/event-store';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';

const EXERCISE = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';
const set = { exerciseId: EXERCISE, reps: 5, load: { value: 100, unit: 'kg' } };

describe('Idempotency-Key and optimistic concurrency (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_idem');
  });
  afterAll(async () => {
    await env?.close();
  });

  const key = (): string => `key_${randomBytes(9).toString('base64url')}`;

  async function startedWorkout(token = env.tokens.alice): Promise<string> {
    const response = await env.inject('POST', '/api/v1/workouts', { token, body: { start: true, title: 'Session' } });
    expect(response.statusCode).toBe(201);
    return response.json<{ workoutId: string }>().workoutId;
  }

  function sameResponse(a: LightMyRequestResponse, b: LightMyRequestResponse): void {
    expect(b.statusCode).toBe(a.statusCode);
    expect(b.body).toBe(a.body);
    expect(b.headers.etag).toBe(a.headers.etag);
    expect(b.headers.location).toBe(a.headers.location);
  }

  describe('Idempotency-Key', () => {
    it('answers a retried set log with the first response and appends one event (server-made set id)', async () => {
      const workoutId = await startedWorkout();
      const headers = { 'idempotency-key': key() };
      const before = await env.countEvents();
      const first = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set }, headers });
      expect(first.statusCode).toBe(201);
      const retry = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set }, headers });
      sameResponse(first, retry);
      expect(await env.countEvents()).toBe(before + 1);
      expect((await env.readWorkout(workoutId)).filter((e) => e.type === 'SetLogged')).toHaveLength(1);
    });

    it('answers a retried plan with the same server-made workout id and appends one event', async () => {
      const headers = { 'idempotency-key': key() };
      const body = { title: 'Upper body', plannedFor: '2026-03-05T07:00:00.000Z' };
      const before = await env.countEvents();
      const first = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.alice, body, headers });
      const retry = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.alice, body, headers });
      expect(first.statusCode).toBe(201);
      sameResponse(first, retry);
      expect(await env.countEvents()).toBe(before + 1);
    });

    it('answers a retried completion with the first response although the workout has moved on since', async () => {
      const workoutId = await startedWorkout();
      const logged = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set } });
      const { setId } = logged.json<{ setId: string }>();
      const headers = { 'idempotency-key': key() };
      const first = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice, headers });
      expect(first.statusCode).toBe(200);
      expect(first.headers.etag).toBe('"2"');
      // A correction after completion is allowed and moves the revision on; completing again would be a 422.
      const corrected = await env.inject('PUT', `/api/v1/workouts/${workoutId}/sets/${setId}`, { token: env.tokens.alice, body: { set: { ...set, reps: 4 } } });
      expect(corrected.headers.etag).toBe('"3"');
      expect((await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice })).statusCode).toBe(422);
      const before = await env.countEvents();
      const retry = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice, headers });
      sameResponse(first, retry);
      expect(await env.countEvents()).toBe(before);
    });

    it('answers concurrent retries under one key with one response and one event', async () => {
      const workoutId = await startedWorkout();
      const headers = { 'idempotency-key': key() };
      const before = await env.countEvents();
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set }, headers })),
      );
      for (const response of responses) {
        expect(response.statusCode, response.body).toBe(201);
        sameResponse(responses[0] as LightMyRequestResponse, response);
      }
      expect(await env.countEvents()).toBe(before + 1);
    });

    it('refuses the same key with another body with 422 IDEMPOTENCY_KEY_REUSED and appends nothing', async () => {
      const workoutId = await startedWorkout();
      const headers = { 'idempotency-key': key() };
      const first = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set }, headers });
      expect(first.statusCode).toBe(201);
      const before = await env.countEvents();
      const reused = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set: { ...set, reps: 6 } }, headers });
      expect(reused.statusCode).toBe(422);
      expect(reused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', errors: [{ field: '/headers/idempotency-key' }] });
      expect(await env.countEvents()).toBe(before);
    });

    it('refuses the same key on another route or another workout with 422 and appends nothing', async () => {
      const workoutId = await startedWorkout();
      const other = await startedWorkout();
      const headers = { 'idempotency-key': key() };
      expect((await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set }, headers })).statusCode).toBe(201);
      const before = await env.countEvents();
      const otherRoute = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice, headers });
      const otherWorkout = await env.inject('POST', `/api/v1/workouts/${other}/sets`, { token: env.tokens.alice, body: { set }, headers });
      expect(otherRoute.statusCode).toBe(422);
      expect(otherRoute.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
      expect(otherWorkout.statusCode).toBe(422);
      expect(otherWorkout.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
      expect(await env.countEvents()).toBe(before);
    });

    it('keeps keys of different users apart: the same key works for each', async () => {
      const headers = { 'idempotency-key': key() };
      const body = { title: 'Same key', plannedFor: '2026-03-05T07:00:00.000Z' };
      const byAlice = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.alice, body, headers });
      const byBob = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.bob, body, headers });
      expect([byAlice.statusCode, byBob.statusCode]).toEqual([201, 201]);
      expect(byAlice.json<{ workoutId: string }>().workoutId).not.toBe(byBob.json<{ workoutId: string }>().workoutId);
    });

    it('appends again for a repeated request without Idempotency-Key (fresh event ids)', async () => {
      const workoutId = await startedWorkout();
      const before = await env.countEvents();
      const a = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set } });
      const b = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set } });
      expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
      expect(await env.countEvents()).toBe(before + 2);
      const ids = (await env.readWorkout(workoutId)).map((e) => e.eventId);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    });

    it('rejects a malformed Idempotency-Key with 400 naming the header', async () => {
      const workoutId = await startedWorkout();
      for (const bad of ['has space', 'x'.repeat(129), 'ümlaut', 'a/b']) {
        const before = await env.countEvents();
        const response = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set }, headers: { 'idempotency-key': bad } });
        expect(response.statusCode).toBe(400);
        expect(response.json()).toMatchObject({ errors: [{ field: '/headers/idempotency-key' }] });
        expect(await env.countEvents()).toBe(before);
      }
      const ok = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set }, headers: { 'idempotency-key': 'A'.repeat(128) } });
      expect(ok.statusCode).toBe(201);
    });
  });

  describe('If-Match', () => {
    it('refuses a stale If-Match with 412 and appends nothing; the current revision succeeds', async () => {
      const workoutId = await startedWorkout();
      const logged = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set } });
      const current = logged.headers.etag as string;
      expect(current).toBe('"1"');
      const before = await env.countEvents();
      const stale = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice, headers: { 'if-match': '"0"' } });
      expect(stale.statusCode).toBe(412);
      expect(stale.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(stale.json()).toMatchObject({ code: 'PRECONDITION_FAILED' });
      expect(await env.countEvents()).toBe(before);
      const fresh = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice, headers: { 'if-match': current } });
      expect(fresh.statusCode).toBe(200);
      expect(fresh.headers.etag).toBe('"2"');
    });

    it('treats weak tags as never matching, accepts * for an existing workout and a list holding the current tag', async () => {
      const workoutId = await startedWorkout();
      const url = `/api/v1/workouts/${workoutId}/sets`;
      expect((await env.inject('POST', url, { token: env.tokens.alice, body: { set }, headers: { 'if-match': 'W/"0"' } })).statusCode).toBe(412);
      expect((await env.inject('POST', url, { token: env.tokens.alice, body: { set }, headers: { 'if-match': '*' } })).statusCode).toBe(201);
      expect((await env.inject('POST', url, { token: env.tokens.alice, body: { set }, headers: { 'if-match': '"7", "1"' } })).statusCode).toBe(201);
    });

    it('rejects an If-Match that is not entity tags with 400', async () => {
      const workoutId = await startedWorkout();
      const response = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice, headers: { 'if-match': '3' } });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ errors: [{ field: '/headers/if-match' }] });
    });

    it('does not reveal someone else’s workout revision: 404 before the precondition', async () => {
      const workoutId = await startedWorkout(env.tokens.alice);
      const response = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.bob, headers: { 'if-match': '"0"' } });
      expect(response.statusCode).toBe(404);
    });

    it('checks If-Match of a clone against the source workout', async () => {
      const sourceId = await startedWorkout();
      const stale = await env.inject('POST', `/api/v1/workouts/${sourceId}/clone`, { token: env.tokens.alice, body: {}, headers: { 'if-match': '"5"' } });
      expect(stale.statusCode).toBe(412);
      const current = await env.inject('POST', `/api/v1/workouts/${sourceId}/clone`, { token: env.tokens.alice, body: {}, headers: { 'if-match': '"0"' } });
      expect(current.statusCode).toBe(201);
    });
  });

  describe('losing a race for the stream', () => {
    /**
     * A store whose next `interferences` appends are preceded by a real competing write: a set
     * logged through a second app on the unwrapped store, so the append meets a genuine
     * WrongExpectedRevisionError.
     */
    function racingApp(interferences: number): { app: FastifyInstance; competitor: FastifyInstance } {
      const verifier = createTokenVerifier({ issuer: env.oidc.issuer, audience: env.oidc.audience });
      const common = { codec: env.codec, keys: env.keys, verifier, clock: () => new Date(), randomBytes: (n: number) => randomBytes(n) };
      const competitor = buildApp({ ...common, store: env.store });
      let remaining = interferences;
      const inner = env.store;
      const store: EventStore = {
        readStream: (streamId, options) => inner.readStream(streamId, options),
        readAll: (options) => inner.readAll(options),
        subscribeToAll: (options) => inner.subscribeToAll(options),
        headPosition: () => inner.headPosition(),
        getStreamMetadata: (streamId) => inner.getStreamMetadata(streamId),
        setStreamMetadata: (streamId, metadata, options) => inner.setStreamMetadata(streamId, metadata, options),
        tombstoneStream: (streamId) => inner.tombstoneStream(streamId),
        close: () => Promise.resolve(),
        appendToStream: async (streamId, events, options) => {
          if (remaining > 0) {
            remaining -= 1;
            const competing = await competitor.inject({
              method: 'POST',
              url: `/api/v1/${streamId.replace(/^workout-/, 'workouts/')}/sets`,
              headers: { authorization: `Bearer ${env.tokens.alice}`, 'content-type': 'application/json' },
              payload: JSON.stringify({ set: { ...set, reps: 1 } }),
            });
            expect(competing.statusCode).toBe(201);
          }
          return inner.appendToStream(streamId, events, options);
        },
      };
      return { app: buildApp({ ...common, store }), competitor };
    }

    async function post(app: FastifyInstance, url: string, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
      return app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${env.tokens.alice}`, 'content-type': 'application/json', ...headers },
        payload: JSON.stringify(body),
      });
    }

    it('without If-Match, reloads and re-decides after losing twice, then succeeds on the third try', async () => {
      const workoutId = await startedWorkout();
      const { app, competitor } = racingApp(2);
      const response = await post(app, `/api/v1/workouts/${workoutId}/sets`, { set });
      expect(response.statusCode, response.body).toBe(201);
      expect(response.json()).toMatchObject({ revision: 3 });
      expect((await env.readWorkout(workoutId)).map((e) => e.type)).toEqual(['WorkoutStarted', 'SetLogged', 'SetLogged', 'SetLogged']);
      await Promise.all([app.close(), competitor.close()]);
    });

    it('without If-Match, gives up with 409 after losing three times and appends nothing of its own', async () => {
      const workoutId = await startedWorkout();
      const { app, competitor } = racingApp(3);
      const response = await post(app, `/api/v1/workouts/${workoutId}/complete`, {});
      expect(response.statusCode).toBe(409);
      expect(response.json()).toMatchObject({ code: 'CONCURRENT_MODIFICATION' });
      expect((await env.readWorkout(workoutId)).map((e) => e.type)).toEqual(['WorkoutStarted', 'SetLogged', 'SetLogged', 'SetLogged']);
      await Promise.all([app.close(), competitor.close()]);
    });

    it('with If-Match, answers 412 when another write lands between load and append', async () => {
      const workoutId = await startedWorkout();
      const { app, competitor } = racingApp(1);
      const response = await post(app, `/api/v1/workouts/${workoutId}/complete`, {}, { 'if-match': '"0"' });
      expect(response.statusCode).toBe(412);
      expect((await env.readWorkout(workoutId)).map((e) => e.type)).toEqual(['WorkoutStarted', 'SetLogged']);
      await Promise.all([app.close(), competitor.close()]);
    });

    it('three concurrent set logs on one workout all succeed', async () => {
      const workoutId = await startedWorkout();
      const responses = await Promise.all(
        [1, 2, 3].map((reps) => env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set: { ...set, reps } } })),
      );
      expect(responses.map((r) => r.statusCode)).toEqual([201, 201, 201]);
      expect(new Set(responses.map((r) => r.json<{ revision: number }>().revision))).toEqual(new Set([1, 2, 3]));
    });
  });
});
