import type { Event } from '../events/envelope';
import type { DistanceUnit, MassUnit } from '../units/units';

/** A load as the user entered it; `loadKg` beside it is the canonical value. */
export type EnteredLoad = { readonly value: number; readonly unit: MassUnit };
/** A distance as the user entered it; `distanceM` beside it is the canonical value. */
export type EnteredDistance = { readonly value: number; readonly unit: DistanceUnit };
export type CustomFieldValue = string | number;
export type GeoLocation = { readonly lat: number; readonly lon: number };

/** What a set records. Entered values travel with their canonical SI value. */
export type SetValues = {
  /** Opaque exercise catalogue id (plain). */
  readonly exerciseId: string;
  readonly reps?: number;
  readonly load?: EnteredLoad;
  readonly loadKg?: number;
  readonly durationS?: number;
  readonly distance?: EnteredDistance;
  readonly distanceM?: number;
  /** Rate of perceived exertion, 1–10 in half steps (Borg CR10 / RIR-based RPE). */
  readonly rpe?: number;
  readonly heartRateBpm?: number;
  readonly warmUp: boolean;
  readonly toFailure: boolean;
  /** Sets sharing a group label were done as a superset. */
  readonly supersetGroup?: string;
  readonly restBeforeS?: number;
  readonly notes?: string;
  readonly customFields?: Readonly<Record<string, CustomFieldValue>>;
};

/** A set in a workout's current set list. */
export type LoggedSet = SetValues & {
  readonly setId: string;
  /** When the set was done (ISO 8601 UTC). */
  readonly occurredAt: string;
};

export type WorkoutPlannedData = {
  readonly workoutId: string;
  readonly title: string;
  readonly plannedFor: string;
  readonly location?: GeoLocation;
  readonly notes?: string;
  /** Target sets, in order. */
  readonly plannedSets: readonly SetValues[];
  /** The template (and its version) the workout was planned from, if any. */
  readonly templateId?: string;
  readonly templateVersion?: number;
};

export type WorkoutStartedData = {
  readonly workoutId: string;
  readonly startedAt: string;
  readonly title?: string;
  readonly location?: GeoLocation;
};

export type SetLoggedData = LoggedSet & { readonly workoutId: string };

/** Full replacement of a set's values; `occurredAt` stays as logged. */
export type SetCorrectedData = SetValues & {
  readonly workoutId: string;
  readonly setId: string;
  readonly reason?: string;
};

export type SetDeletedData = {
  readonly workoutId: string;
  readonly setId: string;
  readonly reason?: string;
};

export type WorkoutCompletedData = {
  readonly workoutId: string;
  readonly completedAt: string;
  /** Session RPE, 1–10 (Foster 2001). */
  readonly perceivedExertion?: number;
  /** Active energy burned, in kilocalories, as the person or their device reported it. */
  readonly energyKcal?: number;
  readonly notes?: string;
};

export type WorkoutCancelledData = {
  readonly workoutId: string;
  readonly cancelledAt: string;
  readonly reason?: string;
};

/** A new planned workout whose targets were copied from another workout. */
export type WorkoutClonedData = {
  readonly workoutId: string;
  readonly sourceWorkoutId: string;
  readonly title: string;
  readonly plannedFor?: string;
  readonly location?: GeoLocation;
  readonly notes?: string;
  readonly plannedSets: readonly SetValues[];
};

export type WorkoutPlanned = Event<'WorkoutPlanned', WorkoutPlannedData>;
export type WorkoutStarted = Event<'WorkoutStarted', WorkoutStartedData>;
export type SetLogged = Event<'SetLogged', SetLoggedData>;
export type SetCorrected = Event<'SetCorrected', SetCorrectedData>;
export type SetDeleted = Event<'SetDeleted', SetDeletedData>;
export type WorkoutCompleted = Event<'WorkoutCompleted', WorkoutCompletedData>;
export type WorkoutCancelled = Event<'WorkoutCancelled', WorkoutCancelledData>;
export type WorkoutCloned = Event<'WorkoutCloned', WorkoutClonedData>;

export type WorkoutEvent =
  | WorkoutPlanned
  | WorkoutStarted
  | SetLogged
  | SetCorrected
  | SetDeleted
  | WorkoutCompleted
  | WorkoutCancelled
  | WorkoutCloned;

export type WorkoutEventType = WorkoutEvent['type'];
