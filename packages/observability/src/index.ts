/**
 * @fitledger/observability — pino logging with PHI redaction, OpenTelemetry tracing, and trace
 * context carried through event metadata.
 *
 * Metrics: not here yet. When needed, add a MeterProvider with a Prometheus reader
 * (`@opentelemetry/exporter-prometheus`, already a dependency of sdk-node) to `startTelemetry`;
 * labels must hold only opaque ids, types and outcomes — never subject ids or PHI.
 */
export {
  activeTraceFields,
  createLogger,
  requestSerializers,
  serializeReply,
  serializeRequest,
  stripQueryString,
  type LoggableReply,
  type LoggableRequest,
  type LoggerConfig,
} from './logger';
export {
  censorPhiFields,
  normaliseFieldName,
  PHI_FIELD_NAMES,
  PHI_LOG_PATHS,
  phiFieldSet,
  phiPathsFor,
  REDACTED,
} from './phiFields';
export {
  otlpTracesUrl,
  startTelemetry,
  telemetryConfigFromEnv,
  tracer,
  type Telemetry,
  type TelemetryConfig,
} from './telemetry';
export {
  extractTraceparent,
  injectTraceparent,
  linkFromTraceparent,
  startSpanFromTraceparent,
  withExtractedContext,
} from './traceContext';
export { startServerSpan, endServerSpan, traceProjectionBatch, traceFeedPush } from './spans';
