import { decideExercise, evolveExercise, exerciseStreamId, initialExerciseState, type ExerciseCommand, type ExerciseEvent, type ExerciseState } from '@fitledger/domain';
import { decideExerciseAccess } from './exerciseAccessPolicy';
import { createStreamCommandRunner, type StreamKind, type StreamRunnerDeps } from './streamCommandRunner';

/** Custom exercises: one short stream per exercise; only the author changes it (exerciseAccessPolicy.ts). */
export const exerciseKind: StreamKind<ExerciseState, ExerciseCommand, ExerciseEvent> = {
  noun: 'exercise',
  notFoundCode: 'EXERCISE_NOT_FOUND',
  alreadyExists: { code: 'EXERCISE_ALREADY_EXISTS', field: 'exerciseId' },
  notFoundDomainCodes: new Set(['EXERCISE_NOT_FOUND']),
  roleNotAllowed: 'this role does not author exercises',
  decider: { initialState: initialExerciseState, evolve: evolveExercise, decide: decideExercise },
  streamId: exerciseStreamId,
  access: decideExerciseAccess,
};

export function createExerciseCommandRunner(deps: StreamRunnerDeps) {
  return createStreamCommandRunner(exerciseKind, deps);
}

export type ExerciseCommandRunner = ReturnType<typeof createExerciseCommandRunner>;
