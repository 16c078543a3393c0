import { describe, it } from 'vitest';
import { deciderSpecification } from '../../test/deciderSpecification';
import type { CommandMetadata, Role } from '../events/envelope';
import type { OrganisationCommand } from './commands';
import type { OrganisationEvent } from './events';
import { organisationDecider } from './organisation';

const ORG = '0190f7c0-1a2b-7c3d-8e4f-5a6b7c8d9e0f';
const PLATFORM = '7e6d5c4b-3a29-4817-9f6e-5d4c3b2a1908';
const ADMIN = '2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091';
const TRAINER = '9a7c3e15-2b6d-4c89-b1f0-4e5d6a7b8c92';
const CLIENT = '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61';

const meta = (sub: string, role: Role): CommandMetadata => ({ now: new Date('2026-06-01T10:00:00Z'), actor: { sub, role }, tenantId: ORG, subjectId: sub, commandId: 'c', correlationId: 'r' });
const by = <C extends OrganisationCommand>(sub: string, role: Role, type: C['type'], data: C['data']): C => ({ type, data, metadata: meta(sub, role) }) as C;
const spec = deciderSpecification(organisationDecider);

const created: OrganisationEvent = { type: 'OrganisationCreated', data: { organisationId: ORG, name: 'Riverside Strength', kind: 'gym' } };
const adminInvited: OrganisationEvent = { type: 'MemberInvited', data: { organisationId: ORG, subjectId: ADMIN, role: 'org_admin' } };
const adminJoined: OrganisationEvent = { type: 'MemberJoined', data: { organisationId: ORG, subjectId: ADMIN } };
const trainerInvited: OrganisationEvent = { type: 'MemberInvited', data: { organisationId: ORG, subjectId: TRAINER, role: 'trainer' } };
const trainerJoined: OrganisationEvent = { type: 'MemberJoined', data: { organisationId: ORG, subjectId: TRAINER } };
const running = [created, adminInvited, adminJoined];

