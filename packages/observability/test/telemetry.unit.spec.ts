import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { otlpTracesUrl, startTelemetry, telemetryConfigFromEnv } from '../src/index';

describe('telemetry configuration', () => {
  it('is off when OTEL_EXPORTER_OTLP_ENDPOINT is not set', () => {
    expect(telemetryConfigFromEnv('query-service', {})).toEqual({ serviceName: 'query-service', enabled: false });
    expect(telemetryConfigFromEnv('q', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }).enabled).toBe(false);
  });

  it('is on with the endpoint, unless OTEL_SDK_DISABLED is true', () => {
    expect(telemetryConfigFromEnv('q', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
      serviceName: 'q',
      enabled: true,
      otlpEndpoint: 'http://collector:4318',
    });
    expect(
      telemetryConfigFromEnv('q', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' }).enabled,
    ).toBe(false);
  });

  it('rejects a malformed endpoint naming the variable', () => {
    expect(() => telemetryConfigFromEnv('q', { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    expect(() => telemetryConfigFromEnv('q', { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });

  it('sends traces to <endpoint>/v1/traces', () => {
    expect(otlpTracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl('http://collector:4318/otlp/')).toBe('http://collector:4318/otlp/v1/traces');
  });

  it('starts nothing when disabled: no-op shutdown and non-recording spans', async () => {
    const telemetry = startTelemetry({ serviceName: 'q', enabled: false });
    expect(telemetry.enabled).toBe(false);
    const span = trace.getTracer('t').startSpan('s');
    expect(span.isRecording()).toBe(false);
    span.end();
    await expect(telemetry.shutdown()).resolves.toBeUndefined();
  });
});
