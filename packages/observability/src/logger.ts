import { hostname } from 'node:os';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import { censorPhiFields, PHI_FIELD_NAMES, PHI_LOG_PATHS, phiFieldSet, REDACTED } from './phiFields';

export interface LoggerConfig {
  level: LevelWithSilent;
  /** Bound to every line as `service`. */
  service: string;
  /** Where lines go; stdout when omitted. Tests pass an in-memory stream. */
  destination?: DestinationStream;
  /** Pino redact paths added to `PHI_LOG_PATHS`. */
  extraRedactPaths?: readonly string[];
  /** Field names censored at any depth, added to `PHI_FIELD_NAMES`. */
  extraPhiFields?: readonly string[];
}

/** Structural view of a fastify request (or a Node `IncomingMessage`): only what we log. */
export interface LoggableRequest {
  id?: string;
  method?: string;
  url?: string;
  routeOptions?: { url?: string | undefined };
}

/** Structural view of a fastify reply (or a Node `ServerResponse`). */
export interface LoggableReply {
  statusCode?: number;
}

/** Drop query string and fragment: filters such as `?email=…&from=2024-01-02` can be PHI. */
export function stripQueryString(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

/**
 * Request log fields: id, method, route pattern (`/subjects/:subjectId/sets`) and the path without
 * its query string. No headers, no client address (an IP address is an identifier), no body.
 */
export function serializeRequest(req: LoggableRequest): Record<string, unknown> {
  return {
    id: req.id,
    method: req.method,
    route: req.routeOptions?.url,
    url: req.url === undefined ? undefined : stripQueryString(req.url),
  };
}

export function serializeReply(reply: LoggableReply): Record<string, unknown> {
  return { statusCode: reply.statusCode };
}

/**
 * Serializers to hand to fastify through `loggerInstance` (fastify merges them over its own, whose
 * `req` logs the raw URL and the client address). The response time comes from fastify itself
 * (`responseTime` on "request completed"), the request id from its child binding (`reqId`).
 */
export function requestSerializers(phiFields: ReadonlySet<string> = phiFieldSet(PHI_FIELD_NAMES)) {
  const errFields = new Set([...phiFields, 'detail', 'where']);
  return {
    req: serializeRequest,
    res: serializeReply,
    // Error objects are not walked by the log formatter (they are class instances), so censor the
    // serialized form: driver errors carry row values in `detail`, HTTP client errors carry bodies.
    err: (err: Error): unknown => censorPhiFields(pino.stdSerializers.err(err), errFields),
  };
}

/** `trace_id`/`span_id`/`trace_flags` of the active OpenTelemetry span, or nothing. */
export function activeTraceFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: sc.traceFlags.toString(16).padStart(2, '0') };
}

/** Pino logger with PHI redaction, a `service` binding and the active trace ids on every line. */
export function createLogger(config: LoggerConfig): Logger {
  const fields = phiFieldSet([...PHI_FIELD_NAMES, ...(config.extraPhiFields ?? [])]);
  const options = {
    level: config.level,
    // Replacing `base` drops pino's defaults, so pid and hostname are restated.
    base: { service: config.service, pid: process.pid, hostname: hostname() },
    mixin: activeTraceFields,
    redact: { paths: [...PHI_LOG_PATHS, ...(config.extraRedactPaths ?? [])], censor: REDACTED },
    serializers: requestSerializers(fields),
    formatters: {
      // Runs on the object passed to each log call, before serializers and path redaction.
      log: (obj: Record<string, unknown>) => censorPhiFields(obj, fields) as Record<string, unknown>,
    },
  };
  return config.destination === undefined ? pino(options) : pino(options, config.destination);
}
