import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  trace,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * Trace context carried through events: the command side stores the W3C `traceparent` of the
 * request in event metadata, the projection runner continues (or links to) that trace.
 *
 * The W3C propagator is used directly rather than the global one: event metadata holds a
 * `traceparent` whatever `OTEL_PROPAGATORS` says, and injection must not depend on which global
 * propagator happens to be registered. Only the traceparent travels (no tracestate, no baggage:
 * baggage is free-form and could carry PHI into the event store).
 * https://www.w3.org/TR/trace-context/#traceparent-header
 */
const w3c = new W3CTraceContextPropagator();

const TRACER_NAME = '@fitledger/observability';

/** W3C traceparent of the span active in `ctx` (default: the current context), if there is one. */
export function injectTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/**
 * `base` with the remote span of `traceparent` as parent. A missing or malformed traceparent
 * leaves `base` unchanged.
 */
export function extractTraceparent(traceparent: string | undefined, base: Context = context.active()): Context {
  if (traceparent === undefined) return base;
  return w3c.extract(base, { traceparent }, defaultTextMapGetter);
}

/** Runs `fn` with the trace of `traceparent` as the active context (spans started inside join it). */
export function withExtractedContext<T>(traceparent: string | undefined, fn: () => T): T {
  return context.with(extractTraceparent(traceparent), fn);
}

/**
 * Starts a span whose parent is the span of `traceparent`; when it is missing or malformed the
 * parent is whatever is active (e.g. the runner's batch span, or none: a new trace).
 * The span is not made active; wrap work in `context.with(trace.setSpan(context.active(), span), …)`.
 */
export function startSpanFromTraceparent(
  name: string,
  traceparent: string | undefined,
  options?: SpanOptions,
  tracerName: string = TRACER_NAME,
): Span {
  return trace.getTracer(tracerName).startSpan(name, options, extractTraceparent(traceparent));
}

/**
 * A span link to the span of `traceparent`: for a batch span that handles events from many
 * requests and therefore cannot have them all as parent.
 */
export function linkFromTraceparent(traceparent: string | undefined): Link | undefined {
  if (traceparent === undefined) return undefined;
  // Extract onto the root context so a malformed value cannot yield a link to the active span.
  const spanContext = trace.getSpanContext(extractTraceparent(traceparent, ROOT_CONTEXT));
  return spanContext === undefined ? undefined : { context: spanContext };
}
