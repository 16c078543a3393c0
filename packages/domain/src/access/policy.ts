import type { Role } from '../events/envelope';
import { trainerSharingConsent, type ConsentState } from './consent';
import { openEmergencyGrant, type EmergencyAccessState } from './emergencyAccess';
import type { CoachingStatus } from './coaching';
import type { MembershipRole, SharingScope } from './events';
import type { Membership } from './organisation';

/**
 * Access policy decisions: who may read whose health data. Pure — the services gather the facts
 * (the caller from a verified token, the relationship and the subject's consent stream as they are
 * at the request) and enforce the answer. Denials never say whether the subject or record exists.
 */

export interface AccessCaller {
  readonly sub: string;
  readonly role: Role;
  readonly tenantId: string;
}

export interface ReadRequest {
  /** Whose data: the subject and the organisation (tenant) their data lives in. */
  readonly subjectId: string;
  readonly tenantId: string;
  /** What kind of data the route returns. */
  readonly scope: SharingScope;
}

/** What the service knows about the caller and the subject at the time of the request. */
export interface ReadFacts {
  /** The relationship between caller (trainer) and subject (client), if any. */
  readonly coaching?: { readonly status: CoachingStatus; readonly tenantId: string };
  /** The subject's consent stream folded as of now (only needed for someone else's data). */
  readonly consent?: ConsentState;
  /** The subject's emergency-access grants (only needed for someone else's data). */
  readonly emergency?: EmergencyAccessState;
  /**
   * The caller's membership in the organisation their token acts in (a token's tenant is an
   * organisation id). A role that reaches into other people's data also needs the membership:
   * the identity provider says who you are, the organisation's own stream says what you are there.
   */
  readonly membership?: Membership;
  readonly now: Date;
}

export type ReadDecision =
  | { readonly allow: true; readonly basis: 'owner' }
  /** Allowed by a consent: `consentVersion` is cited by the access record and the response. */
  | { readonly allow: true; readonly basis: 'consent'; readonly consentId: string; readonly consentVersion: number }
  /** Allowed by an open break-glass grant of the caller: recorded, visible to the subject, reviewed. */
  | { readonly allow: true; readonly basis: 'emergency'; readonly grantId: string }
  | { readonly allow: false; readonly reason: DenyReason };

export type DenyReason =
  /** The role never reads other people's health data through these routes. */
  | 'role'
  /** Another organisation's subject. */
  | 'organisation'
  /** Not an active member of the organisation in the role the route needs. */
  | 'membership'
  /** No active trainer–client relationship. */
  | 'no_relationship'
  /** No consent in force covering this scope for this trainer (never given, withdrawn, expired, or a minor's awaiting the guardian). */
  | 'no_consent';

/** Roles that read another subject's data by consent. Auditors, researchers and admins get other, narrower routes. */
export const CONSENT_READER_ROLES: readonly Role[] = ['trainer'];
/** Roles that may open emergency (break-glass) access in their organisation. */
export const EMERGENCY_ACCESS_ROLES: readonly Role[] = ['org_admin'];

/** An active membership in the organisation with this role. */
export const actsAs = (membership: Membership | undefined, role: MembershipRole): boolean => membership?.status === 'active' && membership.role === role;

export function decideRead(caller: AccessCaller, request: ReadRequest, facts: ReadFacts): ReadDecision {
  if (caller.sub === request.subjectId && caller.tenantId === request.tenantId) return { allow: true, basis: 'owner' };
  if (EMERGENCY_ACCESS_ROLES.includes(caller.role) && caller.tenantId === request.tenantId && actsAs(facts.membership, 'org_admin') && facts.emergency !== undefined) {
    const grant = openEmergencyGrant(facts.emergency, caller.sub, facts.now);
    if (grant !== undefined) return { allow: true, basis: 'emergency', grantId: grant.opened.grantId };
  }
  if (!CONSENT_READER_ROLES.includes(caller.role)) return { allow: false, reason: 'role' };
  if (caller.tenantId !== request.tenantId) return { allow: false, reason: 'organisation' };
  if (!actsAs(facts.membership, 'trainer')) return { allow: false, reason: 'membership' };
  if (facts.coaching?.status !== 'active' || facts.coaching.tenantId !== caller.tenantId) return { allow: false, reason: 'no_relationship' };
  const consent = facts.consent === undefined ? undefined : trainerSharingConsent(facts.consent, caller.sub, request.scope, facts.now);
  if (consent === undefined || facts.consent === undefined) return { allow: false, reason: 'no_consent' };
  return { allow: true, basis: 'consent', consentId: consent.given.consentId, consentVersion: facts.consent.version };
}
