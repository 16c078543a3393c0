import type { Decider } from '../decider';
import { DomainError } from '../errors';
import type { ObjectValidator } from '../validation/validator';
import { memberInvitedValidator, memberJoinedValidator, memberRemovedValidator, memberRoleChangedValidator, organisationCreatedValidator } from './accessEventTypes';
import type { OrganisationCommand } from './commands';
import type { MembershipRole, OrganisationEvent, OrganisationKind } from './events';

export const organisationStreamId = (organisationId: string): string => `organisation-${organisationId}`;

export interface Membership {
  readonly role: MembershipRole;
  readonly status: 'invited' | 'active';
}

export type OrganisationState =
  | { readonly status: 'none' }
  | { readonly status: 'active'; readonly organisationId: string; readonly name: string; readonly kind: OrganisationKind; readonly members: ReadonlyMap<string, Membership> };

export const initialOrganisationState = (): OrganisationState => ({ status: 'none' });

function valid<T>(validator: ObjectValidator<T>, data: unknown): T {
  const result = validator.check(data);
  if (!result.ok) throw DomainError.validation(result.issues);
  return result.value;
}

/**
 * Administers the organisation: an active org admin of it. Membership decides, never the token:
 * a platform admin creates organisations but manages no members unless made one.
 */
export function administers(state: OrganisationState, actor: { readonly sub: string; readonly role: string }): boolean {
  if (state.status !== 'active') return false;
  const membership = state.members.get(actor.sub);
  return membership?.status === 'active' && membership.role === 'org_admin';
}

const activeAdmins = (state: Extract<OrganisationState, { status: 'active' }>): string[] =>
  [...state.members].filter(([, m]) => m.status === 'active' && m.role === 'org_admin').map(([sub]) => sub);

/**
 * An organisation and its memberships. A platform admin creates it with its first org admin; org
 * admins invite, change roles and remove; the invited person joins; a member may leave. Nobody
 * changes their own role, and the last active org admin can neither leave nor be demoted.
 */
export function decideOrganisation(command: OrganisationCommand, state: OrganisationState): OrganisationEvent[] {
  const { actor } = command.metadata;
  const { organisationId } = command.data;
  if (state.status === 'active' && state.organisationId !== organisationId) throw new DomainError('ORGANISATION_NOT_FOUND', 'the command addresses another organisation', { field: 'organisationId' });
  if (command.type === 'CreateOrganisation') {
    if (actor.role !== 'platform_admin') throw new DomainError('NOT_ORGANISATION_ADMIN', 'only a platform admin creates organisations');
    const created = valid(organisationCreatedValidator, { organisationId, name: command.data.name, kind: command.data.kind });
    const invited = valid(memberInvitedValidator, { organisationId, subjectId: command.data.firstAdminId, role: 'org_admin' });
    if (state.status === 'none') return [{ type: 'OrganisationCreated', data: created }, { type: 'MemberInvited', data: invited }];
    if (state.name === created.name && state.kind === created.kind) return [];
    throw new DomainError('ORGANISATION_ALREADY_EXISTS', 'an organisation with this id already exists', { field: 'organisationId' });
  }
  if (state.status === 'none') throw new DomainError('ORGANISATION_NOT_FOUND', 'no such organisation', { field: 'organisationId' });
  switch (command.type) {
    case 'InviteMember': {
      if (!administers(state, actor)) throw new DomainError('NOT_ORGANISATION_ADMIN', 'only an org admin of this organisation invites members');
      const data = valid(memberInvitedValidator, { organisationId, subjectId: command.data.subjectId, role: command.data.role });
      const existing = state.members.get(data.subjectId);
      if (existing === undefined) return [{ type: 'MemberInvited', data }];
      if (existing.role === data.role) return [];
      throw new DomainError('ALREADY_MEMBER', 'this person is already invited or a member; change their role instead', { field: 'subjectId' });
    }
    case 'JoinOrganisation': {
      const membership = state.members.get(actor.sub);
      if (membership === undefined) throw new DomainError('INVITATION_NOT_FOUND', 'no invitation to this organisation', { field: 'organisationId' });
      if (membership.status === 'active') return [];
      return [{ type: 'MemberJoined', data: valid(memberJoinedValidator, { organisationId, subjectId: actor.sub }) }];
    }
    case 'ChangeMemberRole': {
      if (!administers(state, actor)) throw new DomainError('NOT_ORGANISATION_ADMIN', 'only an org admin of this organisation changes roles');
      const data = valid(memberRoleChangedValidator, { organisationId, subjectId: command.data.subjectId, role: command.data.role });
      if (data.subjectId === actor.sub) throw new DomainError('OWN_ROLE', 'nobody changes their own role', { field: 'subjectId' });
      const membership = state.members.get(data.subjectId);
      if (membership === undefined) throw new DomainError('MEMBER_NOT_FOUND', 'no such member', { field: 'subjectId' });
      if (membership.role === data.role) return [];
      if (membership.role === 'org_admin' && activeAdmins(state).length === 1 && membership.status === 'active') throw new DomainError('LAST_ADMIN', 'the last org admin keeps the role', { field: 'subjectId' });
      return [{ type: 'MemberRoleChanged', data }];
    }
    case 'RemoveMember': {
      const leaving = command.data.subjectId === actor.sub;
      if (!leaving && !administers(state, actor)) throw new DomainError('NOT_ORGANISATION_ADMIN', 'only an org admin removes other members');
      const membership = state.members.get(command.data.subjectId);
      if (membership === undefined) return [];
      if (membership.role === 'org_admin' && membership.status === 'active' && activeAdmins(state).length === 1) throw new DomainError('LAST_ADMIN', 'the last org admin cannot leave or be removed', { field: 'subjectId' });
      return [{ type: 'MemberRemoved', data: valid(memberRemovedValidator, { organisationId, subjectId: command.data.subjectId, ...(command.data.reason === undefined ? {} : { reason: command.data.reason }) }) }];
    }
    default: {
      const _: never = command;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

export function evolveOrganisation(state: OrganisationState, event: OrganisationEvent): OrganisationState {
  if (event.type === 'OrganisationCreated') return { status: 'active', organisationId: event.data.organisationId, name: event.data.name, kind: event.data.kind, members: new Map() };
  if (state.status === 'none') return state;
  const members = new Map(state.members);
  switch (event.type) {
    case 'MemberInvited':
      members.set(event.data.subjectId, { role: event.data.role, status: 'invited' });
      break;
    case 'MemberJoined': {
      const m = members.get(event.data.subjectId);
      if (m) members.set(event.data.subjectId, { ...m, status: 'active' });
      break;
    }
    case 'MemberRoleChanged': {
      const m = members.get(event.data.subjectId);
      if (m) members.set(event.data.subjectId, { ...m, role: event.data.role });
      break;
    }
    case 'MemberRemoved':
      members.delete(event.data.subjectId);
      break;
    default: {
      const _: never = event;
      return state;
    }
  }
  return { ...state, members };
}

export const organisationDecider: Decider<OrganisationState, OrganisationCommand, OrganisationEvent> = {
  initialState: initialOrganisationState,
  evolve: evolveOrganisation,
  decide: decideOrganisation,
};

/** A person's membership in the organisation, if invited or active. */
export const membershipOf = (state: OrganisationState, sub: string): Membership | undefined => (state.status === 'active' ? state.members.get(sub) : undefined);
