import type { Decider } from '../decider';
import { DomainError } from '../errors';
import type { ObjectValidator } from '../validation/validator';
import { coachingAcceptedValidator, coachingEndedValidator, coachingInvitedValidator } from './accessEventTypes';
import type { CoachingCommand } from './commands';
import type { CoachingEvent } from './events';

export const coachingStreamId = (relationshipId: string): string => `coaching-${relationshipId}`;

export type CoachingStatus = 'invited' | 'active' | 'ended';
export type CoachingState =
  | { readonly status: 'none' }
  | { readonly status: CoachingStatus; readonly relationshipId: string; readonly trainerId: string; readonly clientId: string; readonly acceptedAt?: string };

export const initialCoachingState = (): CoachingState => ({ status: 'none' });

function valid<T>(validator: ObjectValidator<T>, data: unknown): T {
  const result = validator.check(data);
  if (!result.ok) throw DomainError.validation(result.issues);
  return result.value;
}

/**
 * A trainer–client relationship: invite (trainer) → accept (the invited client) → active → ended
 * (either party; final). Roles and organisation are checked by the service's access policy; the
 * decider checks who is who within the relationship.
 */
export function decideCoaching(command: CoachingCommand, state: CoachingState): CoachingEvent[] {
  const { actor } = command.metadata;
  const { relationshipId } = command.data;
  switch (command.type) {
    case 'InviteClient': {
      const data = valid(coachingInvitedValidator, {
        relationshipId,
        trainerId: actor.sub,
        clientId: command.data.clientId,
        ...(command.data.message === undefined ? {} : { message: command.data.message }),
      });
      if (data.clientId === data.trainerId) throw DomainError.invalidField('clientId', 'a trainer cannot coach themselves');
      if (state.status === 'none') return [{ type: 'CoachingInvited', data }];
      if (state.trainerId === data.trainerId && state.clientId === data.clientId && state.status === 'invited') return [];
      throw new DomainError('RELATIONSHIP_ALREADY_EXISTS', 'a relationship with this id already exists', { field: 'relationshipId' });
    }
    case 'AcceptCoaching': {
      if (state.status === 'none' || state.clientId !== actor.sub) throw new DomainError('RELATIONSHIP_NOT_FOUND', 'no such invitation', { field: 'relationshipId' });
      if (state.status === 'active') return [];
      if (state.status === 'ended') throw new DomainError('RELATIONSHIP_ENDED', 'the relationship has ended', { field: 'relationshipId' });
      return [{ type: 'CoachingAccepted', data: valid(coachingAcceptedValidator, { relationshipId }) }];
    }
    case 'EndCoaching': {
      if (state.status === 'none' || (state.clientId !== actor.sub && state.trainerId !== actor.sub)) throw new DomainError('RELATIONSHIP_NOT_FOUND', 'no such relationship', { field: 'relationshipId' });
      if (state.status === 'ended') return [];
      const endedBy = state.trainerId === actor.sub ? 'trainer' : 'client';
      return [{ type: 'CoachingEnded', data: valid(coachingEndedValidator, { relationshipId, endedBy, ...(command.data.reason === undefined ? {} : { reason: command.data.reason }) }) }];
    }
    default: {
      const _: never = command;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

export function evolveCoaching(state: CoachingState, event: CoachingEvent): CoachingState {
  switch (event.type) {
    case 'CoachingInvited':
      return { status: 'invited', relationshipId: event.data.relationshipId, trainerId: event.data.trainerId, clientId: event.data.clientId };
    case 'CoachingAccepted':
      return state.status === 'none' ? state : { ...state, status: 'active' };
    case 'CoachingEnded':
      return state.status === 'none' ? state : { ...state, status: 'ended' };
    default: {
      const _: never = event;
      return state;
    }
  }
}

export const coachingDecider: Decider<CoachingState, CoachingCommand, CoachingEvent> = { initialState: initialCoachingState, evolve: evolveCoaching, decide: decideCoaching };
