import type { Event } from '../events/envelope';

/** What a client can share with a named trainer (ARCHITECTURE.md "Consent"). */
export const SHARING_SCOPES = ['workouts', 'body_metrics', 'nutrition', 'goals', 'device_data'] as const;
export type SharingScope = (typeof SHARING_SCOPES)[number];

/** Purposes a subject consents to; each consent is about exactly one. */
export const CONSENT_PURPOSES = ['data_processing', 'trainer_sharing', 'research', 'device_sync'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

/** One consent as given: the purpose and what it covers. */
export type ConsentGivenData = {
  readonly consentId: string;
  readonly purpose: ConsentPurpose;
  /** trainer_sharing: the trainer (opaque subject id) the data is shared with. */
  readonly trainerId?: string;
  /** trainer_sharing: what the trainer may see. */
  readonly scopes?: readonly SharingScope[];
  /** device_sync: the provider, e.g. `garmin`. */
  readonly provider?: string;
  /** When the consent lapses by itself (instant, exclusive). */
  readonly expiresAt?: string;
  /**
   * The subject was below the age of digital consent when giving it: it takes effect only once this
   * guardian (opaque subject id) confirms it (GDPR Art. 8).
   */
  readonly guardianId?: string;
};
export type ConsentGuardianConfirmedData = { readonly consentId: string; readonly guardianId: string };
export type ConsentWithdrawnData = { readonly consentId: string; readonly reason?: string };

export type ConsentGiven = Event<'ConsentGiven', ConsentGivenData>;
export type ConsentGuardianConfirmed = Event<'ConsentGuardianConfirmed', ConsentGuardianConfirmedData>;
export type ConsentWithdrawn = Event<'ConsentWithdrawn', ConsentWithdrawnData>;
export type ConsentEvent = ConsentGiven | ConsentGuardianConfirmed | ConsentWithdrawn;
export type ConsentEventType = ConsentEvent['type'];

/** A trainer–client relationship: invited by the trainer, accepted by the client, ended by either. */
export type CoachingInvitedData = { readonly relationshipId: string; readonly trainerId: string; readonly clientId: string; readonly message?: string };
export type CoachingAcceptedData = { readonly relationshipId: string };
export type CoachingEndedData = { readonly relationshipId: string; readonly endedBy: 'trainer' | 'client'; readonly reason?: string };

export type CoachingInvited = Event<'CoachingInvited', CoachingInvitedData>;
export type CoachingAccepted = Event<'CoachingAccepted', CoachingAcceptedData>;
export type CoachingEnded = Event<'CoachingEnded', CoachingEndedData>;
export type CoachingEvent = CoachingInvited | CoachingAccepted | CoachingEnded;
export type CoachingEventType = CoachingEvent['type'];

/** Kinds of organisation (ARCHITECTURE.md "Roles"). */
export const ORGANISATION_KINDS = ['gym', 'studio', 'clinic', 'research_group'] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];
/** Roles a membership can carry. `platform_admin` is platform-wide and never an organisation role. */
export const MEMBERSHIP_ROLES = ['client', 'trainer', 'org_admin', 'auditor', 'researcher'] as const;
export type MembershipRole = (typeof MEMBERSHIP_ROLES)[number];

export type OrganisationCreatedData = { readonly organisationId: string; readonly name: string; readonly kind: OrganisationKind };
export type MemberInvitedData = { readonly organisationId: string; readonly subjectId: string; readonly role: MembershipRole };
export type MemberJoinedData = { readonly organisationId: string; readonly subjectId: string };
export type MemberRoleChangedData = { readonly organisationId: string; readonly subjectId: string; readonly role: MembershipRole };
export type MemberRemovedData = { readonly organisationId: string; readonly subjectId: string; readonly reason?: string };

export type OrganisationCreated = Event<'OrganisationCreated', OrganisationCreatedData>;
export type MemberInvited = Event<'MemberInvited', MemberInvitedData>;
export type MemberJoined = Event<'MemberJoined', MemberJoinedData>;
export type MemberRoleChanged = Event<'MemberRoleChanged', MemberRoleChangedData>;
export type MemberRemoved = Event<'MemberRemoved', MemberRemovedData>;
export type OrganisationEvent = OrganisationCreated | MemberInvited | MemberJoined | MemberRoleChanged | MemberRemoved;
export type OrganisationEventType = OrganisationEvent['type'];

/** Emergency ("break-glass") access to a subject's data: stated reason, bounded time, visible to the subject, reviewed after. */
export type EmergencyAccessOpenedData = { readonly grantId: string; readonly openedBy: string; readonly reason: string; readonly expiresAt: string };
export type EmergencyAccessClosedData = { readonly grantId: string };
export type EmergencyAccessReviewedData = { readonly grantId: string; readonly reviewedBy: string; readonly outcome: 'justified' | 'unjustified'; readonly note?: string };
export type EmergencyAccessOpened = Event<'EmergencyAccessOpened', EmergencyAccessOpenedData>;
export type EmergencyAccessClosed = Event<'EmergencyAccessClosed', EmergencyAccessClosedData>;
export type EmergencyAccessReviewed = Event<'EmergencyAccessReviewed', EmergencyAccessReviewedData>;
export type EmergencyAccessEvent = EmergencyAccessOpened | EmergencyAccessClosed | EmergencyAccessReviewed;
export type EmergencyAccessEventType = EmergencyAccessEvent['type'];
