import { profilesProjection, workoutsProjection } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandServiceTestEnv } from '../../command-service/src/testing/commandServiceTestEnv';
import { startPipeline, type Pipeline } from './pipeline';

interface Streaks {
  timeZone: string;
  weekStart: number;
  days: { current: number; longest: number };
  weeks: { current: number; longest: number };
  activeDays: number;
  lastActiveDate: string | null;
}

// Streaks over HTTP: completed workouts dated on the person's calendar, across a DST night and a move.
describe('streaks of completed workouts in the person’s time zones', () => {
  let pipeline: Pipeline;
  let env: CommandServiceTestEnv;
  let query: FastifyInstance;

  beforeAll(async () => {
    pipeline = await startPipeline('streaks_pipeline', [workoutsProjection(), profilesProjection()]);
    ({ env, query } = pipeline);
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  const settle = (position: string): Promise<void> => pipeline.settle(position);
  async function profile(body: object, token: string): Promise<void> {
    const response = await env.inject('PUT', '/api/v1/profile', { token, body });
    expect(response.statusCode, response.body).toBeLessThan(300);
    await settle(response.json<{ position: string }>().position);
  }
  /** A workout started 40 minutes before `completedAt` and completed then. */
  async function trained(completedAt: string, token: string): Promise<void> {
    const startedAt = new Date(Date.parse(completedAt) - 40 * 60_000).toISOString();
    const started = await env.inject('POST', '/api/v1/workouts', { token, body: { start: true, startedAt, title: 'Run' } });
    expect(started.statusCode, started.body).toBe(201);
    const { workoutId } = started.json<{ workoutId: string }>();
    const completed = await env.inject('POST', `/api/v1/workouts/${workoutId}/complete`, { token, body: { completedAt } });
    expect(completed.statusCode, completed.body).toBe(200);
    await settle(completed.json<{ position: string }>().position);
  }
  const streaks = async (query_: string, token: string): Promise<Streaks> => {
    const response = await query.inject({ method: 'GET', url: `/api/v1/streaks${query_}`, headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Streaks>();
  };

  it('counts one day per night through the spring-forward night in Europe/Berlin, late-evening workouts included', async () => {
    const token = env.tokens.alice;
    await profile({ timeZone: 'Europe/Berlin', locale: 'de-DE' }, token);
    // 00:30 local every night from Friday 27 March to Wednesday 1 April 2026 (the clocks jump on Sunday 29
    // at 02:00): in UTC each of these is still the previous day, 23:30 before the switch and 22:30 after.
    for (const at of ['2026-03-26T23:30:00Z', '2026-03-27T23:30:00Z', '2026-03-28T23:30:00Z', '2026-03-29T22:30:00Z', '2026-03-30T22:30:00Z', '2026-03-31T22:30:00Z']) await trained(at, token);
    const asOf = await streaks('?at=2026-03-31T23:00:00Z&perWeek=3', token);
    expect(asOf).toMatchObject({ timeZone: 'Europe/Berlin', weekStart: 1, days: { current: 6, longest: 6 }, activeDays: 6, lastActiveDate: '2026-04-01' });
    // Monday-start weeks: Fri–Sun and Mon–Wed, three workouts each.
    expect(asOf.weeks).toEqual({ current: 2, longest: 2 });
    // Two days later the current streak is over; the longest stays.
    expect((await streaks('?at=2026-04-03T12:00:00Z', token)).days).toEqual({ current: 0, longest: 6 });
  });

  it('keeps dating earlier workouts where they happened after the person moves', async () => {
    const token = env.tokens.bob;
    await profile({ timeZone: 'Europe/Berlin' }, token);
    // Sunday 23:30 and Monday 00:30 in Berlin: both Sunday afternoon in New York.
    await trained('2026-05-10T21:30:00Z', token);
    await trained('2026-05-10T22:30:00Z', token);
    await profile({ timeZone: 'America/New_York' }, token);
    const after = await streaks('', token);
    expect(after.timeZone).toBe('America/New_York');
    expect(after).toMatchObject({ days: { current: 0, longest: 2 }, activeDays: 2 });
  });

  it('refuses an `at` in the future and unknown parameters with 400 naming them', async () => {
    for (const [url, field] of [
      ['/api/v1/streaks?at=2999-01-01T00:00:00Z', '/querystring/at'],
      ['/api/v1/streaks?perWeek=0', '/querystring/perWeek'],
      ['/api/v1/streaks?days=7', '/querystring/days'],
    ] as const) {
      const response = await query.inject({ method: 'GET', url, headers: { authorization: `Bearer ${env.tokens.alice}` } });
      expect(response.statusCode, url).toBe(400);
      expect(response.json<{ errors?: { field: string }[] }>().errors?.map((e) => e.field)).toContain(field);
    }
  });
});
