import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';

export interface TelemetryConfig {
  serviceName: string;
  /** Off by default: no SDK is started and tracing stays a no-op. */
  enabled: boolean;
  /**
   * OTLP/HTTP base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://collector:4318`); traces
   * go to `<endpoint>/v1/traces` as the OTLP spec prescribes for the generic variable. When
   * omitted the exporter reads the standard `OTEL_EXPORTER_OTLP_*` variables itself.
   */
  otlpEndpoint?: string;
  /** Auto-instrumentations (e.g. `@opentelemetry/instrumentation-http`), chosen by main.ts. */
  instrumentations?: NodeSDKConfiguration['instrumentations'];
}

export interface Telemetry {
  readonly enabled: boolean;
  /** Flushes pending spans and unregisters nothing else; safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * Reads telemetry settings from the environment: enabled exactly when `OTEL_EXPORTER_OTLP_ENDPOINT`
 * is set (and `OTEL_SDK_DISABLED` is not `true`). A malformed endpoint fails at start, naming the
 * variable.
 */
export function telemetryConfigFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): TelemetryConfig {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  if (endpoint === undefined || endpoint === '' || disabled) return { serviceName, enabled: false };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error('OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error('OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http(s) URL');
  }
  return { serviceName, enabled: true, otlpEndpoint: endpoint };
}

export function otlpTracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

const disabledTelemetry: Telemetry = Object.freeze({ enabled: false, shutdown: () => Promise.resolve() });

/**
 * Starts the OpenTelemetry Node SDK with an OTLP/HTTP trace exporter (batching), W3C trace context
 * propagation and an AsyncLocalStorage context manager. Traces only: metric and log exporters are
 * switched off explicitly, otherwise the SDK would default them to OTLP too.
 * Call before the instrumented modules are imported when instrumentations are passed.
 */
export function startTelemetry(config: TelemetryConfig): Telemetry {
  if (!config.enabled) return disabledTelemetry;
  const exporter = new OTLPTraceExporter(
    config.otlpEndpoint === undefined ? {} : { url: otlpTracesUrl(config.otlpEndpoint) },
  );
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    traceExporter: exporter,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: config.instrumentations ?? [],
  });
  sdk.start();
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () => (stopping ??= sdk.shutdown()),
  };
}

/** The tracer for one component (`tracer('projections')`); a no-op tracer while telemetry is off. */
export function tracer(name: string, version?: string): Tracer {
  return trace.getTracer(name, version);
}
