import { randomBytes } from 'node:crypto';
import { createTokenVerifier } from '@fitledger/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';

const EXERCISE = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';

// Commands fold a workout once and then trust the cached state: the append's expected revision
// proves it current. Another instance writing the same stream must never be overlooked: a stale
// state fails the append (or any check decided on it) and the command is re-decided on a fresh read.
describe('folded workout cache shared by nothing but the store', () => {
  let env: CommandServiceTestEnv;
  let other: ReturnType<typeof buildApp>;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_cache');
    other = buildApp({
      store: env.store,
      codec: env.codec,
      keys: env.keys,
      verifier: createTokenVerifier({ issuer: env.oidc.issuer, audience: env.oidc.audience }),
      clock: () => new Date(),
      randomBytes: (size) => randomBytes(size),
    });
    await other.ready();
  });
  afterAll(async () => {
    await other.close();
    await env.close();
  });

  it('sees sets logged by another instance after its own state was cached', async () => {
    const created = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.alice, body: { start: true } });
    const workoutId = created.json<{ workoutId: string }>().workoutId;
    const own = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set: { exerciseId: EXERCISE, reps: 5 } } });
    expect(own.statusCode).toBe(201);

    const elsewhere = await other.inject({
      method: 'POST',
      url: `/api/v1/workouts/${workoutId}/sets`,
      headers: { authorization: `Bearer ${env.tokens.alice}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ set: { exerciseId: EXERCISE, reps: 8 } }),
    });
    expect(elsewhere.statusCode).toBe(201);
    const foreignSetId = elsewhere.json<{ setId: string }>().setId;

    // The first instance corrects the set it never saw being logged: only possible if it read it.
    const corrected = await env.inject('PUT', `/api/v1/workouts/${workoutId}/sets/${foreignSetId}`, { token: env.tokens.alice, body: { set: { exerciseId: EXERCISE, reps: 9 } } });
    expect(corrected.statusCode).toBe(200);
    expect(corrected.json<{ revision: number }>().revision).toBe(3);
    // And an If-Match with the revision it would have cached is stale.
    const stale = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice, body: {}, headers: { 'if-match': '"1"' } });
    expect(stale.statusCode).toBe(412);
    const current = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token: env.tokens.alice, body: {}, headers: { 'if-match': '"3"' } });
    expect(current.statusCode).toBe(200);
    const events = await env.readWorkout(workoutId);
    expect(events.map((e) => e.type)).toEqual(['WorkoutStarted', 'SetLogged', 'SetLogged', 'SetCorrected', 'WorkoutCompleted']);
  });

  it('appends after, never over, sets logged by another instance, and answers with the real revision', async () => {
    const created = await env.inject('POST', '/api/v1/workouts', { token: env.tokens.alice, body: { start: true } });
    const workoutId = created.json<{ workoutId: string }>().workoutId;
    const log = (app: 'env' | 'other', reps: number) =>
      app === 'env'
        ? env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set: { exerciseId: EXERCISE, reps } } })
        : other.inject({
            method: 'POST',
            url: `/api/v1/workouts/${workoutId}/sets`,
            headers: { authorization: `Bearer ${env.tokens.alice}`, 'content-type': 'application/json' },
            payload: JSON.stringify({ set: { exerciseId: EXERCISE, reps } }),
          });
    expect((await log('env', 1)).json<{ revision: number }>().revision).toBe(1);
    expect((await log('other', 2)).json<{ revision: number }>().revision).toBe(2);
    expect((await log('other', 3)).json<{ revision: number }>().revision).toBe(3);
    // env's cached state still says revision 1.
    const late = await log('env', 4);
    expect(late.statusCode).toBe(201);
    expect(late.json<{ revision: number }>().revision).toBe(4);
    // If-Match against what env last saw (1) is refused; against the store's revision it passes.
    const stale = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set: { exerciseId: EXERCISE, reps: 5 } }, headers: { 'if-match': '"1"' } });
    expect(stale.statusCode).toBe(412);
    expect((await log('other', 6)).statusCode).toBe(201);
    const guarded = await env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: env.tokens.alice, body: { set: { exerciseId: EXERCISE, reps: 7 } }, headers: { 'if-match': '"5"' } });
    expect(guarded.statusCode).toBe(201);
    expect(guarded.json<{ revision: number }>().revision).toBe(6);
    const events = await env.readWorkout(workoutId);
    expect(events.filter((e) => e.type === 'SetLogged').map((e) => (e.data as { reps: number }).reps)).toEqual([1, 2, 3, 4, 6, 7]);
  });
});
