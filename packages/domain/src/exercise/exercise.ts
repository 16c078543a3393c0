import type { Decider } from '../decider';
import { DomainError } from '../errors';
import { jsonEqual } from '../json';
import type { ObjectValidator } from '../validation/validator';
import type { ExerciseCommand, ExerciseDefinitionInput } from './commands';
import type { ExerciseDefinition, ExerciseEvent } from './events';
import { exerciseArchivedValidator, exerciseCreatedValidator, exerciseRevisedValidator } from './exerciseEventTypes';

export type ExerciseStatus = 'none' | 'active' | 'archived';

export type ExerciseState = {
  readonly status: ExerciseStatus;
  readonly exerciseId?: string;
  readonly definition?: ExerciseDefinition;
};

export const exerciseStreamId = (exerciseId: string): string => `exercise-${exerciseId}`;

export function initialExerciseState(): ExerciseState {
  return { status: 'none' };
}

function valid<T>(validator: ObjectValidator<T>, data: unknown): T {
  const result = validator.check(data);
  if (!result.ok) throw DomainError.validation(result.issues);
  return result.value;
}

/** Defaults filled in, the name trimmed, undefined optionals dropped: the form stored and compared. */
export function normaliseDefinition(input: ExerciseDefinitionInput): ExerciseDefinition {
  const definition: Record<string, unknown> = {
    visibility: input.visibility ?? 'private',
    name: typeof input.name === 'string' ? input.name.trim() : input.name,
    category: input.category,
    level: input.level,
    primaryMuscles: input.primaryMuscles,
    secondaryMuscles: input.secondaryMuscles ?? [],
    equipment: input.equipment,
    mechanic: input.mechanic,
    force: input.force,
    instructions: input.instructions ?? [],
    mediaLinks: input.mediaLinks ?? [],
  };
  return Object.fromEntries(Object.entries(definition).filter(([, v]) => v !== undefined)) as ExerciseDefinition;
}

const notFound = (): DomainError => new DomainError('EXERCISE_NOT_FOUND', 'the exercise does not exist', { field: 'exerciseId' });

export function decideExercise(command: ExerciseCommand, state: ExerciseState): ExerciseEvent[] {
  const { exerciseId } = command.data;
  if (state.status !== 'none' && state.exerciseId !== exerciseId) {
    throw new DomainError('EXERCISE_ID_MISMATCH', 'the command addresses another exercise than this stream', { field: 'exerciseId' });
  }
  switch (command.type) {
    case 'CreateExercise': {
      const definition = normaliseDefinition(command.data.definition);
      if (state.status !== 'none') {
        // A retried create with the same definition changes nothing; anything else is a conflict.
        if (state.status === 'active' && jsonEqual(state.definition, definition)) return [];
        throw new DomainError('EXERCISE_ALREADY_EXISTS', 'an exercise with this id already exists', { field: 'exerciseId' });
      }
      return [{ type: 'ExerciseCreated', data: valid(exerciseCreatedValidator, { exerciseId, ...definition }) }];
    }
    case 'ReviseExercise': {
      switch (state.status) {
        case 'none':
          throw notFound();
        case 'archived':
          throw new DomainError('EXERCISE_ARCHIVED', 'the exercise was archived and can no longer be revised');
        case 'active':
          break;
        default: {
          const _: never = state.status;
          throw new Error(`unknown status ${String(_)}`);
        }
      }
      const definition = normaliseDefinition(command.data.definition);
      if (jsonEqual(state.definition, definition)) return [];
      return [{ type: 'ExerciseRevised', data: valid(exerciseRevisedValidator, { exerciseId, ...definition }) }];
    }
    case 'ArchiveExercise': {
      if (state.status === 'none') throw notFound();
      if (state.status === 'archived') return [];
      const { reason } = command.data;
      return [{ type: 'ExerciseArchived', data: valid(exerciseArchivedValidator, reason === undefined ? { exerciseId } : { exerciseId, reason }) }];
    }
    default: {
      const _: never = command;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

/** Applies a recorded fact. Total: never throws. */
export function evolveExercise(state: ExerciseState, event: ExerciseEvent): ExerciseState {
  switch (event.type) {
    case 'ExerciseCreated':
    case 'ExerciseRevised': {
      const { exerciseId, ...definition } = event.data;
      return { status: state.status === 'archived' ? 'archived' : 'active', exerciseId, definition };
    }
    case 'ExerciseArchived':
      return { ...state, status: 'archived', exerciseId: event.data.exerciseId };
    default: {
      const _: never = event;
      return state;
    }
  }
}

export const exerciseDecider: Decider<ExerciseState, ExerciseCommand, ExerciseEvent> = {
  initialState: initialExerciseState,
  evolve: evolveExercise,
  decide: decideExercise,
};
