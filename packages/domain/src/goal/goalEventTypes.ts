import { defineEventType, type EventTypeDefinition } from '../events/eventRegistry';
import { isoDate, isoDateTime, number, object, oneOf, optional, string, uuid, type ObjectValidator, type Validator } from '../validation/validator';
import { GOAL_KINDS, type GoalAchievedData, type GoalCancelledData, type GoalEventType, type GoalKind, type GoalMissedData, type GoalSetData, type GoalTarget } from './events';

/** Longest goal period (about two years) and the plausible range of each target. */
export const GOAL_LIMITS = {
  periodDaysMax: 731,
  weightKg: { min: 20, max: 400 },
  reps: { min: 1, max: 999 },
  loadKg: { min: 0, max: 1000 },
  distanceM: { min: 1, max: 100_000_000 },
  kcal: { min: 1, max: 10_000_000 },
  streakDays: { min: 2, max: 731 },
  perWeek: { min: 1, max: 14 },
} as const;
const L = GOAL_LIMITS;

const targets: Record<GoalKind, ObjectValidator<unknown>> = {
  weight: object({ kind: oneOf(['weight'] as const), weightKg: number({ min: L.weightKg.min, max: L.weightKg.max, unit: 'kg' }), direction: oneOf(['at_most', 'at_least'] as const) }),
  reps_at_load: object({
    kind: oneOf(['reps_at_load'] as const),
    exerciseId: uuid(),
    reps: number({ min: L.reps.min, max: L.reps.max, integer: true }),
    loadKg: number({ min: L.loadKg.min, max: L.loadKg.max, unit: 'kg' }),
  }),
  distance: object({ kind: oneOf(['distance'] as const), distanceM: number({ min: L.distanceM.min, max: L.distanceM.max, unit: 'm' }) }),
  calories: object({ kind: oneOf(['calories'] as const), kcal: number({ min: L.kcal.min, max: L.kcal.max, unit: 'kcal' }) }),
  streak: object({ kind: oneOf(['streak'] as const), days: number({ min: L.streakDays.min, max: L.streakDays.max, integer: true }) }),
  workouts_per_week: object({ kind: oneOf(['workouts_per_week'] as const), perWeek: number({ min: L.perWeek.min, max: L.perWeek.max, integer: true }) }),
};

/** A target validated by its `kind`: exactly that kind's fields. */
const target: Validator<GoalTarget> = {
  check(value, path = '') {
    const prefix = path === '' ? '' : `${path}.`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, issues: [{ field: path || '(root)', code: 'type', message: `${path || '(root)'} must be an object` }] };
    const kind = oneOf(GOAL_KINDS).check((value as { kind?: unknown }).kind, `${prefix}kind`);
    if (!kind.ok) return kind;
    return targets[kind.value].check(value, path) as ReturnType<Validator<GoalTarget>['check']>;
  },
};

export const goalSetValidator: ObjectValidator<GoalSetData> = object({ goalId: uuid(), target, startsOn: isoDate(), endsOn: isoDate() }, (g) => {
  const days = (Date.parse(g.endsOn) - Date.parse(g.startsOn)) / 86_400_000;
  if (days < 0) return [{ field: 'endsOn', code: 'inconsistent', message: 'endsOn must not be before startsOn' }];
  if (days >= L.periodDaysMax) return [{ field: 'endsOn', code: 'range', message: `a goal spans at most ${L.periodDaysMax} days` }];
  return [];
});
export const goalCancelledValidator: ObjectValidator<GoalCancelledData> = object({ goalId: uuid(), reason: optional(string({ max: 500 })) });
export const goalAchievedValidator: ObjectValidator<GoalAchievedData> = object({ goalId: uuid(), achievedAt: isoDateTime(), value: number() });
export const goalMissedValidator: ObjectValidator<GoalMissedData> = object({ goalId: uuid(), missedAt: isoDateTime(), value: number() });

/** Goals, schema version 1. Only the goal id is in clear (a weight target is health data). */
export const goalEventTypes = [
  defineEventType({ type: 'GoalSet', schemaVersion: 1, plainFields: ['goalId'], validator: goalSetValidator, upcasters: {} }),
  defineEventType({ type: 'GoalCancelled', schemaVersion: 1, plainFields: ['goalId'], validator: goalCancelledValidator, upcasters: {} }),
  defineEventType({ type: 'GoalAchieved', schemaVersion: 1, plainFields: ['goalId'], validator: goalAchievedValidator, upcasters: {} }),
  defineEventType({ type: 'GoalMissed', schemaVersion: 1, plainFields: ['goalId'], validator: goalMissedValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<GoalEventType, unknown>[];
