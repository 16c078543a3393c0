import { randomBytes } from 'node:crypto';
import { bodyMeasurementsProjection, goalsProjection, profilesProjection, readModelDb, workoutsProjection } from '@fitledger/projections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGoalCommandRunner } from '../../command-service/src/goalCommandRunner';
import { createGoalEvaluator, type GoalEvaluator } from '../../command-service/src/goalEvaluator';
import { startPipeline, type Pipeline } from './pipeline';

const SQUAT = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';

interface Goal {
  goalId: string;
  status: string;
  progress: { value: number | null; target: number; unit: string; fraction: number; achieved: boolean };
}

// Goals over HTTP: progress from the read models as they are (corrections and deletions included),
// achieved and missed recorded once by the evaluator as events.
describe('goals: progress after corrections, achieved and missed as events', () => {
  let pipeline: Pipeline;
  let evaluator: GoalEvaluator;

  beforeAll(async () => {
    pipeline = await startPipeline('goals_pipeline', [workoutsProjection(), bodyMeasurementsProjection(), profilesProjection(), goalsProjection()]);
    const { env } = pipeline;
    const goals = createGoalCommandRunner({ store: env.store, codec: env.codec, keys: env.keys, clock: () => new Date(), randomBytes: (n) => randomBytes(n) });
    evaluator = createGoalEvaluator({ db: readModelDb(env.pool), goals, clock: () => new Date() });
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  async function send(method: 'POST' | 'PUT' | 'DELETE', url: string, body: object, status: number): Promise<Record<string, string>> {
    const response = await pipeline.env.inject(method, url, { token: pipeline.env.tokens.alice, body });
    expect(response.statusCode, response.body).toBe(status);
    const result = response.json<Record<string, string>>();
    await pipeline.settle(result['position'] as string);
    return result;
  }
  const goal = async (goalId: string): Promise<Goal> => {
    const response = await pipeline.get(`/api/v1/goals/${goalId}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Goal>();
  };
  async function settleAll(): Promise<void> {
    const row = (await pipeline.env.pool.query<{ tx: string; seq: string }>('SELECT transaction_id::text AS tx, seq::text AS seq FROM es_events ORDER BY transaction_id DESC, seq DESC LIMIT 1')).rows[0];
    const { encodePgPosition } = await import('@fitledger/event-store');
    if (row) await pipeline.settle(encodePgPosition(row.tx, row.seq));
  }

  it('follows corrections and deletions of the sets behind a goal, then is achieved once', async () => {
    const { goalId } = await send('POST', '/api/v1/goals', { target: { kind: 'reps_at_load', exerciseId: SQUAT, reps: 5, loadKg: 100 }, startsOn: '2026-03-02', endsOn: '2027-01-31' }, 201);
    expect((await goal(goalId as string)).progress).toMatchObject({ value: 0, target: 5, unit: 'reps', achieved: false });

    const { workoutId } = await send('POST', '/api/v1/workouts', { start: true, startedAt: '2026-03-05T07:00:00.000Z', title: 'Squats' }, 201);
    const { setId } = await send('POST', `/api/v1/workouts/${workoutId}/sets`, { occurredAt: '2026-03-05T07:20:00.000Z', set: { exerciseId: SQUAT, reps: 6, load: { value: 100, unit: 'kg' } } }, 201);
    expect((await goal(goalId as string)).progress).toMatchObject({ value: 6, fraction: 1, achieved: true });

    await send('PUT', `/api/v1/workouts/${workoutId}/sets/${setId}`, { set: { exerciseId: SQUAT, reps: 3, load: { value: 100, unit: 'kg' } } }, 200);
    expect((await goal(goalId as string)).progress).toMatchObject({ value: 3, fraction: 0.6, achieved: false });
    await send('DELETE', `/api/v1/workouts/${workoutId}/sets/${setId}`, {}, 200);
    expect((await goal(goalId as string)).progress).toMatchObject({ value: 0, achieved: false });

    // Nothing to decide yet; then a real 5 × 102.5 kg.
    expect(await evaluator.evaluate()).toMatchObject({ achieved: 0, missed: 0 });
    await send('POST', `/api/v1/workouts/${workoutId}/sets`, { occurredAt: '2026-03-05T07:40:00.000Z', set: { exerciseId: SQUAT, reps: 5, load: { value: 102.5, unit: 'kg' } } }, 201);
    expect(await evaluator.evaluate()).toMatchObject({ achieved: 1 });
    await settleAll();
    expect(await goal(goalId as string)).toMatchObject({ status: 'achieved' });
    // Decided once: the event is in the goal's stream, written by the evaluator for alice.
    const events = await pipeline.env.store.readStream(`goal-${goalId}`);
    expect(events.map((e) => e.type)).toEqual(['GoalSet', 'GoalAchieved']);
    expect(events[1]?.metadata).toMatchObject({ actor: { sub: 'system:goal-evaluator', role: 'system' }, onBehalfOf: { sub: pipeline.env.oidc.users.alice.sub } });
    expect(await evaluator.evaluate({ subjectIds: [pipeline.env.oidc.users.alice.sub] })).toMatchObject({ evaluated: 0 });
    // An achieved goal cannot be cancelled.
    const cancel = await pipeline.env.inject('DELETE', `/api/v1/goals/${goalId}`, { token: pipeline.env.tokens.alice, body: {} });
    expect(cancel.statusCode).toBe(422);
    expect(cancel.json()).toMatchObject({ code: 'GOAL_DECIDED' });
  });

  it('calories: active energy of completed workouts counts, a cancelled or unfinished workout does not', async () => {
    const { goalId } = await send('POST', '/api/v1/goals', { target: { kind: 'calories', kcal: 1_000 }, startsOn: '2026-04-01', endsOn: '2027-04-30' }, 201);
    expect((await goal(goalId as string)).progress).toMatchObject({ value: 0, target: 1_000, unit: 'kcal', achieved: false });
    const workout = async (day: string, energyKcal?: number): Promise<string> => {
      const { workoutId } = await send('POST', '/api/v1/workouts', { start: true, startedAt: `2026-04-${day}T07:00:00.000Z`, title: 'Run' }, 201);
      await send('POST', `/api/v1/workouts/${workoutId}/complete`, { completedAt: `2026-04-${day}T08:00:00.000Z`, ...(energyKcal === undefined ? {} : { energyKcal }) }, 200);
      return workoutId as string;
    };
    const first = await workout('02', 450.5);
    await workout('03');
    expect((await goal(goalId as string)).progress).toMatchObject({ value: 450.5, fraction: 0.4505, achieved: false });
    const detail = await pipeline.get(`/api/v1/workouts/${first}`);
    expect(detail.json()).toMatchObject({ energyKcal: 450.5 });
    // Started, not completed: its energy is not known yet and does not count.
    const { workoutId: open } = await send('POST', '/api/v1/workouts', { start: true, startedAt: '2026-04-04T07:00:00.000Z' }, 201);
    await send('POST', `/api/v1/workouts/${open}/cancel`, {}, 200);
    await workout('05', 549.5);
    expect((await goal(goalId as string)).progress).toMatchObject({ value: 1_000, fraction: 1, achieved: true });
    const tooMuch = await pipeline.env.inject('POST', `/api/v1/workouts/${open}/complete`, { token: pipeline.env.tokens.alice, body: { energyKcal: 25_000 } });
    expect(tooMuch.statusCode).toBe(400);
    expect(tooMuch.json()).toMatchObject({ errors: [{ field: '/body/energyKcal' }] });
  });

  it('records a goal whose period ended short as missed', async () => {
    const { goalId } = await send('POST', '/api/v1/goals', { target: { kind: 'streak', days: 3 }, startsOn: '2026-02-01', endsOn: '2026-02-07' }, 201);
    expect(await evaluator.evaluate()).toMatchObject({ missed: 1 });
    await settleAll();
    expect(await goal(goalId as string)).toMatchObject({ status: 'missed', progress: { value: 0, target: 3, achieved: false } });
  });

  it('refuses bad goals with 400 naming the field, and keeps goals private', async () => {
    for (const [body, field] of [
      [{ target: { kind: 'steps', count: 10_000 }, startsOn: '2026-03-01', endsOn: '2026-03-31' }, '/body/target/kind'],
      [{ target: { kind: 'calories', kcal: -5 }, startsOn: '2026-03-01', endsOn: '2026-03-31' }, '/body/target/kcal'],
      [{ target: { kind: 'streak', days: 1 }, startsOn: '2026-03-01', endsOn: '2026-03-31' }, '/body/target/days'],
      [{ target: { kind: 'weight', weightKg: 80, direction: 'down' }, startsOn: '2026-03-01', endsOn: '2026-03-31' }, '/body/target/direction'],
      [{ target: { kind: 'streak', days: 7 }, startsOn: 'March', endsOn: '2026-03-31' }, '/body/startsOn'],
      [{ target: { kind: 'streak', days: 7 }, startsOn: '2026-03-01', endsOn: '2026-03-31', subjectId: 'x' }, '/body/subjectId'],
    ] as const) {
      const response = await pipeline.env.inject('POST', '/api/v1/goals', { token: pipeline.env.tokens.alice, body });
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(field);
    }
    const inverted = await pipeline.env.inject('POST', '/api/v1/goals', { token: pipeline.env.tokens.alice, body: { target: { kind: 'streak', days: 7 }, startsOn: '2026-03-31', endsOn: '2026-03-01' } });
    expect(inverted.statusCode).toBe(422);
    expect(inverted.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toEqual(['/body/endsOn']);
    const mine = (await pipeline.get('/api/v1/goals')).json<{ items: Goal[] }>().items;
    expect(mine.length).toBeGreaterThan(0);
    expect((await pipeline.get('/api/v1/goals', pipeline.env.tokens.bob)).json<{ items: Goal[] }>().items).toEqual([]);
    expect((await pipeline.get(`/api/v1/goals/${mine[0]?.goalId}`, pipeline.env.tokens.bob)).statusCode).toBe(404);
  });
});
