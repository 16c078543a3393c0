import type { Command } from '../events/envelope';
import type { CustomFieldValue, EnteredDistance, EnteredLoad, GeoLocation } from './events';
import type { WorkoutState } from './workout';

/** A set as a client sends it: entered units only; the decider derives the canonical values. */
export type SetInput = {
  readonly exerciseId: string;
  readonly reps?: number;
  readonly load?: EnteredLoad;
  readonly durationS?: number;
  readonly distance?: EnteredDistance;
  readonly rpe?: number;
  readonly heartRateBpm?: number;
  readonly warmUp?: boolean;
  readonly toFailure?: boolean;
  readonly supersetGroup?: string;
  readonly restBeforeS?: number;
  readonly notes?: string;
  readonly customFields?: Readonly<Record<string, CustomFieldValue>>;
};

export type PlanWorkout = Command<
  'PlanWorkout',
  {
    readonly workoutId: string;
    readonly title: string;
    readonly plannedFor: Date;
    readonly location?: GeoLocation;
    readonly notes?: string;
    readonly plannedSets?: readonly SetInput[];
    /** Planned from this template version (its sets are in plannedSets). */
    readonly fromTemplate?: { readonly templateId: string; readonly version: number };
  }
>;

/** Starts a planned workout, or an unplanned one from scratch. `startedAt` defaults to now. */
export type StartWorkout = Command<
  'StartWorkout',
  { readonly workoutId: string; readonly startedAt?: Date; readonly title?: string; readonly location?: GeoLocation }
>;

/** `setId` is client-supplied (UUIDv7), so a retried LogSet is recognised. `occurredAt` defaults to now. */
export type LogSet = Command<
  'LogSet',
  { readonly workoutId: string; readonly setId: string; readonly set: SetInput; readonly occurredAt?: Date }
>;

/** Replaces every value of a set (a full correction, not a patch). */
export type CorrectSet = Command<
  'CorrectSet',
  { readonly workoutId: string; readonly setId: string; readonly set: SetInput; readonly reason?: string }
>;

export type DeleteSet = Command<'DeleteSet', { readonly workoutId: string; readonly setId: string; readonly reason?: string }>;

export type CompleteWorkout = Command<
  'CompleteWorkout',
  { readonly workoutId: string; readonly completedAt?: Date; readonly perceivedExertion?: number; readonly energyKcal?: number; readonly notes?: string }
>;

export type CancelWorkout = Command<
  'CancelWorkout',
  { readonly workoutId: string; readonly cancelledAt?: Date; readonly reason?: string }
>;

/**
 * Plans a new workout (`workoutId`, an empty stream) from another one. The command service loads
 * the source stream and passes its state: the decider stays pure and sees both.
 */
export type CloneWorkout = Command<
  'CloneWorkout',
  {
    readonly workoutId: string;
    readonly sourceWorkoutId: string;
    readonly source: WorkoutState;
    readonly title?: string;
    readonly plannedFor?: Date;
  }
>;

export type WorkoutCommand =
  | PlanWorkout
  | StartWorkout
  | LogSet
  | CorrectSet
  | DeleteSet
  | CompleteWorkout
  | CancelWorkout
  | CloneWorkout;

export type WorkoutCommandType = WorkoutCommand['type'];