describe('organisation decider: memberships as events, nobody sets their own role', () => {
  it('is created by a platform admin only, with its first org admin invited', () => {
    spec.given([]).when(by(PLATFORM, 'platform_admin', 'CreateOrganisation', { organisationId: ORG, name: 'Riverside Strength', kind: 'gym', firstAdminId: ADMIN })).then([created, adminInvited]);
    spec.given([]).when(by(ADMIN, 'org_admin', 'CreateOrganisation', { organisationId: ORG, name: 'Riverside Strength', kind: 'gym', firstAdminId: ADMIN })).thenThrows('NOT_ORGANISATION_ADMIN');
    spec.given([]).when(by(PLATFORM, 'platform_admin', 'CreateOrganisation', { organisationId: ORG, name: '', kind: 'gym', firstAdminId: ADMIN })).thenThrows('VALIDATION_FAILED', 'name');
    spec.given([created, adminInvited]).when(by(PLATFORM, 'platform_admin', 'CreateOrganisation', { organisationId: ORG, name: 'Other', kind: 'gym', firstAdminId: ADMIN })).thenThrows('ORGANISATION_ALREADY_EXISTS', 'organisationId');
  });

  it('invitation → join by the invited person only; admins invite, others cannot', () => {
    spec.given(running).when(by(ADMIN, 'org_admin', 'InviteMember', { organisationId: ORG, subjectId: TRAINER, role: 'trainer' })).then([trainerInvited]);
    // The token's role is not enough: this org admin is no member of this organisation.
    spec.given(running).when(by(TRAINER, 'org_admin', 'InviteMember', { organisationId: ORG, subjectId: CLIENT, role: 'client' })).thenThrows('NOT_ORGANISATION_ADMIN');
    spec.given([created, adminInvited]).when(by(ADMIN, 'org_admin', 'InviteMember', { organisationId: ORG, subjectId: TRAINER, role: 'trainer' })).thenThrows('NOT_ORGANISATION_ADMIN');
    spec.given(running).when(by(ADMIN, 'org_admin', 'InviteMember', { organisationId: ORG, subjectId: TRAINER, role: 'platform_admin' as never })).thenThrows('VALIDATION_FAILED', 'role');
    spec.given([...running, trainerInvited]).when(by(CLIENT, 'client', 'JoinOrganisation', { organisationId: ORG })).thenThrows('INVITATION_NOT_FOUND', 'organisationId');
    spec.given([...running, trainerInvited]).when(by(TRAINER, 'trainer', 'JoinOrganisation', { organisationId: ORG })).then([trainerJoined]);
    spec.given([...running, trainerInvited, trainerJoined]).when(by(TRAINER, 'trainer', 'JoinOrganisation', { organisationId: ORG })).thenNothingHappens();
  });

  it('roles change by an admin, never one’s own; the last admin stays', () => {
    const members = [...running, trainerInvited, trainerJoined];
    spec.given(members).when(by(ADMIN, 'org_admin', 'ChangeMemberRole', { organisationId: ORG, subjectId: TRAINER, role: 'org_admin' })).then([{ type: 'MemberRoleChanged', data: { organisationId: ORG, subjectId: TRAINER, role: 'org_admin' } }]);
    spec.given(members).when(by(TRAINER, 'trainer', 'ChangeMemberRole', { organisationId: ORG, subjectId: TRAINER, role: 'org_admin' })).thenThrows('NOT_ORGANISATION_ADMIN');
    spec.given(members).when(by(ADMIN, 'org_admin', 'ChangeMemberRole', { organisationId: ORG, subjectId: ADMIN, role: 'trainer' })).thenThrows('OWN_ROLE', 'subjectId');
    // A platform admin creates organisations but manages nobody in them: membership decides.
    spec.given(members).when(by(PLATFORM, 'platform_admin', 'ChangeMemberRole', { organisationId: ORG, subjectId: ADMIN, role: 'trainer' })).thenThrows('NOT_ORGANISATION_ADMIN');
    spec.given(members).when(by(PLATFORM, 'platform_admin', 'InviteMember', { organisationId: ORG, subjectId: CLIENT, role: 'client' })).thenThrows('NOT_ORGANISATION_ADMIN');
    spec.given(members).when(by(PLATFORM, 'platform_admin', 'RemoveMember', { organisationId: ORG, subjectId: TRAINER })).thenThrows('NOT_ORGANISATION_ADMIN');
    spec.given(members).when(by(ADMIN, 'org_admin', 'ChangeMemberRole', { organisationId: ORG, subjectId: CLIENT, role: 'trainer' })).thenThrows('MEMBER_NOT_FOUND', 'subjectId');
  });

  it('a member leaves or is removed; the last admin cannot leave', () => {
    const members = [...running, trainerInvited, trainerJoined];
    const removed: OrganisationEvent = { type: 'MemberRemoved', data: { organisationId: ORG, subjectId: TRAINER } };
    spec.given(members).when(by(TRAINER, 'trainer', 'RemoveMember', { organisationId: ORG, subjectId: TRAINER })).then([removed]);
    spec.given(members).when(by(ADMIN, 'org_admin', 'RemoveMember', { organisationId: ORG, subjectId: TRAINER })).then([removed]);
    spec.given(members).when(by(TRAINER, 'trainer', 'RemoveMember', { organisationId: ORG, subjectId: ADMIN })).thenThrows('NOT_ORGANISATION_ADMIN');
    spec.given(members).when(by(ADMIN, 'org_admin', 'RemoveMember', { organisationId: ORG, subjectId: ADMIN })).thenThrows('LAST_ADMIN', 'subjectId');
    spec.given([...members, removed]).when(by(ADMIN, 'org_admin', 'RemoveMember', { organisationId: ORG, subjectId: TRAINER })).thenNothingHappens();
  });
});
