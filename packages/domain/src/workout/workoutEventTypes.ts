import { defineEventType, type EventTypeDefinition } from '../events/eventRegistry';
import { DISTANCE_UNITS, MASS_UNITS, toKg, toMetres } from '../units/units';
import {
  anyOf,
  array,
  boolean,
  isoDateTime,
  number,
  object,
  oneOf,
  optional,
  record,
  string,
  uuid,
  type ObjectValidator,
  type ValidationIssue,
} from '../validation/validator';
import type {
  SetCorrectedData,
  SetDeletedData,
  SetLoggedData,
  SetValues,
  WorkoutCancelledData,
  WorkoutClonedData,
  WorkoutCompletedData,
  WorkoutEventType,
  WorkoutPlannedData,
  WorkoutStartedData,
} from './events';

/**
 * The workout rules on values. The deciders validate the event data they are about to emit with
 * these same validators, so a rule lives in one place. A limit may be loosened freely; tightening
 * one would make old events unreadable, so a tighter rule goes into the decider or a new schema
 * version.
 */
export const WORKOUT_LIMITS = {
  loadKgMax: 1000,
  repsMin: 1,
  repsMax: 999,
  durationSMax: 24 * 60 * 60,
  restBeforeSMax: 24 * 60 * 60,
  distanceMMax: 1_000_000,
  rpeMin: 1,
  rpeMax: 10,
  /** Active energy of one workout: a 24-hour ultra burns about 10–15k kcal. */
  energyKcalMax: 20_000,
  heartRateBpmMin: 20,
  heartRateBpmMax: 250,
  notesMaxChars: 2000,
  titleMaxChars: 200,
  reasonMaxChars: 500,
  supersetGroupMaxChars: 20,
  customFieldsMaxKeys: 20,
  customFieldStringMaxChars: 200,
  plannedSetsMax: 200,
} as const;

const L = WORKOUT_LIMITS;
/** Canonical values derived from an entered value may differ from a recomputation by float noise only. */
const sameCanonical = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

const setValueShape = {
  exerciseId: uuid(),
  reps: optional(number({ integer: true, min: L.repsMin, max: L.repsMax })),
  load: optional(object({ value: number({ min: 0 }), unit: oneOf(MASS_UNITS) })),
  loadKg: optional(number({ min: 0, max: L.loadKgMax, unit: 'kg' })),
  durationS: optional(number({ min: 0, max: L.durationSMax, unit: 's' })),
  distance: optional(object({ value: number({ min: 0 }), unit: oneOf(DISTANCE_UNITS) })),
  distanceM: optional(number({ min: 0, max: L.distanceMMax, unit: 'm' })),
  rpe: optional(number({ min: L.rpeMin, max: L.rpeMax, step: 0.5 })),
  heartRateBpm: optional(number({ integer: true, min: L.heartRateBpmMin, max: L.heartRateBpmMax, unit: 'bpm' })),
  warmUp: boolean(),
  toFailure: boolean(),
  supersetGroup: optional(string({ min: 1, max: L.supersetGroupMaxChars })),
  restBeforeS: optional(number({ min: 0, max: L.restBeforeSMax, unit: 's' })),
  notes: optional(string({ max: L.notesMaxChars })),
  customFields: optional(
    record(anyOf(number(), string({ max: L.customFieldStringMaxChars })), {
      maxKeys: L.customFieldsMaxKeys,
      keyPattern: /^[A-Za-z][A-Za-z0-9_]{0,39}$/,
      keyPatternName: 'identifiers of up to 40 letters, digits or underscores',
    }),
  ),
};

/** Entered and canonical values agree, and the set records something measurable. */
function setValueRules(set: Omit<SetValues, 'exerciseId' | 'warmUp' | 'toFailure'>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if ((set.load === undefined) !== (set.loadKg === undefined)) {
    issues.push({ field: 'loadKg', code: 'inconsistent', message: 'load and loadKg must be given together' });
  } else if (set.load !== undefined && set.loadKg !== undefined && !sameCanonical(toKg(set.load.value, set.load.unit), set.loadKg)) {
    issues.push({ field: 'loadKg', code: 'inconsistent', message: 'loadKg must equal load converted to kg' });
  }
  if ((set.distance === undefined) !== (set.distanceM === undefined)) {
    issues.push({ field: 'distanceM', code: 'inconsistent', message: 'distance and distanceM must be given together' });
  } else if (
    set.distance !== undefined &&
    set.distanceM !== undefined &&
    !sameCanonical(toMetres(set.distance.value, set.distance.unit), set.distanceM)
  ) {
    issues.push({ field: 'distanceM', code: 'inconsistent', message: 'distanceM must equal distance converted to metres' });
  }
  if (set.reps === undefined && set.durationS === undefined && set.distanceM === undefined) {
    issues.push({ field: 'reps', code: 'required', message: 'reps is required unless durationS or distanceM is given' });
  }
  return issues;
}

