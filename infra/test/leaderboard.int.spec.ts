import { profilesProjection, workoutsProjection } from '@fitledger/projections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from './pipeline';

const SQUAT = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';

// Profile privacy decides the leaderboard: only people who chose `organisation` visibility are
// listed (and counted); a private profile — the default — never shows.
describe('leaderboard follows profile privacy', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline('leaderboard', [workoutsProjection(), profilesProjection()]);
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  async function send(token: string, method: 'POST' | 'PUT', url: string, body: object): Promise<Record<string, string>> {
    const response = await pipeline.env.inject(method, url, { token, body });
    expect(response.statusCode, response.body).toBeLessThan(300);
    const result = response.json<Record<string, string>>();
    await pipeline.settle(result['position'] as string);
    return result;
  }
  async function completedWorkouts(token: string, n: number, loadKg: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const { workoutId } = await send(token, 'POST', '/api/v1/workouts', { start: true, startedAt: new Date(Date.now() - (i + 2) * 3_600_000).toISOString() });
      await send(token, 'POST', `/api/v1/workouts/${workoutId}/sets`, { set: { exerciseId: SQUAT, reps: 5, load: { value: loadKg, unit: 'kg' } } });
      await send(token, 'POST', `/api/v1/workouts/${workoutId}/complete`, {});
    }
  }

  it('lists opted-in members by completed workouts, never private profiles, in the caller’s units', async () => {
    const { tokens, oidc } = pipeline.env;
    await send(tokens.alice, 'PUT', '/api/v1/profile', { profileVisibility: 'organisation' });
    await send(tokens.coach, 'PUT', '/api/v1/profile', { profileVisibility: 'organisation', unitPreferences: { system: 'imperial' } });
    await send(tokens.bob, 'PUT', '/api/v1/profile', { timeZone: 'Europe/Berlin' }); // private by default
    await completedWorkouts(tokens.alice, 2, 100);
    await completedWorkouts(tokens.bob, 3, 140);
    await completedWorkouts(tokens.coach, 1, 60);

    const board = await pipeline.get('/api/v1/leaderboard', tokens.coach);
    expect(board.statusCode, board.body).toBe(200);
    const items = board.json<{ items: { subjectId: string; rank: number; workouts: number; totalVolumeKg: number; totalVolumeDisplay: { unit: string }; you: boolean }[] }>().items;
    expect(items.map((e) => [e.subjectId, e.rank, e.workouts, e.totalVolumeKg])).toEqual([
      [oidc.users.alice.sub, 1, 2, 1000],
      [oidc.users.coach.sub, 2, 1, 300],
    ]);
    expect(items.map((e) => e.subjectId)).not.toContain(oidc.users.bob.sub);
    expect(items[1]).toMatchObject({ you: true, totalVolumeDisplay: { unit: 'lb' } });
    expect(board.body).not.toContain('140');

    // Going private takes bob… alice off the board on the next read.
    await send(tokens.alice, 'PUT', '/api/v1/profile', { profileVisibility: 'private' });
    const after = await pipeline.get('/api/v1/leaderboard', tokens.bob);
    expect(after.json<{ items: { subjectId: string }[] }>().items.map((e) => e.subjectId)).toEqual([oidc.users.coach.sub]);
    // Bad periods: 400 naming the field.
    const tooLong = await pipeline.get('/api/v1/leaderboard?from=2024-01-01T00:00:00.000Z&to=2026-01-01T00:00:00.000Z', tokens.bob);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({ errors: [{ field: '/querystring/from' }] });
    expect((await pipeline.get('/api/v1/leaderboard?limit=500', tokens.bob)).statusCode).toBe(400);
  });
});
