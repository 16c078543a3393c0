import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectTraceparent, startTelemetry, tracer, withExtractedContext } from '../src/index';

// A stand-in OTLP/HTTP collector on localhost: records what the exporter posts.
const received: { url: string; body: string }[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('startTelemetry', () => {
  it('exports spans over OTLP/HTTP to <endpoint>/v1/traces, and nothing else', async () => {
    const telemetry = startTelemetry({ serviceName: 'obs-int-test', enabled: true, otlpEndpoint: endpoint });
    expect(telemetry.enabled).toBe(true);

    const request = tracer('command-service').startSpan('append-request');
    const traceparent = context.with(trace.setSpan(context.active(), request), () => injectTraceparent());
    request.end();
    await new Promise((r) => setImmediate(r));
    withExtractedContext(traceparent, () => tracer('projections').startSpan('project-event').end());

    await telemetry.shutdown();
    await telemetry.shutdown(); // idempotent

    const traces = received.filter((r) => r.url === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    const body = traces.map((r) => r.body).join('\n');
    expect(body).toContain('obs-int-test');
    expect(body).toContain('append-request');
    expect(body).toContain('project-event');
    expect(received.every((r) => r.url === '/v1/traces')).toBe(true);
  });
});
