import { context, SpanKind, SpanStatusCode, trace, type Context, type Link, type Span } from '@opentelemetry/api';
import { extractTraceparent, linkFromTraceparent } from './traceContext';

/**
 * A server span for one HTTP request, continuing the caller's W3C `traceparent` when it sent one.
 * Returns the span and the context to run the request in (so handlers see it as active and can put
 * its traceparent into event metadata). A no-op span while telemetry is off.
 */
export function startServerSpan(method: string, route: string, traceparent: string | undefined): { span: Span; ctx: Context } {
  const parent = extractTraceparent(traceparent, context.active());
  const span = trace.getTracer('@fitledger/http').startSpan(`${method} ${route}`, {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': method, 'http.route': route },
  }, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}

export function endServerSpan(span: Span, statusCode: number): void {
  span.setAttribute('http.response.status_code', statusCode);
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** One writer: its span is the parent. Several: links to each (at most 32). */
function parentOrLinks(traceparents: readonly string[]): { parent: Context; links: Link[]; distinct: string[] } {
  const distinct = [...new Set(traceparents)].slice(0, 32);
  const only = distinct.length === 1 ? distinct[0] : undefined;
  const parent = only === undefined ? context.active() : extractTraceparent(only, context.active());
  const links = only === undefined ? distinct.map(linkFromTraceparent).filter((l) => l !== undefined) : [];
  return { parent, links, distinct };
}

/**
 * Traces one projection batch. With events from a single request the batch span is a child of that
 * request's span (same trace); with several it links to each of them.
 */
export async function traceProjectionBatch<T>(
  info: { projection: string; fromPosition: string; toPosition: string; eventCount: number; traceparents: readonly string[] },
  run: () => Promise<T>,
): Promise<T> {
  const { parent, links } = parentOrLinks(info.traceparents);
  const span = trace.getTracer('@fitledger/projections').startSpan(`project ${info.projection}`, {
    kind: SpanKind.CONSUMER,
    links,
    attributes: { 'fitledger.projection': info.projection, 'fitledger.events': info.eventCount, 'fitledger.position.to': info.toPosition },
  }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), run);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Traces the websocket push of one feed page. With changes from a single request the push span is a
 * child of that request's span (same trace as HTTP → append → projection); with several it links to
 * each. `send` runs synchronously inside the span (it queues the frames).
 */
export function traceFeedPush(traceparents: readonly string[], send: () => void): void {
  const { parent, links, distinct } = parentOrLinks(traceparents);
  const span = trace.getTracer('@fitledger/query-service').startSpan('feed push', { kind: SpanKind.PRODUCER, links, attributes: { 'fitledger.feed.requests': distinct.length } }, parent);
  try {
    context.with(trace.setSpan(parent, span), send);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}
