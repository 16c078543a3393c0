import { bodyMeasurementsProjection } from '@fitledger/projections';
import type { FeedMessage } from '@fitledger/query-service';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandServiceTestEnv } from '../../command-service/src/testing/commandServiceTestEnv';
import { startPipeline, type Pipeline } from './pipeline';
import { openFeed } from '../../query-service/src/testing/feedClient';

interface Page {
  items: { measurementId: string; metric: string; value: number; unit: string; entered: { value: number; unit: string } | null; measuredAt: string; systolicMmHg: number | null; diastolicMmHg: number | null; site: string | null }[];
  nextCursor: string | null;
}

// Body measurements from the command API through the projection to the query API and the live feed.
describe('body metrics: record over HTTP, read the series and the feed', () => {
  let pipeline: Pipeline;
  let env: CommandServiceTestEnv;
  let query: FastifyInstance;
  let feedUrl: string;

  beforeAll(async () => {
    pipeline = await startPipeline('body_pipeline', [bodyMeasurementsProjection()], { listen: true });
    ({ env, query, feedUrl } = pipeline);
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  const get = (url: string, token = env.tokens.alice) => pipeline.get(url, token);
  async function record(body: object, token = env.tokens.alice): Promise<{ measurementId: string; position: string }> {
    const response = await env.inject('POST', '/api/v1/body-metrics', { token, body });
    expect(response.statusCode, response.body).toBe(201);
    const result = response.json<{ measurementId: string; position: string }>();
    await pipeline.settle(result.position);
    return result;
  }

  it('serves a weight series newest first with entered and canonical units, paged by cursor, bounded by from/to', async () => {
    const days = ['2026-02-01', '2026-02-02', '2026-02-03', '2026-02-04', '2026-02-05'];
    const ids: string[] = [];
    for (const [i, day] of days.entries()) {
      ids.push((await record({ measurement: { metric: 'weight', weight: { value: 180 - i, unit: 'lb' } }, measuredAt: `${day}T06:30:00.000Z` })).measurementId);
    }
    await record({ measurement: { metric: 'blood_pressure', systolicMmHg: 118, diastolicMmHg: 76 }, measuredAt: '2026-02-03T07:00:00.000Z' });
    await record({ measurement: { metric: 'weight', weight: { value: 70, unit: 'kg' } }, measuredAt: '2026-02-03T06:30:00.000Z' }, env.tokens.bob);

    const first = await get('/api/v1/body-metrics?metric=weight&limit=2');
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('private, no-cache');
    const page1 = first.json<Page>();
    expect(page1.items.map((m) => m.measurementId)).toEqual([ids[4], ids[3]]);
    expect(page1.items[0]).toMatchObject({ metric: 'weight', unit: 'kg', entered: { value: 176, unit: 'lb' }, measuredAt: '2026-02-05T06:30:00.000Z' });
    expect(page1.items[0]?.value).toBeCloseTo(176 * 0.45359237, 9);

    const all: string[] = [...page1.items.map((m) => m.measurementId)];
    let cursor = page1.nextCursor;
    while (cursor !== null) {
      const page = (await get(`/api/v1/body-metrics?metric=weight&limit=2&cursor=${cursor}`)).json<Page>();
      all.push(...page.items.map((m) => m.measurementId));
      cursor = page.nextCursor;
    }
    // Every one of alice's weights once, none of bob's, no blood pressure.
    expect(all).toEqual([...ids].reverse());

    const ranged = (await get('/api/v1/body-metrics?metric=weight&from=2026-02-02T00:00:00Z&to=2026-02-04T00:00:00Z')).json<Page>();
    expect(ranged.items.map((m) => m.measurementId)).toEqual([ids[2], ids[1]]);
    const pressure = (await get('/api/v1/body-metrics?metric=blood_pressure')).json<Page>();
    expect(pressure.items).toHaveLength(1);
    expect(pressure.items[0]).toMatchObject({ value: 118, unit: 'mmHg', systolicMmHg: 118, diastolicMmHg: 76, entered: null });
  });

  it('shows one measurement by id with its revision as ETag (304 when unchanged), and 404 to anyone else', async () => {
    const { measurementId } = await record({ measurement: { metric: 'circumference', site: 'waist', circumference: { value: 32, unit: 'in' } } });
    const mine = await get(`/api/v1/body-metrics/${measurementId}`);
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({ measurementId, metric: 'circumference', site: 'waist', unit: 'm', entered: { value: 32, unit: 'in' } });
    expect(mine.headers.etag).toBe('"0"');
    const again = await query.inject({ method: 'GET', url: `/api/v1/body-metrics/${measurementId}`, headers: { authorization: `Bearer ${env.tokens.alice}`, 'if-none-match': '"0"' } });
    expect(again.statusCode).toBe(304);
    const bobs = await get(`/api/v1/body-metrics/${measurementId}`, env.tokens.bob);
    expect(bobs.statusCode).toBe(404);
    expect((await get(`/api/v1/body-metrics?metric=circumference`, env.tokens.bob)).json<Page>().items).toEqual([]);
  });

  it('refuses bad queries with 400 problem+json naming the parameter', async () => {
    for (const [url, field] of [
      ['/api/v1/body-metrics', '/querystring/metric'],
      ['/api/v1/body-metrics?metric=mood', '/querystring/metric'],
      ['/api/v1/body-metrics?metric=weight&limit=5000', '/querystring/limit'],
      ['/api/v1/body-metrics?metric=weight&from=yesterday', '/querystring/from'],
      ['/api/v1/body-metrics?metric=weight&cursor=not-a-cursor', '/querystring/cursor'],
      ['/api/v1/body-metrics?metric=weight&from=2026-03-01T00:00:00Z&to=2026-02-01T00:00:00Z', '/querystring/from'],
      ['/api/v1/body-metrics?metric=weight&unknown=1', '/querystring/unknown'],
      ['/api/v1/body-metrics/not-a-uuid', '/params/measurementId'],
    ] as const) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json<{ errors?: { field: string }[] }>().errors?.map((e) => e.field), `${url} ${response.body}`).toContain(field);
    }
    expect((await query.inject({ method: 'GET', url: '/api/v1/body-metrics?metric=weight' })).statusCode).toBe(401);
  });

  it('pushes each change to the owner’s live feed: recorded, corrected, deleted', async () => {
    const feed = await openFeed(feedUrl, { token: env.tokens.bob });
    // Bob's earlier weight arrives first (backlog).
    expect((await feed.next()).kind).toBe('body_measurement');
    const { measurementId } = await record({ measurement: { metric: 'resting_heart_rate', heartRateBpm: 48 } }, env.tokens.bob);
    const corrected = await env.inject('PUT', `/api/v1/body-metrics/${measurementId}`, { token: env.tokens.bob, body: { measurement: { metric: 'resting_heart_rate', heartRateBpm: 49 } } });
    expect(corrected.statusCode).toBe(200);
    const deleted = await env.inject('DELETE', `/api/v1/body-metrics/${measurementId}`, { token: env.tokens.bob });
    expect(deleted.statusCode).toBe(200);
    const messages: FeedMessage[] = await feed.take(3);
    await feed.close();
    expect(messages.map((m) => [m.kind, m.op, m.entityId])).toEqual([
      ['body_measurement', 'upsert', measurementId],
      ['body_measurement', 'upsert', measurementId],
      ['body_measurement', 'delete', measurementId],
    ]);
    expect(messages.every((m) => m.entityId === measurementId)).toBe(true);
    expect(messages[2]?.payload).toBeNull();
  });
});
