import type { Identity } from '@fitledger/auth';
import type { FeedKind } from '@fitledger/projections';
import type { FastifyRequest } from 'fastify';
import { HttpProblem } from '@fitledger/http';

/** Whose rows a request may read: every read-model query is restricted to exactly this pair. */
export interface ReadScope {
  readonly tenantId: string;
  readonly subjectId: string;
  /** Set when the read is someone else's data allowed by their consent: the version relied on. */
  readonly consentVersion?: number;
  /** Set when the read is allowed by the caller's open emergency (break-glass) grant. */
  readonly emergencyGrantId?: string;
  /** Only these kinds of feed changes (a trainer's feed of a client: what the consent covers); all when absent. */
  readonly feedKinds?: readonly FeedKind[];
}

/**
 * Decides whose data a caller reads. Today: their own, whatever their role. This is the seam where
 * trainers (consent scopes), researchers and auditors get access to other subjects later: it will take
 * the requested subject and the access policy of packages/domain, and answer 404 (not 403) for a
 * subject the caller may not see, so the existence of other people's records is not disclosed.
 */
export type ReadScopeResolver = (identity: Identity, request?: FastifyRequest) => ReadScope | Promise<ReadScope>;

export const ownDataOnly: ReadScopeResolver = (identity) => ({ tenantId: identity.tenantId, subjectId: identity.sub });

/** The read-model APIs ask for `fitledger:read` (RFC 9068 `scope`) on top of a valid token. */
export const READ_SCOPE = 'fitledger:read';

export function requireReadScope(identity: Identity): void {
  if (!identity.scopes.includes(READ_SCOPE)) {
    throw new HttpProblem(403, 'INSUFFICIENT_SCOPE', 'Forbidden', `the access token lacks the ${READ_SCOPE} scope`, undefined, {
      'www-authenticate': `Bearer realm="fitledger", error="insufficient_scope", scope="${READ_SCOPE}"`,
    });
  }
}
