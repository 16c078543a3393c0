import { requireIdentity, type Identity } from '@fitledger/auth';
import { extractTraceparent, injectTraceparent } from '@fitledger/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestFingerprint } from '../idempotency';
import { etagOf, parseIfMatch } from '../preconditions';
import { invalidIfMatch, validationFailed } from '../problems';
import type { CommandContext, CommandOutcome, ContextInput } from '../streamCommandRunner';

/** What a route needs from its runner to build a command context. */
export interface ContextSource {
  assertMayWrite(identity: Identity): void;
  context(input: ContextInput): Promise<CommandContext>;
}

/** The caller, their write permission, If-Match, Idempotency-Key and trace context of a command request. */
export async function commandContextOf(request: FastifyRequest, runner: ContextSource): Promise<CommandContext> {
  const identity = requireIdentity(request);
  runner.assertMayWrite(identity);
  const ifMatch = parseIfMatch(request.headers['if-match']);
  if (ifMatch === null) throw invalidIfMatch();
  const idempotencyKey = request.headers['idempotency-key'];
  if (Array.isArray(idempotencyKey)) throw validationFailed('/headers/idempotency-key', 'must be given once');
  const rawTraceparent = request.headers['traceparent'];
  const traceparent = injectTraceparent() ?? injectTraceparent(extractTraceparent(typeof rawTraceparent === 'string' ? rawTraceparent : undefined));
  return runner.context({
    identity,
    correlationId: request.id,
    // Only a retried request under the same key is compared with the first one.
    fingerprint: () => requestFingerprint({ method: request.method, route: request.routeOptions.url ?? request.url, params: request.params, body: request.body }),
    ...(traceparent === undefined ? {} : { traceparent }),
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    ...(ifMatch === undefined ? {} : { ifMatch }),
  });
}

/** A command's answer: the outcome with its revision as ETag, never cached. */
export function sendOutcome<T extends CommandOutcome>(reply: FastifyReply, status: 200 | 201, result: T, location?: string): FastifyReply {
  reply.code(status).header('etag', etagOf(result.revision)).header('cache-control', 'no-store');
  if (location !== undefined) reply.header('location', location);
  return reply.send(result);
}

/** Bodies are optional on routes whose fields all are: a bare request means "{}". */
export function emptyBodyIsEmptyObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
  return Promise.resolve();
}

/** `undefined`-free spread: optional command fields are left out, not set to undefined. */
export function present<T extends Record<string, unknown>>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
