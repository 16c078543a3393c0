import { bodyMeasurementsProjection, profilesProjection, workoutsProjection, type ProjectionRunner } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandServiceTestEnv } from '../../command-service/src/testing/commandServiceTestEnv';
import { startPipeline, type Pipeline } from './pipeline';
import type { FeedMessage } from '@fitledger/query-service';
import { openFeed } from '../../query-service/src/testing/feedClient';

type Position = Parameters<ProjectionRunner['waitForPosition']>[1];
type Displayed = { value: number; unit: string };
interface Measurement {
  measurementId: string;
  metric: string;
  value: number;
  unit: string;
  entered: Displayed | null;
  display: Displayed | null;
}
interface WorkoutSet {
  loadKg: number | null;
  loadEntered: Displayed | null;
  distanceM: number | null;
  display: { load: Displayed | null; distance: Displayed | null };
}
interface Profile {
  height: { display: Displayed; heightM: number; entered: Displayed } | null;
  weight: { display: Displayed; weightKg: number; entered: Displayed } | null;
  timeZone: string | null;
  timeZoneHistory: { timeZone: string; effectiveFrom: string }[];
  locale: string | null;
  weekStart: number;
  unitPreferences: Record<string, string>;
  revision: number;
}

const EXERCISE = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';
const subOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string }).sub;
const close = (actual: number | undefined, expected: number): void => expect(Math.abs((actual ?? Number.NaN) - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected));

