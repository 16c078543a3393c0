import type { Decider } from '../decider';
import { DomainError } from '../errors';
import { withoutNegativeZero } from '../json';
import type { ObjectValidator } from '../validation/validator';
import type { GoalCommand } from './commands';
import type { GoalEvent, GoalSetData } from './events';
import { goalAchievedValidator, goalCancelledValidator, goalMissedValidator, goalSetValidator } from './goalEventTypes';

export const goalStreamId = (goalId: string): string => `goal-${goalId}`;

export type GoalStatus = 'active' | 'achieved' | 'missed' | 'cancelled';
export type GoalState = { readonly status: 'none' } | { readonly status: GoalStatus; readonly goal: GoalSetData };

export const initialGoalState = (): GoalState => ({ status: 'none' });

function valid<T>(validator: ObjectValidator<T>, data: unknown): T {
  const result = validator.check(data);
  if (!result.ok) throw DomainError.validation(result.issues);
  return result.value;
}

/**
 * A goal: set once (target and period), then cancelled by the person or decided — achieved or
 * missed — by the goal evaluator, exactly once. A decided or cancelled goal is final.
 */
export function decideGoal(given: GoalCommand, state: GoalState): GoalEvent[] {
  const command = { ...given, data: withoutNegativeZero(given.data) } as GoalCommand;
  const { goalId } = command.data;
  if (state.status !== 'none' && state.goal.goalId !== goalId) throw new DomainError('GOAL_ID_MISMATCH', 'the command addresses another goal than this stream', { field: 'goalId' });
  switch (command.type) {
    case 'SetGoal': {
      const data = valid(goalSetValidator, { goalId, target: command.data.target, startsOn: command.data.startsOn, endsOn: command.data.endsOn });
      if (state.status === 'none') return [{ type: 'GoalSet', data }];
      if (JSON.stringify(state.goal) === JSON.stringify(data)) return [];
      throw new DomainError('GOAL_ALREADY_EXISTS', 'a goal with this id already exists', { field: 'goalId' });
    }
    case 'CancelGoal':
      if (state.status === 'none') throw new DomainError('GOAL_NOT_FOUND', 'the goal does not exist', { field: 'goalId' });
      if (state.status === 'cancelled') return [];
      if (state.status !== 'active') throw new DomainError('GOAL_DECIDED', `the goal was already ${state.status}`, { field: 'goalId' });
      return [{ type: 'GoalCancelled', data: valid(goalCancelledValidator, { goalId, ...(command.data.reason === undefined ? {} : { reason: command.data.reason }) }) }];
    case 'RecordGoalOutcome': {
      if (state.status === 'none') throw new DomainError('GOAL_NOT_FOUND', 'the goal does not exist', { field: 'goalId' });
      // Decided once: a second evaluation (another process, a replay) changes nothing.
      if (state.status !== 'active') return [];
      const at = command.metadata.now.toISOString();
      return command.data.outcome === 'achieved'
        ? [{ type: 'GoalAchieved', data: valid(goalAchievedValidator, { goalId, achievedAt: at, value: command.data.value }) }]
        : [{ type: 'GoalMissed', data: valid(goalMissedValidator, { goalId, missedAt: at, value: command.data.value }) }];
    }
    default: {
      const _: never = command;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

export function evolveGoal(state: GoalState, event: GoalEvent): GoalState {
  switch (event.type) {
    case 'GoalSet':
      return { status: 'active', goal: event.data };
    case 'GoalCancelled':
      return state.status === 'none' ? state : { ...state, status: 'cancelled' };
    case 'GoalAchieved':
      return state.status === 'none' ? state : { ...state, status: 'achieved' };
    case 'GoalMissed':
      return state.status === 'none' ? state : { ...state, status: 'missed' };
    default: {
      const _: never = event;
      return state;
    }
  }
}

export const goalDecider: Decider<GoalState, GoalCommand, GoalEvent> = { initialState: initialGoalState, evolve: evolveGoal, decide: decideGoal };
