import { defineEventType, type EventTypeDefinition } from '../events/eventRegistry';
import { MASS_UNITS } from '../units/units';
import { isoDateTime, number, object, oneOf, optional, string, uuid, type ObjectValidator, type ValidationIssue, type Validator } from '../validation/validator';
import {
  BODY_METRICS,
  CIRCUMFERENCE_SITES,
  LENGTH_UNITS,
  VOLUME_UNITS,
  type BodyMeasurementCorrectedData,
  type BodyMeasurementDeletedData,
  type BodyMeasurementEventType,
  type BodyMeasurementRecordedData,
  type BodyMetric,
} from './events';

/**
 * Plausibility per metric, on the canonical value (so 1,200 lb is refused like 544 kg). Wide enough
 * for every real person (children and the heaviest recorded adults included), narrow enough to
 * catch a unit mix-up or a typo. Loosening is free; tightening needs a new schema version.
 */
export const BODY_METRIC_LIMITS = {
  weightKg: { min: 1, max: 650 },
  bodyFatPercent: { min: 1, max: 75 },
  circumferenceM: { min: 0.05, max: 3 },
  heartRateBpm: { min: 20, max: 250 },
  systolicMmHg: { min: 50, max: 300 },
  diastolicMmHg: { min: 20, max: 200 },
  durationS: { min: 60, max: 86_400 },
  volumeL: { min: 0.01, max: 10 },
} as const;

const L = BODY_METRIC_LIMITS;
const note = string({ max: 2_000 });
const reason = string({ max: 500 });
/** An entered value: a positive finite number (its range is checked on the canonical value). */
const enteredValue = number({ min: 0 });

const common = { measurementId: uuid(), measuredAt: isoDateTime(), note: optional(note) };

const valuesShape = {
  weight: { metric: oneOf(['weight'] as const), entered: object({ value: enteredValue, unit: oneOf(MASS_UNITS) }), weightKg: number({ min: L.weightKg.min, max: L.weightKg.max, unit: 'kg' }) },
  body_fat: { metric: oneOf(['body_fat'] as const), bodyFatPercent: number({ min: L.bodyFatPercent.min, max: L.bodyFatPercent.max, unit: '%' }) },
  circumference: {
    metric: oneOf(['circumference'] as const),
    site: oneOf(CIRCUMFERENCE_SITES),
    entered: object({ value: enteredValue, unit: oneOf(LENGTH_UNITS) }),
    circumferenceM: number({ min: L.circumferenceM.min, max: L.circumferenceM.max, unit: 'm' }),
  },
  resting_heart_rate: { metric: oneOf(['resting_heart_rate'] as const), heartRateBpm: number({ min: L.heartRateBpm.min, max: L.heartRateBpm.max, integer: true, unit: 'bpm' }) },
  blood_pressure: {
    metric: oneOf(['blood_pressure'] as const),
    systolicMmHg: number({ min: L.systolicMmHg.min, max: L.systolicMmHg.max, integer: true, unit: 'mmHg' }),
    diastolicMmHg: number({ min: L.diastolicMmHg.min, max: L.diastolicMmHg.max, integer: true, unit: 'mmHg' }),
  },
  sleep_duration: { metric: oneOf(['sleep_duration'] as const), durationS: number({ min: L.durationS.min, max: L.durationS.max, integer: true, unit: 's' }) },
  hydration: { metric: oneOf(['hydration'] as const), entered: object({ value: enteredValue, unit: oneOf(VOLUME_UNITS) }), volumeL: number({ min: L.volumeL.min, max: L.volumeL.max, unit: 'l' }) },
} as const;

function bloodPressureRule(data: { metric: string; systolicMmHg?: number; diastolicMmHg?: number }): ValidationIssue[] {
  return data.metric === 'blood_pressure' && data.systolicMmHg !== undefined && data.diastolicMmHg !== undefined && data.systolicMmHg <= data.diastolicMmHg
    ? [{ field: 'systolicMmHg', code: 'inconsistent', message: 'systolicMmHg must be greater than diastolicMmHg' }]
    : [];
}

/** Validates by `metric`: each metric has exactly its own fields (plus `extra`), unknown ones are refused. */
function byMetric<T>(extra: Record<string, Validator<unknown>>): ObjectValidator<T> {
  const validators = Object.fromEntries(
    BODY_METRICS.map((metric) => [metric, object({ ...valuesShape[metric], ...extra }, (v) => bloodPressureRule(v as { metric: string }))]),
  ) as Record<BodyMetric, ObjectValidator<unknown>>;
  const metricValidator = oneOf(BODY_METRICS);
  return {
    keys: ['metric', ...Object.keys(extra)],
    check(value, path = '') {
      const prefix = path === '' ? '' : `${path}.`;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, issues: [{ field: path || '(root)', code: 'type', message: `${path || '(root)'} must be an object` }] };
      const metric = metricValidator.check((value as { metric?: unknown }).metric, `${prefix}metric`);
      if (!metric.ok) return metric;
      return validators[metric.value].check(value, path) as ReturnType<ObjectValidator<T>['check']>;
    },
  };
}

export const bodyMeasurementRecordedValidator = byMetric<BodyMeasurementRecordedData>(common);
export const bodyMeasurementCorrectedValidator = byMetric<BodyMeasurementCorrectedData>({ ...common, reason: optional(reason) });
export const bodyMeasurementDeletedValidator: ObjectValidator<BodyMeasurementDeletedData> = object({ measurementId: uuid(), reason: optional(reason) });

/** Body measurements, schema version 1. Only the measurement id is stored in clear: the metric itself is health information. */
export const bodyMeasurementEventTypes = [
  defineEventType({ type: 'BodyMeasurementRecorded', schemaVersion: 1, plainFields: ['measurementId'], validator: bodyMeasurementRecordedValidator, upcasters: {} }),
  defineEventType({ type: 'BodyMeasurementCorrected', schemaVersion: 1, plainFields: ['measurementId'], validator: bodyMeasurementCorrectedValidator, upcasters: {} }),
  defineEventType({ type: 'BodyMeasurementDeleted', schemaVersion: 1, plainFields: ['measurementId'], validator: bodyMeasurementDeletedValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<BodyMeasurementEventType, unknown>[];
