import type { Decider } from '../decider';
import { DomainError } from '../errors';
import type { ObjectValidator } from '../validation/validator';
import { ACCESS_LIMITS, emergencyAccessClosedValidator, emergencyAccessOpenedValidator, emergencyAccessReviewedValidator } from './accessEventTypes';
import type { EmergencyAccessCommand } from './commands';
import type { EmergencyAccessEvent, EmergencyAccessOpenedData } from './events';

/**
 * One stream per organisation and subject holds every emergency access to the subject's data in
 * that organisation: a grant only ever opens the rows of the opener's own organisation.
 */
export const emergencyAccessKey = (tenantId: string, subjectId: string): string => `${tenantId}.${subjectId}`;
/** The subject of a key (the part after the last '.'). */
export const subjectOfEmergencyAccessKey = (key: string): string => key.slice(key.lastIndexOf('.') + 1);
export const emergencyAccessStreamId = (key: string): string => `emergency-${key}`;

export interface EmergencyGrant {
  readonly opened: EmergencyAccessOpenedData;
  readonly closed: boolean;
  readonly review?: { readonly reviewedBy: string; readonly outcome: 'justified' | 'unjustified' };
}
export interface EmergencyAccessState {
  readonly grants: ReadonlyMap<string, EmergencyGrant>;
}
export const initialEmergencyAccessState = (): EmergencyAccessState => ({ grants: new Map() });

function valid<T>(validator: ObjectValidator<T>, data: unknown): T {
  const result = validator.check(data);
  if (!result.ok) throw DomainError.validation(result.issues);
  return result.value;
}

/**
 * Break-glass: opened with a stated reason for a bounded time (the service checks the opener's
 * role and organisation), closed early by the opener or the subject, reviewed once by someone else.
 */
export function decideEmergencyAccess(command: EmergencyAccessCommand, state: EmergencyAccessState): EmergencyAccessEvent[] {
  const { actor, now, subjectId } = command.metadata;
  const grant = state.grants.get(command.data.grantId);
  switch (command.type) {
    case 'OpenEmergencyAccess': {
      if (actor.sub === subjectId) throw DomainError.invalidField('grantId', 'emergency access is to someone else’s data');
      const { minutes } = command.data;
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > ACCESS_LIMITS.emergencyMinutesMax) throw DomainError.invalidField('minutes', `minutes must be a whole number from 1 to ${ACCESS_LIMITS.emergencyMinutesMax}`);
      const data = valid(emergencyAccessOpenedValidator, { grantId: command.data.grantId, openedBy: actor.sub, reason: command.data.reason, expiresAt: new Date(now.getTime() + minutes * 60_000).toISOString() });
      if (grant === undefined) return [{ type: 'EmergencyAccessOpened', data }];
      if (grant.opened.openedBy === actor.sub && grant.opened.reason === data.reason) return [];
      throw new DomainError('EMERGENCY_ACCESS_EXISTS', 'an emergency access with this id exists', { field: 'grantId' });
    }
    case 'CloseEmergencyAccess': {
      if (grant === undefined || (grant.opened.openedBy !== actor.sub && subjectId !== actor.sub)) throw new DomainError('EMERGENCY_ACCESS_NOT_FOUND', 'no such emergency access', { field: 'grantId' });
      if (grant.closed) return [];
      return [{ type: 'EmergencyAccessClosed', data: valid(emergencyAccessClosedValidator, { grantId: command.data.grantId }) }];
    }
    case 'ReviewEmergencyAccess': {
      if (grant === undefined) throw new DomainError('EMERGENCY_ACCESS_NOT_FOUND', 'no such emergency access', { field: 'grantId' });
      if (grant.opened.openedBy === actor.sub) throw new DomainError('OWN_REVIEW', 'nobody reviews their own emergency access', { field: 'grantId' });
      if (grant.review !== undefined) {
        if (grant.review.outcome === command.data.outcome && grant.review.reviewedBy === actor.sub) return [];
        throw new DomainError('EMERGENCY_ACCESS_REVIEWED', 'this emergency access was reviewed already', { field: 'grantId' });
      }
      return [
        {
          type: 'EmergencyAccessReviewed',
          data: valid(emergencyAccessReviewedValidator, { grantId: command.data.grantId, reviewedBy: actor.sub, outcome: command.data.outcome, ...(command.data.note === undefined ? {} : { note: command.data.note }) }),
        },
      ];
    }
    default: {
      const _: never = command;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

export function evolveEmergencyAccess(state: EmergencyAccessState, event: EmergencyAccessEvent): EmergencyAccessState {
  const grants = new Map(state.grants);
  switch (event.type) {
    case 'EmergencyAccessOpened':
      grants.set(event.data.grantId, { opened: event.data, closed: false });
      break;
    case 'EmergencyAccessClosed': {
      const g = grants.get(event.data.grantId);
      if (g) grants.set(event.data.grantId, { ...g, closed: true });
      break;
    }
    case 'EmergencyAccessReviewed': {
      const g = grants.get(event.data.grantId);
      if (g) grants.set(event.data.grantId, { ...g, review: { reviewedBy: event.data.reviewedBy, outcome: event.data.outcome } });
      break;
    }
    default: {
      const _: never = event;
      return state;
    }
  }
  return { grants };
}

export const emergencyAccessDecider: Decider<EmergencyAccessState, EmergencyAccessCommand, EmergencyAccessEvent> = {
  initialState: initialEmergencyAccessState,
  evolve: evolveEmergencyAccess,
  decide: decideEmergencyAccess,
};

/** The open grant that lets `sub` in at `now`, if any. */
export function openEmergencyGrant(state: EmergencyAccessState, sub: string, now: Date): EmergencyGrant | undefined {
  for (const grant of state.grants.values()) {
    if (grant.opened.openedBy === sub && !grant.closed && Date.parse(grant.opened.expiresAt) > now.getTime()) return grant;
  }
  return undefined;
}
