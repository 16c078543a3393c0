import type { Command } from '../events/envelope';
import type { ExerciseDefinition } from './events';

/** A definition as a client sends it: lists and visibility may be left out (empty, `private`). */
export type ExerciseDefinitionInput = Omit<ExerciseDefinition, 'visibility' | 'secondaryMuscles' | 'instructions' | 'mediaLinks'> & {
  readonly visibility?: ExerciseDefinition['visibility'];
  readonly secondaryMuscles?: ExerciseDefinition['secondaryMuscles'];
  readonly instructions?: ExerciseDefinition['instructions'];
  readonly mediaLinks?: ExerciseDefinition['mediaLinks'];
};

/** `exerciseId` is client-suppliable (UUID), so a retried create is recognised. */
export type CreateExercise = Command<'CreateExercise', { readonly exerciseId: string; readonly definition: ExerciseDefinitionInput }>;
/** Replaces the whole definition. */
export type ReviseExercise = Command<'ReviseExercise', { readonly exerciseId: string; readonly definition: ExerciseDefinitionInput }>;
export type ArchiveExercise = Command<'ArchiveExercise', { readonly exerciseId: string; readonly reason?: string }>;

export type ExerciseCommand = CreateExercise | ReviseExercise | ArchiveExercise;
export type ExerciseCommandType = ExerciseCommand['type'];
