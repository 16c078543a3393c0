import { noteAccess, recordAccessAhead } from '@fitledger/audit';
import { requireIdentity } from '@fitledger/auth';
import { HttpProblem } from '@fitledger/http';
import type { FastifyRequest } from 'fastify';
import { requireReadScope, type ReadScope, type ReadScopeResolver } from '../readScope';
import { noteReadScope } from '../rowLevelSecurity';

/** The caller's read scope: authenticated, holding `fitledger:read`, resolved by the access seam. */
export async function readScopeOf(request: FastifyRequest, resolve: ReadScopeResolver): Promise<ReadScope> {
  const identity = requireIdentity(request);
  requireReadScope(identity);
  const scope = await resolve(identity, request);
  // Row-level security reads this request's rows as this subject (the tenant stays the token's).
  noteReadScope(request, scope);
  noteAccessOf(request, scope);
  return scope;
}

/** Tells the access record whose data this request reads and on what basis. */
export function noteAccessOf(request: FastifyRequest, scope: ReadScope): void {
  noteAccess(request, {
    subjectId: scope.subjectId,
    basis: scope.emergencyGrantId !== undefined ? 'emergency' : scope.consentVersion !== undefined ? 'consent' : 'owner',
    ...(scope.consentVersion === undefined ? {} : { consentVersion: scope.consentVersion }),
    ...(scope.emergencyGrantId === undefined ? {} : { breakGlassGrantId: scope.emergencyGrantId }),
  });
}

/**
 * Called by a read once its answer is certain to be 200 unless the read itself fails — a page of a
 * collection (200 whatever it finds, an empty page included) after every check that can refuse it,
 * or a record once it was found and is not answered 304 — just before it reads (on): its access
 * record is then written while the data is read rather than after (recordAccessAhead). A read
 * that fails after all gets a second record with its own status.
 */
export function recordWhileReading(request: FastifyRequest): void {
  recordAccessAhead(request, 200);
}

/** Problem responses every authenticated route can answer. */
export const authProblemResponses = {
  400: { $ref: 'Problem#' },
  401: { $ref: 'Problem#' },
  403: { $ref: 'Problem#' },
  503: { $ref: 'Problem#' },
} as const;

/** Read models hold PHI: private to the caller, revalidated before reuse, varying by token. */
export const PRIVATE_CACHE_HEADERS = { 'cache-control': 'private, no-cache', vary: 'authorization' } as const;

/** A 200 response of one page: `items` of `$ref`, and the cursor of the next page (null on the last). */
export function pageResponse(ref: string, nextCursorDescription = 'Pass as `cursor` for the next page; null on the last page.') {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['items', 'nextCursor'],
    properties: {
      items: { type: 'array', items: { $ref: ref } },
      nextCursor: { type: ['string', 'null'], description: nextCursorDescription },
    },
  } as const;
}

/** A cursor this service did not issue (or for another query): 400 naming the parameter. */
export function invalidCursor(message: string): HttpProblem {
  return new HttpProblem(400, 'INVALID_CURSOR', 'Bad Request', `/querystring/cursor: ${message}`, [{ field: '/querystring/cursor', message }]);
}

/** Refuses a time range whose `from` is after its `to` (400 naming `from`). */
export function assertRange(from: string | undefined, to: string | undefined): void {
  if (from !== undefined && to !== undefined && Date.parse(from) > Date.parse(to)) {
    throw new HttpProblem(400, 'VALIDATION_FAILED', 'Bad Request', '/querystring/from: must not be after `to`', [{ field: '/querystring/from', message: 'must not be after to' }]);
  }
}

/** Responses of a GET of one resource with an ETag: the representation, 304, 404 and the auth problems. */
export function detailResponses(ref: string) {
  return {
    200: { $ref: ref },
    304: { type: 'null', description: 'Not modified: the `If-None-Match` tag is current.' },
    404: { $ref: 'Problem#' },
    ...authProblemResponses,
  } as const;
}
