import type { Command } from '../events/envelope';
import type { MassUnit } from '../units/units';
import type { CircumferenceSite, Entered, LengthUnit, VolumeUnit } from './events';

/** A measurement as a client sends it: entered units only; the decider derives the canonical values. */
export type MeasurementInput =
  | { readonly metric: 'weight'; readonly weight: Entered<MassUnit> }
  | { readonly metric: 'body_fat'; readonly bodyFatPercent: number }
  | { readonly metric: 'circumference'; readonly site: CircumferenceSite; readonly circumference: Entered<LengthUnit> }
  | { readonly metric: 'resting_heart_rate'; readonly heartRateBpm: number }
  | { readonly metric: 'blood_pressure'; readonly systolicMmHg: number; readonly diastolicMmHg: number }
  | { readonly metric: 'sleep_duration'; readonly durationS: number }
  | { readonly metric: 'hydration'; readonly volume: Entered<VolumeUnit> };

/** `measurementId` is client-supplied (UUIDv7), so a retried record is recognised. `measuredAt` defaults to now. */
export type RecordBodyMeasurement = Command<
  'RecordBodyMeasurement',
  { readonly measurementId: string; readonly measurement: MeasurementInput; readonly measuredAt?: Date; readonly note?: string }
>;

export type CorrectBodyMeasurement = Command<
  'CorrectBodyMeasurement',
  { readonly measurementId: string; readonly measurement: MeasurementInput; readonly measuredAt?: Date; readonly note?: string; readonly reason?: string }
>;

export type DeleteBodyMeasurement = Command<'DeleteBodyMeasurement', { readonly measurementId: string; readonly reason?: string }>;

export type BodyMeasurementCommand = RecordBodyMeasurement | CorrectBodyMeasurement | DeleteBodyMeasurement;