// Profiles from the command API through the projections to the query API: display units follow the
// person's preference in the profile, body metrics and workout sets alike.
describe('profile: unit preferences and time-zone history, end to end', () => {
  let pipeline: Pipeline;
  let env: CommandServiceTestEnv;
  let runner: ProjectionRunner;
  let query: FastifyInstance;

  beforeAll(async () => {
    pipeline = await startPipeline('profile_pipeline', [profilesProjection(), bodyMeasurementsProjection(), workoutsProjection()], { listen: true });
    ({ env, runner, query } = pipeline);
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  const get = (url: string, token = env.tokens.alice, headers: Record<string, string> = {}) => query.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });
  /** A command, then wait until every projection has seen it. */
  async function send(method: 'POST' | 'PUT', url: string, body: object, token = env.tokens.alice): Promise<Record<string, unknown>> {
    const response = await env.inject(method, url, { token, body });
    expect(response.statusCode, response.body).toBeLessThan(300);
    const result = response.json<{ position: Position } & Record<string, unknown>>();
    for (const name of ['profiles', 'body_measurements', 'workouts']) await runner.waitForPosition(name, result.position);
    return result;
  }
  const putProfile = (body: object, token = env.tokens.alice) => send('PUT', '/api/v1/profile', body, token);
  const weights = async (token: string) => (await get('/api/v1/body-metrics?metric=weight', token)).json<{ items: Measurement[] }>().items;
  async function workoutWithSets(token: string): Promise<string> {
    const { workoutId } = (await send('POST', '/api/v1/workouts', { start: true }, token)) as { workoutId: string };
    await send('POST', `/api/v1/workouts/${workoutId}/sets`, { set: { exerciseId: EXERCISE, reps: 5, load: { value: 100, unit: 'kg' } } }, token);
    await send('POST', `/api/v1/workouts/${workoutId}/sets`, { set: { exerciseId: EXERCISE, distance: { value: 5, unit: 'km' } } }, token);
    return workoutId;
  }

  it('answers 404 before the first PUT, then the profile in the preferred units and canonical SI, with ETag and 304', async () => {
    expect((await get('/api/v1/profile')).statusCode).toBe(404);
    expect((await query.inject({ method: 'GET', url: '/api/v1/profile' })).statusCode).toBe(401);

    await putProfile({ height: { value: 172, unit: 'cm' }, weight: { value: 150, unit: 'lb' }, unitPreferences: { system: 'imperial' }, timeZone: 'America/New_York', locale: 'en-US' });
    const response = await get('/api/v1/profile');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('private, no-cache');
    const body = response.json<Profile>();
    expect(body).toMatchObject({ timeZone: 'America/New_York', locale: 'en-US', weekStart: 7, unitPreferences: { mass: 'lb', length: 'in', distance: 'mi', volume: 'fl_oz' }, revision: 1 });
    expect(body.height).toMatchObject({ heightM: 1.72, entered: { value: 172, unit: 'cm' }, display: { unit: 'in' } });
    close(body.height?.display.value, 172 / 2.54);
    expect(body.weight).toMatchObject({ entered: { value: 150, unit: 'lb' }, display: { unit: 'lb' } });
    close(body.weight?.weightKg, 150 * 0.45359237);
    close(body.weight?.display.value, 150);
    expect(response.headers.etag).toBe('"1"');
    expect((await get('/api/v1/profile', env.tokens.alice, { 'if-none-match': '"1"' })).statusCode).toBe(304);
    // Only one's own profile: bob has none yet.
    expect((await get('/api/v1/profile', env.tokens.bob)).statusCode).toBe(404);
  });

  it("shows an imperial user's body weights and set loads in lb (and distances in mi), a metric user's in kg, keeping entered and canonical values", async () => {
    await putProfile({ unitPreferences: { system: 'metric' } }, env.tokens.bob);
    await send('POST', '/api/v1/body-metrics', { measurement: { metric: 'weight', weight: { value: 81.5, unit: 'kg' } } });
    await send('POST', '/api/v1/body-metrics', { measurement: { metric: 'weight', weight: { value: 180, unit: 'lb' } } }, env.tokens.bob);

    const [alices] = await weights(env.tokens.alice);
    expect(alices).toMatchObject({ value: 81.5, unit: 'kg', entered: { value: 81.5, unit: 'kg' }, display: { unit: 'lb' } });
    close(alices?.display?.value, 81.5 / 0.45359237);
    const [bobs] = await weights(env.tokens.bob);
    expect(bobs).toMatchObject({ unit: 'kg', entered: { value: 180, unit: 'lb' }, display: { unit: 'kg' } });
    close(bobs?.display?.value, 180 * 0.45359237);

    // Body lengths in in, volumes in fl oz; metrics without a unit preference have no display.
    const { measurementId: waist } = (await send('POST', '/api/v1/body-metrics', { measurement: { metric: 'circumference', site: 'waist', circumference: { value: 81.28, unit: 'cm' } } })) as { measurementId: string };
    const one = await get(`/api/v1/body-metrics/${waist}`);
    expect(one.json<Measurement>()).toMatchObject({ value: 0.8128, unit: 'm', display: { unit: 'in' } });
    close(one.json<Measurement>().display?.value, 32);
    expect(one.headers.etag).toBe('"0-lb.in.mi.fl_oz"');
    expect((await get(`/api/v1/body-metrics/${waist}`, env.tokens.alice, { 'if-none-match': one.headers.etag as string })).statusCode).toBe(304);
    await send('POST', '/api/v1/body-metrics', { measurement: { metric: 'hydration', volume: { value: 500, unit: 'ml' } } });
    const [water] = (await get('/api/v1/body-metrics?metric=hydration')).json<{ items: Measurement[] }>().items;
    expect(water?.display?.unit).toBe('fl_oz');
    close(water?.display?.value, 500 / 29.5735295625);
    await send('POST', '/api/v1/body-metrics', { measurement: { metric: 'resting_heart_rate', heartRateBpm: 52 } });
    expect((await get('/api/v1/body-metrics?metric=resting_heart_rate')).json<{ items: Measurement[] }>().items[0]?.display).toBeNull();

    const alicesWorkout = await workoutWithSets(env.tokens.alice);
    const detail = await get(`/api/v1/workouts/${alicesWorkout}`);
    expect(detail.statusCode, detail.body).toBe(200);
    expect(detail.headers.etag).toMatch(/^"\d+-lb\.in\.mi\.fl_oz"$/);
    const [lift, run] = detail.json<{ sets: WorkoutSet[] }>().sets;
    expect(lift).toMatchObject({ loadKg: 100, loadEntered: { value: 100, unit: 'kg' }, display: { load: { unit: 'lb' }, distance: null } });
    close(lift?.display.load?.value, 100 / 0.45359237);
    expect(run).toMatchObject({ loadKg: null, distanceM: 5000, display: { load: null, distance: { unit: 'mi' } } });
    close(run?.display.distance?.value, 5000 / 1609.344);
    // The workout's total volume too, in the detail and in the list.
    expect(detail.json<{ totalVolumeKg: number; totalVolumeDisplay: { unit: string; value: number } }>()).toMatchObject({ totalVolumeKg: 500, totalVolumeDisplay: { unit: 'lb' } });
    close(detail.json<{ totalVolumeDisplay: { value: number } }>().totalVolumeDisplay.value, 500 / 0.45359237);
    const listed = (await get('/api/v1/workouts')).json<{ items: { workoutId: string; totalVolumeDisplay?: { unit: string } }[] }>().items.find((w) => w.workoutId === alicesWorkout);
    expect(listed?.totalVolumeDisplay?.unit).toBe('lb');

    // Personal records too: the 100 kg × 5 set in lb, canonical kg kept.
    const [record] = (await get(`/api/v1/personal-records?exerciseId=${EXERCISE}`)).json<{ items: { fiveRmKg: number; display: { unit: string; fiveRm: number } }[] }>().items;
    expect(record).toMatchObject({ fiveRmKg: 100, display: { unit: 'lb' } });
    close(record?.display.fiveRm, 100 / 0.45359237);

    const bobsWorkout = await workoutWithSets(env.tokens.bob);
    const bobsDetail = await get(`/api/v1/workouts/${bobsWorkout}`, env.tokens.bob);
    expect(bobsDetail.headers.etag).toMatch(/^"\d+"$/);
    expect(bobsDetail.json<{ sets: WorkoutSet[] }>().sets.map((s) => s.display)).toEqual([
      { load: { value: 100, unit: 'kg' }, distance: null },
      { load: null, distance: { value: 5, unit: 'km' } },
    ]);

    // Someone without a profile sees metric.
    await send('POST', '/api/v1/body-metrics', { measurement: { metric: 'weight', weight: { value: 70, unit: 'kg' } } }, env.tokens.coach);
    expect((await weights(env.tokens.coach))[0]?.display).toEqual({ value: 70, unit: 'kg' });
  });

  it('shows the live feed in the same display units as the REST reads', async () => {
    const feed = await openFeed(pipeline.feedUrl, { token: env.tokens.alice });
    const received: FeedMessage[] = [];
    // The backlog: alice's (imperial) weigh-ins and workouts so far.
    for (;;) {
      const message = await Promise.race([feed.next(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 1_000))]);
      if (message === undefined) break;
      received.push(message);
    }
    await feed.close();
    const weight = received.find((m) => m.kind === 'body_measurement' && (m.payload as { metric?: string } | null)?.metric === 'weight');
    expect((weight?.payload as { display?: { unit: string } }).display?.unit).toBe('lb');
    const withLoad = received.flatMap((m) => (m.kind === 'workout' ? ((m.payload as unknown as { sets?: { display?: { load: { unit: string } | null } }[] }).sets ?? []) : [])).find((set) => set.display?.load);
    expect(withLoad?.display?.load?.unit).toBe('lb');
  });

  it('follows a change of preference at once: a cached imperial representation is not revalidated', async () => {
    const before = await get('/api/v1/body-metrics?metric=weight');
    const id = before.json<{ items: Measurement[] }>().items[0]?.measurementId ?? '';
    const imperialTag = (await get(`/api/v1/body-metrics/${id}`)).headers.etag as string;
    await putProfile({ unitPreferences: { mass: 'kg' } });
    const after = await get(`/api/v1/body-metrics/${id}`, env.tokens.alice, { 'if-none-match': imperialTag });
    expect(after.statusCode).toBe(200);
    expect(after.json<Measurement>().display).toEqual({ value: 81.5, unit: 'kg' });
    const profile = (await get('/api/v1/profile')).json<Profile>();
    expect(profile.unitPreferences).toEqual({ mass: 'kg', length: 'in', distance: 'mi', volume: 'fl_oz' });
    expect(profile.weight?.display.unit).toBe('kg');
  });

  it('records every time-zone change in rm_profile_time_zones, in order, and shows the history', async () => {
    await putProfile({ timeZone: 'Europe/Berlin' });
    await putProfile({ timeZone: 'Europe/Berlin', locale: 'de-DE' });
    await putProfile({ timeZone: 'America/New_York' });
    const rows = await env.pool.query<{ time_zone: string; effective_from: Date }>(
      'SELECT time_zone, effective_from FROM rm_profile_time_zones WHERE subject_id = $1 ORDER BY effective_from, position',
      [subOf(env.tokens.alice)],
    );
    expect(rows.rows.map((r) => r.time_zone)).toEqual(['America/New_York', 'Europe/Berlin', 'America/New_York']);
    const instants = rows.rows.map((r) => r.effective_from.getTime());
    expect(instants).toEqual([...instants].sort((a, b) => a - b));
    const profile = (await get('/api/v1/profile')).json<Profile>();
    expect(profile.timeZone).toBe('America/New_York');
    expect(profile.weekStart).toBe(1);
    expect(profile.timeZoneHistory).toEqual(rows.rows.map((r) => ({ timeZone: r.time_zone, effectiveFrom: r.effective_from.toISOString() })));
    expect((await env.pool.query('SELECT 1 FROM rm_profile_time_zones WHERE subject_id = $1', [subOf(env.tokens.bob)])).rowCount).toBe(0);
  });
});
