import type { Event } from '../events/envelope';
import type { MassUnit } from '../units/units';

export const BODY_METRICS = ['weight', 'body_fat', 'circumference', 'resting_heart_rate', 'blood_pressure', 'sleep_duration', 'hydration'] as const;
export type BodyMetric = (typeof BODY_METRICS)[number];

export const CIRCUMFERENCE_SITES = ['neck', 'chest', 'waist', 'hips', 'upper_arm_left', 'upper_arm_right', 'forearm_left', 'forearm_right', 'thigh_left', 'thigh_right', 'calf_left', 'calf_right'] as const;
export type CircumferenceSite = (typeof CIRCUMFERENCE_SITES)[number];

export const LENGTH_UNITS = ['cm', 'in'] as const;
export type LengthUnit = (typeof LENGTH_UNITS)[number];
export const VOLUME_UNITS = ['ml', 'l', 'fl_oz'] as const;
export type VolumeUnit = (typeof VOLUME_UNITS)[number];

/** A value as the user (or device) entered it; the canonical SI value travels beside it. */
export type Entered<U extends string> = { readonly value: number; readonly unit: U };

/**
 * One measurement, as stored. Each metric has its own fields; canonical SI values: kg, %, m, beats
 * per minute, mmHg (blood pressure keeps its clinical unit), seconds, litres.
 */
export type BodyMeasurementValues =
  | { readonly metric: 'weight'; readonly entered: Entered<MassUnit>; readonly weightKg: number }
  | { readonly metric: 'body_fat'; readonly bodyFatPercent: number }
  | { readonly metric: 'circumference'; readonly site: CircumferenceSite; readonly entered: Entered<LengthUnit>; readonly circumferenceM: number }
  | { readonly metric: 'resting_heart_rate'; readonly heartRateBpm: number }
  | { readonly metric: 'blood_pressure'; readonly systolicMmHg: number; readonly diastolicMmHg: number }
  | { readonly metric: 'sleep_duration'; readonly durationS: number }
  | { readonly metric: 'hydration'; readonly entered: Entered<VolumeUnit>; readonly volumeL: number };

export type BodyMeasurementRecordedData = BodyMeasurementValues & {
  readonly measurementId: string;
  /** When it was measured (ISO 8601 UTC). */
  readonly measuredAt: string;
  readonly note?: string;
};

/** Full replacement of the values (the metric itself cannot change). */
export type BodyMeasurementCorrectedData = BodyMeasurementRecordedData & { readonly reason?: string };

export type BodyMeasurementDeletedData = { readonly measurementId: string; readonly reason?: string };

export type BodyMeasurementRecorded = Event<'BodyMeasurementRecorded', BodyMeasurementRecordedData>;
export type BodyMeasurementCorrected = Event<'BodyMeasurementCorrected', BodyMeasurementCorrectedData>;
export type BodyMeasurementDeleted = Event<'BodyMeasurementDeleted', BodyMeasurementDeletedData>;

export type BodyMeasurementEvent = BodyMeasurementRecorded | BodyMeasurementCorrected | BodyMeasurementDeleted;
export type BodyMeasurementEventType = BodyMeasurementEvent['type'];
