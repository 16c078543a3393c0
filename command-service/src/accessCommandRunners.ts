import {
  coachingDecider,
  coachingStreamId,
  consentDecider,
  consentStreamId,
  emergencyAccessDecider,
  emergencyAccessStreamId,
  subjectOfEmergencyAccessKey,
  EMERGENCY_ACCESS_ROLES,
  organisationDecider,
  organisationStreamId,
  type EmergencyAccessCommand,
  type EmergencyAccessEvent,
  type EmergencyAccessState,
  type CoachingCommand,
  type CoachingEvent,
  type CoachingState,
  type ConsentCommand,
  type ConsentEvent,
  type ConsentState,
  type OrganisationCommand,
  type OrganisationEvent,
  type OrganisationState,
} from '@fitledger/domain';
import { WRITE_SCOPE, type AccessDecision, type Caller } from './accessPolicy';
import { createStreamCommandRunner, type StreamAction, type StreamKind, type StreamOwner, type StreamRunnerDeps } from './streamCommandRunner';

/**
 * Consent: one stream per subject (`consent-<sub>`). The routes address the caller's own stream,
 * except a guardian's confirmation, which addresses the minor's: that is let through to the
 * decider, which answers "no such consent" to anyone but the guardian named in it.
 */
export function decideConsentAccess(caller: Caller, action: StreamAction, owner: StreamOwner | undefined): AccessDecision {
  if (!caller.scopes.includes(WRITE_SCOPE)) return { outcome: 'forbidden', reason: 'missing_scope' };
  const own = owner !== undefined && owner.subjectId === caller.sub && owner.tenantId === caller.tenantId;
  if (action === 'create') return owner === undefined || own ? { outcome: 'allow', subjectId: caller.sub, tenantId: caller.tenantId } : { outcome: 'exists' };
  if (owner === undefined) return { outcome: 'not_found' };
  return { outcome: 'allow', subjectId: owner.subjectId, tenantId: owner.tenantId };
}

export const consentKind: StreamKind<ConsentState, ConsentCommand, ConsentEvent> = {
  noun: 'consent',
  notFoundCode: 'CONSENT_NOT_FOUND',
  alreadyExists: { code: 'CONSENT_ALREADY_EXISTS', field: 'consentId' },
  notFoundDomainCodes: new Set(['CONSENT_NOT_FOUND']),
  roleNotAllowed: 'this role gives no consent here',
  decider: consentDecider,
  streamId: consentStreamId,
  access: decideConsentAccess,
};

/**
 * Coaching: a relationship stream started by the trainer (its subject, in the trainer's
 * organisation). The invited client acts on it from the same organisation; the decider checks that
 * the caller is a party and answers "no such relationship" otherwise.
 */
export function decideCoachingAccess(caller: Caller, action: StreamAction, owner: StreamOwner | undefined): AccessDecision {
  if (!caller.scopes.includes(WRITE_SCOPE)) return { outcome: 'forbidden', reason: 'missing_scope' };
  if (action === 'create') {
    if (caller.role !== 'trainer') return { outcome: 'forbidden', reason: 'role' };
    return owner === undefined || (owner.subjectId === caller.sub && owner.tenantId === caller.tenantId) ? { outcome: 'allow', subjectId: caller.sub, tenantId: caller.tenantId } : { outcome: 'exists' };
  }
  if (owner === undefined || owner.tenantId !== caller.tenantId) return { outcome: 'not_found' };
  return { outcome: 'allow', subjectId: owner.subjectId, tenantId: owner.tenantId };
}

export const coachingKind: StreamKind<CoachingState, CoachingCommand, CoachingEvent> = {
  noun: 'relationship',
  notFoundCode: 'RELATIONSHIP_NOT_FOUND',
  alreadyExists: { code: 'RELATIONSHIP_ALREADY_EXISTS', field: 'relationshipId' },
  notFoundDomainCodes: new Set(['RELATIONSHIP_NOT_FOUND']),
  roleNotAllowed: 'only trainers invite clients',
  decider: coachingDecider,
  streamId: coachingStreamId,
  access: decideCoachingAccess,
};

export const createConsentCommandRunner = (deps: StreamRunnerDeps) => createStreamCommandRunner(consentKind, deps);
export const createCoachingCommandRunner = (deps: StreamRunnerDeps) => createStreamCommandRunner(coachingKind, deps);
export type ConsentCommandRunner = ReturnType<typeof createConsentCommandRunner>;
export type CoachingCommandRunner = ReturnType<typeof createCoachingCommandRunner>;

