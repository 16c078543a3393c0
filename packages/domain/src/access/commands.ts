import type { Command } from '../events/envelope';
import type { ConsentPurpose, MembershipRole, OrganisationKind, SharingScope } from './events';

export type GiveConsent = Command<
  'GiveConsent',
  {
    readonly consentId: string;
    readonly purpose: ConsentPurpose;
    readonly trainerId?: string;
    readonly scopes?: readonly SharingScope[];
    readonly provider?: string;
    readonly expiresAt?: string;
    readonly guardianId?: string;
    /** The subject's birth date from their profile (loaded by the service), if they gave one. */
    readonly subjectBirthDate?: string;
    /** Age of digital consent in years (configuration; 16 by default, GDPR Art. 8). */
    readonly ageOfDigitalConsent: number;
  }
>;
/** Sent by the guardian named in the consent (the caller, `metadata.actor`). */
export type ConfirmConsentAsGuardian = Command<'ConfirmConsentAsGuardian', { readonly consentId: string }>;
export type WithdrawConsent = Command<'WithdrawConsent', { readonly consentId: string; readonly reason?: string }>;
export type ConsentCommand = GiveConsent | ConfirmConsentAsGuardian | WithdrawConsent;

/** By the trainer (`metadata.actor`), for a client of the same organisation. */
export type InviteClient = Command<'InviteClient', { readonly relationshipId: string; readonly clientId: string; readonly message?: string }>;
/** By the invited client. */
export type AcceptCoaching = Command<'AcceptCoaching', { readonly relationshipId: string }>;
/** By either party. */
export type EndCoaching = Command<'EndCoaching', { readonly relationshipId: string; readonly reason?: string }>;
export type CoachingCommand = InviteClient | AcceptCoaching | EndCoaching;

/** By a platform admin; the first org admin is invited with it. */
export type CreateOrganisation = Command<'CreateOrganisation', { readonly organisationId: string; readonly name: string; readonly kind: OrganisationKind; readonly firstAdminId: string }>;
/** By an org admin of the organisation (or a platform admin). */
export type InviteMember = Command<'InviteMember', { readonly organisationId: string; readonly subjectId: string; readonly role: MembershipRole }>;
/** By the invited person. */
export type JoinOrganisation = Command<'JoinOrganisation', { readonly organisationId: string }>;
/** By an org admin, never for themselves. */
export type ChangeMemberRole = Command<'ChangeMemberRole', { readonly organisationId: string; readonly subjectId: string; readonly role: MembershipRole }>;
/** By an org admin (anyone but the last admin), or by the member leaving. */
export type RemoveMember = Command<'RemoveMember', { readonly organisationId: string; readonly subjectId: string; readonly reason?: string }>;
export type OrganisationCommand = CreateOrganisation | InviteMember | JoinOrganisation | ChangeMemberRole | RemoveMember;

/** By an org admin of the subject's organisation (checked by the service); at most EMERGENCY_ACCESS_MAX_MINUTES. */
export type OpenEmergencyAccess = Command<'OpenEmergencyAccess', { readonly grantId: string; readonly reason: string; readonly minutes: number }>;
/** By whoever opened it, or the subject. */
export type CloseEmergencyAccess = Command<'CloseEmergencyAccess', { readonly grantId: string }>;
/** By an auditor or platform admin, never the one who opened it. */
export type ReviewEmergencyAccess = Command<'ReviewEmergencyAccess', { readonly grantId: string; readonly outcome: 'justified' | 'unjustified'; readonly note?: string }>;
export type EmergencyAccessCommand = OpenEmergencyAccess | CloseEmergencyAccess | ReviewEmergencyAccess;
