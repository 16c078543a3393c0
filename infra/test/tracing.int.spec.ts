import { randomBytes } from 'node:crypto';
import { createTokenVerifier } from '@fitledger/auth';
import { traceProjectionBatch } from '@fitledger/observability';
import { ProjectionRunner, migrateReadModels, readModelDb, workoutsProjection } from '@fitledger/projections';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp as buildQueryApp, inProcessChangeSource } from '@fitledger/query-service';
import type { FastifyInstance } from 'fastify';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from '../../command-service/src/testing/commandServiceTestEnv';
import { openFeed } from '../../query-service/src/testing/feedClient';

// One trace from the HTTP request through the append (traceparent in event metadata) to the
// projection batch that made it visible and the websocket push that delivered it.
describe('trace context from HTTP through append and projection', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let env: CommandServiceTestEnv;
  let runner: ProjectionRunner;
  let query: FastifyInstance;
  let feedUrl: string;

  beforeAll(async () => {
    provider.register();
    env = await startCommandServiceTestEnv('tracing');
    await migrateReadModels(env.pool);
    const changes = inProcessChangeSource();
    runner = new ProjectionRunner({ store: env.store, codec: env.codec, db: readModelDb(env.pool), projections: [workoutsProjection()], traceBatch: traceProjectionBatch, onCommitted: changes.publish });
    runner.start();
    query = buildQueryApp({ db: env.pool, verifier: createTokenVerifier({ issuer: env.oidc.issuer, audience: env.oidc.audience }), changeSource: changes });
    feedUrl = `${(await query.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws')}/api/v1/feed`;
  });
  afterAll(async () => {
    await query.close();
    await runner.stop();
    await env.close();
    await provider.shutdown();
  });

  it('continues the caller’s trace in the HTTP span, the stored event, the projection batch and the websocket push', async () => {
    const feed = await openFeed(feedUrl, { token: env.tokens.alice });
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const response = await env.inject('POST', '/api/v1/workouts', {
      token: env.tokens.alice,
      body: { start: true, title: 'Traced' },
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(response.statusCode).toBe(201);
    const { workoutId, position } = response.json<{ workoutId: string; position: string }>();

    const http = exporter.getFinishedSpans().find((s) => s.name === 'POST /api/v1/workouts');
    expect(http?.spanContext().traceId).toBe(traceId);
    expect(http?.parentSpanContext?.spanId).toBe(callerSpanId);

    const [event] = await env.store.readStream(`workout-${workoutId}`);
    expect(event?.metadata['traceparent']).toBe(`00-${traceId}-${http?.spanContext().spanId}-01`);

    await runner.waitForPosition('workouts', position as Parameters<ProjectionRunner['waitForPosition']>[1]);
    const batch = exporter.getFinishedSpans().find((s) => s.name === 'project workouts' && s.spanContext().traceId === traceId);
    expect(batch).toBeDefined();
    expect(batch?.parentSpanContext?.spanId).toBe(http?.spanContext().spanId);

    const message = await feed.next();
    expect(message.entityId).toBe(workoutId);
    await feed.close();
    const push = exporter.getFinishedSpans().find((s) => s.name === 'feed push' && s.spanContext().traceId === traceId);
    expect(push).toBeDefined();
    expect(push?.parentSpanContext?.spanId).toBe(http?.spanContext().spanId);
  });
});