/**
 * Organisations: a stream per organisation, its own subject and tenant. Creating one takes a
 * platform admin; everything after is decided on the membership state (org admin, invitee, the
 * member themselves), so the token's role alone grants nothing inside an organisation.
 */
export function decideOrganisationAccess(caller: Caller, action: StreamAction, owner: StreamOwner | undefined, organisationId: string): AccessDecision {
  if (!caller.scopes.includes(WRITE_SCOPE)) return { outcome: 'forbidden', reason: 'missing_scope' };
  if (action === 'create') {
    if (caller.role !== 'platform_admin') return { outcome: 'forbidden', reason: 'role' };
    // The organisation is its own subject and tenant: its events are sealed under its own key.
    return owner === undefined ? { outcome: 'allow', subjectId: organisationId, tenantId: organisationId } : { outcome: 'allow', subjectId: owner.subjectId, tenantId: owner.tenantId };
  }
  if (owner === undefined) return { outcome: 'not_found' };
  return { outcome: 'allow', subjectId: owner.subjectId, tenantId: owner.tenantId };
}

export const organisationKind: StreamKind<OrganisationState, OrganisationCommand, OrganisationEvent> = {
  noun: 'organisation',
  notFoundCode: 'ORGANISATION_NOT_FOUND',
  alreadyExists: { code: 'ORGANISATION_ALREADY_EXISTS', field: 'organisationId' },
  notFoundDomainCodes: new Set(['ORGANISATION_NOT_FOUND']),
  roleNotAllowed: 'only a platform admin creates organisations',
  decider: organisationDecider,
  streamId: organisationStreamId,
  access: decideOrganisationAccess,
};

export const createOrganisationCommandRunner = (deps: StreamRunnerDeps) => createStreamCommandRunner(organisationKind, deps);
export type OrganisationCommandRunner = ReturnType<typeof createOrganisationCommandRunner>;

/**
 * Emergency access: a stream per subject (`emergency-<subjectId>`). An org admin opens it for a
 * subject of their organisation; the opener or the subject closes it; an auditor or platform
 * admin reviews it (the routes check those roles; the decider checks who opened it).
 */
export function decideEmergencyAccessAccess(caller: Caller, action: StreamAction, owner: StreamOwner | undefined, key: string): AccessDecision {
  if (!caller.scopes.includes(WRITE_SCOPE)) return { outcome: 'forbidden', reason: 'missing_scope' };
  if (action === 'create') {
    if (!EMERGENCY_ACCESS_ROLES.includes(caller.role)) return { outcome: 'forbidden', reason: 'role' };
    if (!key.startsWith(`${caller.tenantId}.`)) return { outcome: 'not_found' };
    if (owner === undefined) return { outcome: 'allow', subjectId: subjectOfEmergencyAccessKey(key), tenantId: caller.tenantId };
    return owner.tenantId === caller.tenantId ? { outcome: 'allow', subjectId: owner.subjectId, tenantId: owner.tenantId } : { outcome: 'not_found' };
  }
  if (owner === undefined) return { outcome: 'not_found' };
  const reviewer = caller.role === 'auditor' || caller.role === 'platform_admin';
  if (owner.tenantId !== caller.tenantId && caller.sub !== owner.subjectId && caller.role !== 'platform_admin') return { outcome: 'not_found' };
  return reviewer || caller.sub === owner.subjectId || EMERGENCY_ACCESS_ROLES.includes(caller.role) ? { outcome: 'allow', subjectId: owner.subjectId, tenantId: owner.tenantId } : { outcome: 'not_found' };
}

export const emergencyAccessKind: StreamKind<EmergencyAccessState, EmergencyAccessCommand, EmergencyAccessEvent> = {
  noun: 'emergency access',
  notFoundCode: 'EMERGENCY_ACCESS_NOT_FOUND',
  alreadyExists: { code: 'EMERGENCY_ACCESS_EXISTS', field: 'grantId' },
  notFoundDomainCodes: new Set(['EMERGENCY_ACCESS_NOT_FOUND']),
  roleNotAllowed: 'only an org admin opens emergency access',
  decider: emergencyAccessDecider,
  streamId: emergencyAccessStreamId,
  access: decideEmergencyAccessAccess,
};

export const createEmergencyAccessCommandRunner = (deps: StreamRunnerDeps) => createStreamCommandRunner(emergencyAccessKind, deps);
export type EmergencyAccessCommandRunner = ReturnType<typeof createEmergencyAccessCommandRunner>;
