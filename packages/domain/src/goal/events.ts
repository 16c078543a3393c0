import type { Event } from '../events/envelope';

export const GOAL_KINDS = ['weight', 'reps_at_load', 'distance', 'calories', 'streak', 'workouts_per_week'] as const;
export type GoalKind = (typeof GOAL_KINDS)[number];

/** What a goal asks for; the target's unit follows from the kind. */
export type GoalTarget =
  /** Body weight at most (losing) or at least (gaining) `weightKg` by the end date. */
  | { readonly kind: 'weight'; readonly weightKg: number; readonly direction: 'at_most' | 'at_least' }
  /** A working set of at least `reps` at `loadKg` or more of one exercise. */
  | { readonly kind: 'reps_at_load'; readonly exerciseId: string; readonly reps: number; readonly loadKg: number }
  /** `distanceM` metres in total, over all sets with a distance. */
  | { readonly kind: 'distance'; readonly distanceM: number }
  /** `kcal` of active energy burned in total, over the workouts completed in the period that recorded it. */
  | { readonly kind: 'calories'; readonly kcal: number }
  /** A streak of `days` consecutive days with a completed workout. */
  | { readonly kind: 'streak'; readonly days: number }
  /** At least `perWeek` completed workouts in every week of the goal's period. */
  | { readonly kind: 'workouts_per_week'; readonly perWeek: number };

export type GoalSetData = {
  readonly goalId: string;
  readonly target: GoalTarget;
  /** First and last local date of the period (inclusive), in the person's calendar. */
  readonly startsOn: string;
  readonly endsOn: string;
};
export type GoalCancelledData = { readonly goalId: string; readonly reason?: string };
/** Decided by the goal evaluator from the read models; final. `value` is the progress measure that decided it. */
export type GoalAchievedData = { readonly goalId: string; readonly achievedAt: string; readonly value: number };
export type GoalMissedData = { readonly goalId: string; readonly missedAt: string; readonly value: number };

export type GoalSet = Event<'GoalSet', GoalSetData>;
export type GoalCancelled = Event<'GoalCancelled', GoalCancelledData>;
export type GoalAchieved = Event<'GoalAchieved', GoalAchievedData>;
export type GoalMissed = Event<'GoalMissed', GoalMissedData>;
export type GoalEvent = GoalSet | GoalCancelled | GoalAchieved | GoalMissed;
export type GoalEventType = GoalEvent['type'];
