import type { CoachingEvent, CoachingEventType, ConsentEvent, ConsentEventType, EmergencyAccessEvent, EmergencyAccessEventType, OrganisationEvent, OrganisationEventType } from '@fitledger/domain';
import { sql, type Transaction } from 'kysely';
import type { Projection, ReadableEvent } from '../projectionRunner';
import type { FeedChange, ReadModelDb } from '../readModelDb';

export const ACCESS_PROJECTION = 'access';
const EVENT_TYPES: ReadonlySet<ConsentEventType | CoachingEventType | OrganisationEventType | EmergencyAccessEventType> = new Set<ConsentEventType | CoachingEventType | OrganisationEventType | EmergencyAccessEventType>([
  'EmergencyAccessOpened',
  'EmergencyAccessClosed',
  'EmergencyAccessReviewed',
  'OrganisationCreated',
  'MemberInvited',
  'MemberJoined',
  'MemberRoleChanged',
  'MemberRemoved',
  'ConsentGiven',
  'ConsentGuardianConfirmed',
  'ConsentWithdrawn',
  'CoachingInvited',
  'CoachingAccepted',
  'CoachingEnded',
]);

/**
 * Consents into `rm_consents` and trainer–client relationships into `rm_coaching`, for listings.
 * A consent's `version` is its subject's consent version (stream revision + 1) when it last changed.
 */
export function accessProjection(): Projection {
  return {
    name: ACCESS_PROJECTION,
    eventTypes: EVENT_TYPES,
    async apply(events: readonly ReadableEvent[], trx: Transaction<ReadModelDb>): Promise<FeedChange[]> {
      for (const recorded of events) {
        const event = { type: recorded.type, data: recorded.data } as ConsentEvent | CoachingEvent | OrganisationEvent | EmergencyAccessEvent;
        const at = recorded.recordedAt.toISOString();
        const position = recorded.position;
        switch (event.type) {
          case 'ConsentGiven': {
            const d = event.data;
            await trx
              .insertInto('rm_consents')
              .values({
                consent_id: d.consentId,
                tenant_id: recorded.metadata.tenantId,
                subject_id: recorded.metadata.subjectId,
                purpose: d.purpose,
                trainer_id: d.trainerId ?? null,
                scopes: d.scopes === undefined ? null : [...d.scopes],
                provider: d.provider ?? null,
                expires_at: d.expiresAt ?? null,
                guardian_id: d.guardianId ?? null,
                confirmed: d.guardianId === undefined,
                withdrawn: false,
                given_at: at,
                version: recorded.revision + 1,
                updated_position: position,
              })
              .onConflict((oc) => oc.column('consent_id').doNothing())
              .execute();
            break;
          }
          case 'ConsentGuardianConfirmed':
            await trx.updateTable('rm_consents').set({ confirmed: true, version: recorded.revision + 1, updated_position: position }).where('consent_id', '=', event.data.consentId).execute();
            break;
          case 'ConsentWithdrawn':
            await trx.updateTable('rm_consents').set({ withdrawn: true, version: recorded.revision + 1, updated_position: position }).where('consent_id', '=', event.data.consentId).execute();
            break;
          case 'CoachingInvited': {
            const d = event.data;
            await trx
              .insertInto('rm_coaching')
              .values({ relationship_id: d.relationshipId, tenant_id: recorded.metadata.tenantId, trainer_id: d.trainerId, client_id: d.clientId, status: 'invited', invited_at: at, revision: recorded.revision, updated_position: position })
              .onConflict((oc) => oc.column('relationship_id').doNothing())
              .execute();
            break;
          }
          case 'CoachingAccepted':
            await trx.updateTable('rm_coaching').set({ status: 'active', accepted_at: at, revision: recorded.revision, updated_position: position }).where('relationship_id', '=', event.data.relationshipId).execute();
            break;
          case 'CoachingEnded':
            await trx.updateTable('rm_coaching').set({ status: 'ended', ended_at: at, revision: recorded.revision, updated_position: position }).where('relationship_id', '=', event.data.relationshipId).execute();
            break;
          case 'EmergencyAccessOpened':
            await trx
              .insertInto('rm_emergency_access')
              .values({
                grant_id: event.data.grantId,
                tenant_id: recorded.metadata.tenantId,
                subject_id: recorded.metadata.subjectId,
                opened_by: event.data.openedBy,
                opened_at: at,
                expires_at: event.data.expiresAt,
                updated_position: position,
              })
              .onConflict((oc) => oc.column('grant_id').doNothing())
              .execute();
            break;
          case 'EmergencyAccessClosed':
            await trx.updateTable('rm_emergency_access').set({ closed_at: at, updated_position: position }).where('grant_id', '=', event.data.grantId).execute();
            break;
          case 'EmergencyAccessReviewed':
            await trx.updateTable('rm_emergency_access').set({ reviewed_by: event.data.reviewedBy, review_outcome: event.data.outcome, updated_position: position }).where('grant_id', '=', event.data.grantId).execute();
            break;
          case 'OrganisationCreated':
            await trx
              .insertInto('rm_organisations')
              .values({ organisation_id: event.data.organisationId, name: event.data.name, kind: event.data.kind, created_at: at })
              .onConflict((oc) => oc.column('organisation_id').doNothing())
              .execute();
            break;
          case 'MemberInvited':
            await trx
              .insertInto('rm_memberships')
              .values({ organisation_id: event.data.organisationId, subject_id: event.data.subjectId, role: event.data.role, status: 'invited', updated_at: at, updated_position: position })
              .onConflict((oc) => oc.columns(['organisation_id', 'subject_id']).doUpdateSet({ role: event.data.role, status: 'invited', updated_at: at, updated_position: position }))
              .execute();
            break;
          case 'MemberJoined':
            await trx.updateTable('rm_memberships').set({ status: 'active', updated_at: at, updated_position: position }).where('organisation_id', '=', event.data.organisationId).where('subject_id', '=', event.data.subjectId).execute();
            break;
          case 'MemberRoleChanged':
            await trx.updateTable('rm_memberships').set({ role: event.data.role, updated_at: at, updated_position: position }).where('organisation_id', '=', event.data.organisationId).where('subject_id', '=', event.data.subjectId).execute();
            break;
          case 'MemberRemoved':
            await trx.deleteFrom('rm_memberships').where('organisation_id', '=', event.data.organisationId).where('subject_id', '=', event.data.subjectId).execute();
            break;
          default: {
            const _: never = event;
            break;
          }
        }
      }
      return [];
    },
    async reset(trx: Transaction<ReadModelDb>): Promise<void> {
      await sql`TRUNCATE rm_consents, rm_coaching, rm_organisations, rm_memberships, rm_emergency_access`.execute(trx);
    },
  };
}
