import type { Command } from '../events/envelope';
import type { GoalTarget } from './events';

export type SetGoal = Command<'SetGoal', { readonly goalId: string; readonly target: GoalTarget; readonly startsOn: string; readonly endsOn: string }>;
export type CancelGoal = Command<'CancelGoal', { readonly goalId: string; readonly reason?: string }>;
/** From the goal evaluator: the period's outcome, with the measure that decided it. */
export type RecordGoalOutcome = Command<'RecordGoalOutcome', { readonly goalId: string; readonly outcome: 'achieved' | 'missed'; readonly value: number }>;
export type GoalCommand = SetGoal | CancelGoal | RecordGoalOutcome;
