import type { Event } from '../events/envelope';
import type { Equipment, ExerciseCategory, ExerciseLevel, ExerciseVisibility, Force, Mechanic, Muscle } from './vocabulary';

/** What a custom exercise is: every field a revision replaces. */
export type ExerciseDefinition = {
  readonly visibility: ExerciseVisibility;
  readonly name: string;
  readonly category: ExerciseCategory;
  readonly level: ExerciseLevel;
  /** At least one; no muscle twice. */
  readonly primaryMuscles: readonly Muscle[];
  readonly secondaryMuscles: readonly Muscle[];
  readonly equipment?: Equipment;
  readonly mechanic?: Mechanic;
  readonly force?: Force;
  /** Steps, in order. */
  readonly instructions: readonly string[];
  /** Pictures or videos: https URLs only. */
  readonly mediaLinks: readonly string[];
};

export type ExerciseCreatedData = ExerciseDefinition & { readonly exerciseId: string };
/** Full replacement of the definition (not a patch). */
export type ExerciseRevisedData = ExerciseDefinition & { readonly exerciseId: string };
/** Taken out of search and suggestions; still readable by id, so workouts that used it keep their name. */
export type ExerciseArchivedData = { readonly exerciseId: string; readonly reason?: string };

export type ExerciseCreated = Event<'ExerciseCreated', ExerciseCreatedData>;
export type ExerciseRevised = Event<'ExerciseRevised', ExerciseRevisedData>;
export type ExerciseArchived = Event<'ExerciseArchived', ExerciseArchivedData>;

export type ExerciseEvent = ExerciseCreated | ExerciseRevised | ExerciseArchived;
export type ExerciseEventType = ExerciseEvent['type'];
