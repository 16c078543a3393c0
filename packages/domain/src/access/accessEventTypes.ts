import { defineEventType, type EventTypeDefinition } from '../events/eventRegistry';
import { array, isoDateTime, object, oneOf, optional, string, uuid, type ObjectValidator } from '../validation/validator';
import {
  type EmergencyAccessClosedData,
  type EmergencyAccessEventType,
  type EmergencyAccessOpenedData,
  type EmergencyAccessReviewedData,
  MEMBERSHIP_ROLES,
  ORGANISATION_KINDS,
  type MemberInvitedData,
  type MemberJoinedData,
  type MemberRemovedData,
  type MemberRoleChangedData,
  type OrganisationCreatedData,
  type OrganisationEventType,
  CONSENT_PURPOSES,
  SHARING_SCOPES,
  type CoachingAcceptedData,
  type CoachingEndedData,
  type CoachingEventType,
  type CoachingInvitedData,
  type ConsentEventType,
  type ConsentGivenData,
  type ConsentGuardianConfirmedData,
  type ConsentWithdrawnData,
} from './events';

export const ACCESS_LIMITS = { reasonMaxChars: 500, messageMaxChars: 500, providerMaxChars: 40, organisationNameMaxChars: 120, emergencyMinutesMax: 24 * 60, emergencyReasonMinChars: 10 } as const;

/** Opaque subject ids are UUIDs (the dev provider's subs; issue 5 maps other issuers' subs to UUIDs). */
const subjectId = uuid;
const reason = string({ max: ACCESS_LIMITS.reasonMaxChars });

export const consentGivenValidator: ObjectValidator<ConsentGivenData> = object(
  {
    consentId: uuid(),
    purpose: oneOf(CONSENT_PURPOSES),
    trainerId: optional(subjectId()),
    scopes: optional(array(oneOf(SHARING_SCOPES), { max: SHARING_SCOPES.length })),
    provider: optional(string({ min: 1, max: ACCESS_LIMITS.providerMaxChars, pattern: /^[a-z][a-z0-9_]*$/, patternName: 'a provider name such as garmin' })),
    expiresAt: optional(isoDateTime()),
    guardianId: optional(subjectId()),
  },
  (c) => {
    const issues = [];
    if (c.purpose === 'trainer_sharing') {
      if (c.trainerId === undefined) issues.push({ field: 'trainerId', code: 'required' as const, message: 'trainerId is required to share with a trainer' });
      if (c.scopes === undefined || c.scopes.length === 0) issues.push({ field: 'scopes', code: 'required' as const, message: 'scopes must name at least one kind of data' });
      else if (new Set(c.scopes).size !== c.scopes.length) issues.push({ field: 'scopes', code: 'inconsistent' as const, message: 'scopes must not repeat' });
    } else {
      if (c.trainerId !== undefined) issues.push({ field: 'trainerId', code: 'inconsistent' as const, message: 'trainerId belongs to trainer_sharing only' });
      if (c.scopes !== undefined) issues.push({ field: 'scopes', code: 'inconsistent' as const, message: 'scopes belong to trainer_sharing only' });
    }
    if (c.purpose === 'device_sync' && c.provider === undefined) issues.push({ field: 'provider', code: 'required' as const, message: 'provider is required for device_sync' });
    if (c.purpose !== 'device_sync' && c.provider !== undefined) issues.push({ field: 'provider', code: 'inconsistent' as const, message: 'provider belongs to device_sync only' });
    return issues;
  },
);
export const consentGuardianConfirmedValidator: ObjectValidator<ConsentGuardianConfirmedData> = object({ consentId: uuid(), guardianId: subjectId() });
export const consentWithdrawnValidator: ObjectValidator<ConsentWithdrawnData> = object({ consentId: uuid(), reason: optional(reason) });

export const coachingInvitedValidator: ObjectValidator<CoachingInvitedData> = object({
  relationshipId: uuid(),
  trainerId: subjectId(),
  clientId: subjectId(),
  message: optional(string({ max: ACCESS_LIMITS.messageMaxChars })),
});
export const coachingAcceptedValidator: ObjectValidator<CoachingAcceptedData> = object({ relationshipId: uuid() });
export const coachingEndedValidator: ObjectValidator<CoachingEndedData> = object({ relationshipId: uuid(), endedBy: oneOf(['trainer', 'client'] as const), reason: optional(reason) });

/**
 * Consent and coaching, schema version 1. Ids stay in clear (opaque UUIDs, needed to route and
 * index); what was consented to, to whom, and any free text are sealed with the subject's key.
 */
