import { BODY_METRIC_LIMITS as L, BODY_METRICS, CIRCUMFERENCE_SITES, LENGTH_UNITS, MASS_UNITS, VOLUME_UNITS } from '@fitledger/domain';
import { UUID_PATTERN } from './workoutSchemas';

/**
 * JSON schemas of the body-measurement routes. Types, fields and the value ranges that do not
 * depend on a unit are checked here (400 naming the field); plausibility of the canonical value
 * (e.g. 1,500 lb) is the decider's (422 naming the field).
 */

const entered = (units: readonly string[], example: { value: number; unit: string }) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['value', 'unit'],
    properties: { value: { type: 'number', exclusiveMinimum: 0 }, unit: { type: 'string', enum: [...units] } },
    example,
  }) as const;

const metric = (name: string) => ({ type: 'string', const: name }) as const;
const int = (range: { min: number; max: number }, description: string) => ({ type: 'integer', minimum: range.min, maximum: range.max, description }) as const;

/** One measurement; `metric` selects the fields (OpenAPI discriminator). */
export const measurementSchema = {
  type: 'object',
  required: ['metric'],
  properties: { metric: { type: 'string', enum: [...BODY_METRICS] } },
  discriminator: { propertyName: 'metric' },
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['metric', 'weight'], properties: { metric: metric('weight'), weight: entered(MASS_UNITS, { value: 81.5, unit: 'kg' }) } },
    {
      type: 'object',
      additionalProperties: false,
      required: ['metric', 'bodyFatPercent'],
      properties: { metric: metric('body_fat'), bodyFatPercent: { type: 'number', minimum: L.bodyFatPercent.min, maximum: L.bodyFatPercent.max } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['metric', 'site', 'circumference'],
      properties: { metric: metric('circumference'), site: { type: 'string', enum: [...CIRCUMFERENCE_SITES] }, circumference: entered(LENGTH_UNITS, { value: 84, unit: 'cm' }) },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['metric', 'heartRateBpm'],
      properties: { metric: metric('resting_heart_rate'), heartRateBpm: int(L.heartRateBpm, 'Beats per minute at rest.') },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['metric', 'systolicMmHg', 'diastolicMmHg'],
      properties: { metric: metric('blood_pressure'), systolicMmHg: int(L.systolicMmHg, 'mmHg'), diastolicMmHg: int(L.diastolicMmHg, 'mmHg; below systolic.') },
    },
    { type: 'object', additionalProperties: false, required: ['metric', 'durationS'], properties: { metric: metric('sleep_duration'), durationS: int(L.durationS, 'Seconds asleep.') } },
    { type: 'object', additionalProperties: false, required: ['metric', 'volume'], properties: { metric: metric('hydration'), volume: entered(VOLUME_UNITS, { value: 500, unit: 'ml' }) } },
  ],
} as const;

const note = { type: 'string', maxLength: 2_000 } as const;
const reason = { type: 'string', maxLength: 500 } as const;
const measuredAt = { type: 'string', format: 'date-time', maxLength: 40, description: 'When it was measured; defaults to now; not in the future.', example: '2026-03-03T06:45:00.000Z' } as const;

export const recordMeasurementBody = {
  type: 'object',
  additionalProperties: false,
  required: ['measurement'],
  properties: {
    measurementId: { type: 'string', pattern: UUID_PATTERN, description: 'Client-chosen id (UUIDv7) so a retry is recognised; generated when absent.' },
    measurement: measurementSchema,
    measuredAt,
    note,
  },
} as const;

export const correctMeasurementBody = {
  type: 'object',
  additionalProperties: false,
  required: ['measurement'],
  description: 'Replaces the values (the metric stays); measuredAt is kept unless given.',
  properties: { measurement: measurementSchema, measuredAt, note, reason },
} as const;

export const deleteMeasurementBody = { type: 'object', additionalProperties: false, properties: { reason } } as const;

export const measurementIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['measurementId'],
  properties: { measurementId: { type: 'string', pattern: UUID_PATTERN } },
} as const;

export const measurementResultSchema = {
  type: 'object',
  required: ['measurementId', 'revision', 'position'],
  properties: {
    measurementId: { type: 'string' },
    revision: { type: 'integer', description: 'Revision of the measurement stream after the command; also the ETag.' },
    position: { type: 'string', description: 'Opaque $all position of the last event: read models are current once they reach it.' },
  },
} as const;