const geoLocation = object({
  lat: number({ min: -90, max: 90, unit: '°' }),
  lon: number({ min: -180, max: 180, unit: '°' }),
});

export const setValuesValidator: ObjectValidator<SetValues> = object(setValueShape, setValueRules);

const title = string({ min: 1, max: L.titleMaxChars });
const notes = string({ max: L.notesMaxChars });
const reason = string({ max: L.reasonMaxChars });
const plannedSets = array(setValuesValidator, { max: L.plannedSetsMax });

export const workoutPlannedValidator: ObjectValidator<WorkoutPlannedData> = object({
  workoutId: uuid(),
  title,
  plannedFor: isoDateTime(),
  location: optional(geoLocation),
  notes: optional(notes),
  plannedSets,
  templateId: optional(uuid()),
  templateVersion: optional(number({ min: 1, integer: true })),
});

export const workoutStartedValidator: ObjectValidator<WorkoutStartedData> = object({
  workoutId: uuid(),
  startedAt: isoDateTime(),
  title: optional(title),
  location: optional(geoLocation),
});

export const setLoggedValidator: ObjectValidator<SetLoggedData> = object(
  { workoutId: uuid(), setId: uuid(), occurredAt: isoDateTime(), ...setValueShape },
  setValueRules,
);

export const setCorrectedValidator: ObjectValidator<SetCorrectedData> = object(
  { workoutId: uuid(), setId: uuid(), reason: optional(reason), ...setValueShape },
  setValueRules,
);

export const setDeletedValidator: ObjectValidator<SetDeletedData> = object({
  workoutId: uuid(),
  setId: uuid(),
  reason: optional(reason),
});

export const workoutCompletedValidator: ObjectValidator<WorkoutCompletedData> = object({
  workoutId: uuid(),
  completedAt: isoDateTime(),
  perceivedExertion: optional(number({ min: L.rpeMin, max: L.rpeMax, step: 0.5 })),
  energyKcal: optional(number({ min: 0, max: L.energyKcalMax, unit: 'kcal' })),
  notes: optional(notes),
});

export const workoutCancelledValidator: ObjectValidator<WorkoutCancelledData> = object({
  workoutId: uuid(),
  cancelledAt: isoDateTime(),
  reason: optional(reason),
});

export const workoutClonedValidator: ObjectValidator<WorkoutClonedData> = object(
  {
    workoutId: uuid(),
    sourceWorkoutId: uuid(),
    title,
    plannedFor: optional(isoDateTime()),
    location: optional(geoLocation),
    notes: optional(notes),
    plannedSets,
  },
  (data) =>
    data.workoutId === data.sourceWorkoutId
      ? [{ field: 'workoutId', code: 'inconsistent', message: 'workoutId must differ from sourceWorkoutId' }]
      : [],
);

/** Every workout event type, schema version 1. Only opaque ids are stored in clear. */
export const workoutEventTypes = [
  defineEventType({ type: 'WorkoutPlanned', schemaVersion: 1, plainFields: ['workoutId', 'templateId'], validator: workoutPlannedValidator, upcasters: {} }),
  defineEventType({ type: 'WorkoutStarted', schemaVersion: 1, plainFields: ['workoutId'], validator: workoutStartedValidator, upcasters: {} }),
  defineEventType({ type: 'SetLogged', schemaVersion: 1, plainFields: ['workoutId', 'setId', 'exerciseId'], validator: setLoggedValidator, upcasters: {} }),
  defineEventType({ type: 'SetCorrected', schemaVersion: 1, plainFields: ['workoutId', 'setId', 'exerciseId'], validator: setCorrectedValidator, upcasters: {} }),
  defineEventType({ type: 'SetDeleted', schemaVersion: 1, plainFields: ['workoutId', 'setId'], validator: setDeletedValidator, upcasters: {} }),
  defineEventType({ type: 'WorkoutCompleted', schemaVersion: 1, plainFields: ['workoutId'], validator: workoutCompletedValidator, upcasters: {} }),
  defineEventType({ type: 'WorkoutCancelled', schemaVersion: 1, plainFields: ['workoutId'], validator: workoutCancelledValidator, upcasters: {} }),
  defineEventType({ type: 'WorkoutCloned', schemaVersion: 1, plainFields: ['workoutId', 'sourceWorkoutId'], validator: workoutClonedValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<WorkoutEventType, unknown>[];

/** Compile-time check that every workout event type has a definition. */
type Defined = (typeof workoutEventTypes)[number]['type'];
const _everyWorkoutEventDefined: [WorkoutEventType] extends [Defined] ? true : never = true;
void _everyWorkoutEventDefined;
