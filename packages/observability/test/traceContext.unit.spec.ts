import { Writable } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  injectTraceparent,
  linkFromTraceparent,
  startSpanFromTraceparent,
  tracer,
  withExtractedContext,
} from '../src/index';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  // Registers the provider, an AsyncLocalStorage context manager and the W3C propagator globally.
  provider.register();
});
afterEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

/**
 * Runs `fn` on a later turn of the event loop with no active span, as a projection runner would:
 * the only link to the request is the traceparent string.
 */
function inAnotherAsyncContext<T>(fn: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        resolve(context.with(trace.deleteSpan(context.active()), fn));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

describe('trace context through event metadata', () => {
  it('continues the trace of the appending request in another async context', async () => {
    const httpSpan = tracer('command-service').startSpan('POST /subjects/:subjectId/sets');
    const traceparent = context.with(trace.setSpan(context.active(), httpSpan), () => injectTraceparent());
    httpSpan.end();
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const projected = await inAnotherAsyncContext(() => {
      expect(trace.getActiveSpan()).toBeUndefined();
      const span = startSpanFromTraceparent('project SetLogged', traceparent);
      span.end();
      return span;
    });

    expect(projected.spanContext().traceId).toBe(httpSpan.spanContext().traceId);
    expect(projected.spanContext().spanId).not.toBe(httpSpan.spanContext().spanId);
    const finished = exporter.getFinishedSpans().find((s) => s.name === 'project SetLogged');
    expect(finished?.parentSpanContext?.spanId).toBe(httpSpan.spanContext().spanId);
    expect(finished?.parentSpanContext?.isRemote).toBe(true);
  });

  it('makes the extracted trace active inside withExtractedContext, and puts its ids in log lines', async () => {
    const httpSpan = tracer('command-service').startSpan('POST /x');
    const traceparent = context.with(trace.setSpan(context.active(), httpSpan), () => injectTraceparent());
    httpSpan.end();

    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer | string, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ level: 'info', service: 'projections', destination });

    await inAnotherAsyncContext(() =>
      withExtractedContext(traceparent, () => {
        const span = tracer('projections').startSpan('apply');
        context.with(trace.setSpan(context.active(), span), () => log.info('applied'));
        span.end();
      }),
    );
    log.info('outside any span');

    const [inside, outside] = chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const applied = exporter.getFinishedSpans().find((s) => s.name === 'apply');
    expect(applied?.parentSpanContext?.spanId).toBe(httpSpan.spanContext().spanId);
    expect(inside).toMatchObject({
      msg: 'applied',
      trace_id: httpSpan.spanContext().traceId,
      span_id: applied?.spanContext().spanId,
      trace_flags: '01',
    });
    expect(outside).not.toHaveProperty('trace_id');
    expect(outside).not.toHaveProperty('span_id');
  });

  it('has no traceparent without an active span, and starts a new trace from a missing or malformed one', () => {
    expect(injectTraceparent()).toBeUndefined();
    const fresh = startSpanFromTraceparent('orphan', 'not-a-traceparent');
    fresh.end();
    expect(exporter.getFinishedSpans().find((s) => s.name === 'orphan')?.parentSpanContext).toBeUndefined();
    expect(linkFromTraceparent('00-zz-zz-01')).toBeUndefined();
    expect(linkFromTraceparent(undefined)).toBeUndefined();
  });

  it('links a batch span to the request spans of its events', () => {
    const a = tracer('t').startSpan('a');
    const b = tracer('t').startSpan('b');
    const tps = [a, b].map((s) => context.with(trace.setSpan(context.active(), s), () => injectTraceparent()));
    a.end();
    b.end();
    const links = tps.map(linkFromTraceparent).filter((l) => l !== undefined);
    const batch = tracer('projections').startSpan('batch', { links });
    batch.end();
    const exported = exporter.getFinishedSpans().find((s) => s.name === 'batch');
    expect(exported?.links.map((l) => l.context.spanId)).toEqual([a.spanContext().spanId, b.spanContext().spanId]);
    expect(exported?.parentSpanContext).toBeUndefined();
  });
});
