import { randomBytes } from 'node:crypto';
import { traceProjectionBatch } from '@fitledger/observability';
import { ProjectionRunner, migrateReadModels, readModelDb, workoutsProjection } from '@fitledger/projections';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from '../../command-service/src/testing/commandServiceTestEnv';

// One trace from the HTTP request through the append (traceparent in event metadata) to the
// projection batch that made it visible.
describe('trace context from HTTP through append and projection', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let env: CommandServiceTestEnv;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    provider.register();
    env = await startCommandServiceTestEnv('tracing');
    await migrateReadModels(env.pool);
    runner = new ProjectionRunner({ store: env.store, codec: env.codec, db: readModelDb(env.pool), projections: [workoutsProjection()], traceBatch: traceProjectionBatch });
    runner.start();
  });
  afterAll(async () => {
    await runner.stop();
    await env.close();
    await provider.shutdown();
  });

  it('continues the caller’s trace in the HTTP span, the stored event and the projection batch', async () => {
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
  });
});
