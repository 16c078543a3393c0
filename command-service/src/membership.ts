import type { Identity } from '@fitledger/auth';
import { actsAs, membershipOf, type Membership, type MembershipRole } from '@fitledger/domain';
import { HttpProblem } from '@fitledger/http';
import type { OrganisationCommandRunner } from './accessCommandRunners';

/** A person's membership in an organisation as its stream says now (a token's tenant is an organisation id). */
export type MembershipLookup = (organisationId: string, sub: string) => Promise<Membership | undefined>;

/** Reads the organisation's own stream through the runner's state cache: a removal counts on the next request. */
export function membershipLookup(organisations: Pick<OrganisationCommandRunner, 'peek'>): MembershipLookup {
  return async (organisationId, sub) => {
    const loaded = await organisations.peek(organisationId);
    return loaded === undefined ? undefined : membershipOf(loaded.state, sub);
  };
}

/**
 * The token names the role; the organisation's stream must agree. A trainer or org admin acts on
 * other people only as an active member of the organisation the token acts in, so a removal from
 * the organisation ends their reach even while the identity provider still issues the role.
 */
export async function assertActsAs(lookup: MembershipLookup, identity: Identity, role: MembershipRole, action: string): Promise<void> {
  if (actsAs(await lookup(identity.tenantId, identity.sub), role)) return;
  throw new HttpProblem(403, 'NOT_A_MEMBER', 'Forbidden', `${action} takes an active ${role} membership of the organisation your token acts in`);
}
