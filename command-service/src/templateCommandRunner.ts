import { templateDecider, templateStreamId, type TemplateCommand, type TemplateEvent, type TemplateState } from '@fitledger/domain';
import type { Caller } from './accessPolicy';
import { decideExerciseAccess } from './exerciseAccessPolicy';
import { createStreamCommandRunner, type StreamKind, type StreamOwner, type StreamRunnerDeps } from './streamCommandRunner';

/** Workout templates: only the author changes one (the exercise-library policy: clients, trainers, org admins). */
export const templateKind: StreamKind<TemplateState, TemplateCommand, TemplateEvent> = {
  noun: 'template',
  notFoundCode: 'TEMPLATE_NOT_FOUND',
  alreadyExists: { code: 'TEMPLATE_ALREADY_EXISTS', field: 'templateId' },
  notFoundDomainCodes: new Set(['TEMPLATE_NOT_FOUND']),
  roleNotAllowed: 'this role does not author workout templates',
  decider: templateDecider,
  streamId: templateStreamId,
  access: decideExerciseAccess,
};

/** Who may plan a workout from a template: its author, or anyone in the author's organisation when it is shared. */
export function mayUseTemplate(caller: Caller, owner: StreamOwner, state: TemplateState): boolean {
  if (state.status === 'none') return false;
  if (owner.tenantId !== caller.tenantId) return false;
  return owner.subjectId === caller.sub || state.definition.visibility === 'organisation';
}

export function createTemplateCommandRunner(deps: StreamRunnerDeps) {
  return createStreamCommandRunner(templateKind, deps);
}

export type TemplateCommandRunner = ReturnType<typeof createTemplateCommandRunner>;
