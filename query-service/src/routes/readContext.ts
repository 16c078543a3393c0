import { requireIdentity } from '@fitledger/auth';
import type { FastifyRequest } from 'fastify';
import { requireReadScope, type ReadScope, type ReadScopeResolver } from '../readScope';

/** The caller's read scope: authenticated, holding `fitledger:read`, resolved by the access seam. */
export async function readScopeOf(request: FastifyRequest, resolve: ReadScopeResolver): Promise<ReadScope> {
  const identity = requireIdentity(request);
  requireReadScope(identity);
  return resolve(identity);
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