export const consentEventTypes = [
  defineEventType({ type: 'ConsentGiven', schemaVersion: 1, plainFields: ['consentId'], validator: consentGivenValidator, upcasters: {} }),
  defineEventType({ type: 'ConsentGuardianConfirmed', schemaVersion: 1, plainFields: ['consentId'], validator: consentGuardianConfirmedValidator, upcasters: {} }),
  defineEventType({ type: 'ConsentWithdrawn', schemaVersion: 1, plainFields: ['consentId'], validator: consentWithdrawnValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<ConsentEventType, unknown>[];

export const coachingEventTypes = [
  defineEventType({ type: 'CoachingInvited', schemaVersion: 1, plainFields: ['relationshipId', 'trainerId', 'clientId'], validator: coachingInvitedValidator, upcasters: {} }),
  defineEventType({ type: 'CoachingAccepted', schemaVersion: 1, plainFields: ['relationshipId'], validator: coachingAcceptedValidator, upcasters: {} }),
  defineEventType({ type: 'CoachingEnded', schemaVersion: 1, plainFields: ['relationshipId'], validator: coachingEndedValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<CoachingEventType, unknown>[];

export const organisationCreatedValidator: ObjectValidator<OrganisationCreatedData> = object({
  organisationId: uuid(),
  name: string({ min: 1, max: ACCESS_LIMITS.organisationNameMaxChars }),
  kind: oneOf(ORGANISATION_KINDS),
});
export const memberInvitedValidator: ObjectValidator<MemberInvitedData> = object({ organisationId: uuid(), subjectId: subjectId(), role: oneOf(MEMBERSHIP_ROLES) });
export const memberJoinedValidator: ObjectValidator<MemberJoinedData> = object({ organisationId: uuid(), subjectId: subjectId() });
export const memberRoleChangedValidator: ObjectValidator<MemberRoleChangedData> = object({ organisationId: uuid(), subjectId: subjectId(), role: oneOf(MEMBERSHIP_ROLES) });
export const memberRemovedValidator: ObjectValidator<MemberRemovedData> = object({ organisationId: uuid(), subjectId: subjectId(), reason: optional(reason) });

/** Organisations and memberships: ids in clear (opaque), roles and the name sealed. */
export const organisationEventTypes = [
  defineEventType({ type: 'OrganisationCreated', schemaVersion: 1, plainFields: ['organisationId'], validator: organisationCreatedValidator, upcasters: {} }),
  defineEventType({ type: 'MemberInvited', schemaVersion: 1, plainFields: ['organisationId', 'subjectId'], validator: memberInvitedValidator, upcasters: {} }),
  defineEventType({ type: 'MemberJoined', schemaVersion: 1, plainFields: ['organisationId', 'subjectId'], validator: memberJoinedValidator, upcasters: {} }),
  defineEventType({ type: 'MemberRoleChanged', schemaVersion: 1, plainFields: ['organisationId', 'subjectId'], validator: memberRoleChangedValidator, upcasters: {} }),
  defineEventType({ type: 'MemberRemoved', schemaVersion: 1, plainFields: ['organisationId', 'subjectId'], validator: memberRemovedValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<OrganisationEventType, unknown>[];

export const emergencyAccessOpenedValidator: ObjectValidator<EmergencyAccessOpenedData> = object({
  grantId: uuid(),
  openedBy: subjectId(),
  reason: string({ min: ACCESS_LIMITS.emergencyReasonMinChars, max: ACCESS_LIMITS.reasonMaxChars }),
  expiresAt: isoDateTime(),
});
export const emergencyAccessClosedValidator: ObjectValidator<EmergencyAccessClosedData> = object({ grantId: uuid() });
export const emergencyAccessReviewedValidator: ObjectValidator<EmergencyAccessReviewedData> = object({
  grantId: uuid(),
  reviewedBy: subjectId(),
  outcome: oneOf(['justified', 'unjustified'] as const),
  note: optional(reason),
});

/** Emergency access, on a stream per subject: ids in clear, the reason and the review sealed. */
export const emergencyAccessEventTypes = [
  defineEventType({ type: 'EmergencyAccessOpened', schemaVersion: 1, plainFields: ['grantId', 'openedBy'], validator: emergencyAccessOpenedValidator, upcasters: {} }),
  defineEventType({ type: 'EmergencyAccessClosed', schemaVersion: 1, plainFields: ['grantId'], validator: emergencyAccessClosedValidator, upcasters: {} }),
  defineEventType({ type: 'EmergencyAccessReviewed', schemaVersion: 1, plainFields: ['grantId', 'reviewedBy'], validator: emergencyAccessReviewedValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<EmergencyAccessEventType, unknown>[];
