import type { Identity } from '@fitledger/auth';
import { consentDecider, consentStreamId, decideRead, foldEvents, type ConsentEvent, type SharingScope } from '@fitledger/domain';
import type { EventCodec } from '@fitledger/event-codec';
import type { EventStore } from '@fitledger/event-store';
import { HttpProblem } from '@fitledger/http';
import type { ReadModelDb } from '@fitledger/projections';
import type { Kysely } from 'kysely';
import type { MembershipLookup } from './membership';

/** Where a trainer's write into a client's record may go: the client, and the consent version relied on. */
export interface ClientWriteScope {
  readonly subjectId: string;
  readonly tenantId: string;
  readonly consentVersion: number;
}

export interface ClientAccessCheck {
  /** The client's scope if the caller may write `scope` data for them (trainer, active relationship, consent in force); 403 otherwise. */
  assertMayWriteFor(identity: Identity, clientId: string, scope: SharingScope): Promise<ClientWriteScope>;
}

/**
 * The same pure policy as the reads (`decideRead` of packages/domain): an active trainer member of
 * their organisation with an active relationship there and the client's consent in force for the scope. The consent
 * comes from its stream (a withdrawal counts at once), the relationship from the read model.
 */
export function clientAccessCheck(deps: { db: Kysely<ReadModelDb>; store: EventStore; codec: EventCodec; clock: () => Date; membership: MembershipLookup }): ClientAccessCheck {
  const denied = (): HttpProblem => new HttpProblem(403, 'ACCESS_DENIED', 'Forbidden', 'you may not write for this person (no active coaching relationship and consent in force for it)');
  return {
    async assertMayWriteFor(identity, clientId, scope) {
      if (clientId === identity.sub) throw denied();
      const [relationships, recorded, membership] = await Promise.all([
        deps.db.selectFrom('rm_coaching').select(['status', 'tenant_id']).where('trainer_id', '=', identity.sub).where('client_id', '=', clientId).where('tenant_id', '=', identity.tenantId).execute(),
        deps.store.readStream(consentStreamId(clientId)),
        deps.membership(identity.tenantId, identity.sub),
      ]);
      const decoded = await deps.codec.decodeAll(recorded);
      if (decoded.some((e) => e.erased)) throw denied();
      const consent = foldEvents(consentDecider, decoded as unknown as ConsentEvent[]);
      const relationship = relationships.find((r) => r.status === 'active') ?? relationships[0];
      const decision = decideRead(
        { sub: identity.sub, role: identity.role, tenantId: identity.tenantId },
        { subjectId: clientId, tenantId: identity.tenantId, scope },
        { ...(relationship === undefined ? {} : { coaching: { status: relationship.status, tenantId: relationship.tenant_id } }), consent, ...(membership === undefined ? {} : { membership }), now: deps.clock() },
      );
      if (!decision.allow || decision.basis !== 'consent') throw denied();
      return { subjectId: clientId, tenantId: identity.tenantId, consentVersion: decision.consentVersion };
    },
  };
}
