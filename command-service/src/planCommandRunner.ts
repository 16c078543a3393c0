import { planDecider, planStreamId, type PlanCommand, type PlanEvent, type PlanState } from '@fitledger/domain';
import { decideWorkoutAccess } from './accessPolicy';
import { createStreamCommandRunner, type StreamKind, type StreamRunnerDeps } from './streamCommandRunner';

/** Weekly plans: a person's own schedule (the owner-only policy of workouts). */
export const planKind: StreamKind<PlanState, PlanCommand, PlanEvent> = {
  noun: 'plan',
  notFoundCode: 'PLAN_NOT_FOUND',
  alreadyExists: { code: 'PLAN_ALREADY_EXISTS', field: 'planId' },
  notFoundDomainCodes: new Set(['PLAN_NOT_FOUND']),
  roleNotAllowed: 'this role does not keep training plans',
  decider: planDecider,
  streamId: planStreamId,
  access: decideWorkoutAccess,
};

export function createPlanCommandRunner(deps: StreamRunnerDeps) {
  return createStreamCommandRunner(planKind, deps);
}

export type PlanCommandRunner = ReturnType<typeof createPlanCommandRunner>;
