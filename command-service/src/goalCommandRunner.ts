import { goalDecider, goalStreamId, type GoalCommand, type GoalEvent, type GoalState } from '@fitledger/domain';
import { decideWorkoutAccess } from './accessPolicy';
import { createStreamCommandRunner, type StreamKind, type StreamRunnerDeps } from './streamCommandRunner';

/** Goals: a person's own (owner-only policy); outcomes are recorded by the goal evaluator as system. */
export const goalKind: StreamKind<GoalState, GoalCommand, GoalEvent> = {
  noun: 'goal',
  notFoundCode: 'GOAL_NOT_FOUND',
  alreadyExists: { code: 'GOAL_ALREADY_EXISTS', field: 'goalId' },
  notFoundDomainCodes: new Set(['GOAL_NOT_FOUND']),
  roleNotAllowed: 'this role does not keep goals',
  decider: goalDecider,
  streamId: goalStreamId,
  access: decideWorkoutAccess,
};

export function createGoalCommandRunner(deps: StreamRunnerDeps) {
  return createStreamCommandRunner(goalKind, deps);
}

export type GoalCommandRunner = ReturnType<typeof createGoalCommandRunner>;
