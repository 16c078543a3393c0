import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../../test/deciderSpecification';
import type { CommandMetadata } from '../events/envelope';
import { kgToLb } from '../units/units';
import { bodyMeasurementDecider, canonicalValue, lengthToMetres, volumeToLitres } from './bodyMeasurement';
import type { BodyMeasurementCommand, MeasurementInput } from './commands';
import type { BodyMeasurementEvent } from './events';

const M = '0190f3a2-7c1e-7a3b-8c4d-5e6f7a8b9c0d';
const OTHER = '0190f3a3-0000-7000-8000-000000000002';
const NOW = new Date('2025-03-03T08:00:00.000Z');
const meta = (now: Date = NOW): CommandMetadata => ({ now, actor: { sub: 'u-1', role: 'client' }, tenantId: 't-1', subjectId: 's-1', commandId: 'c-1', correlationId: 'r-1' });
const cmd = <C extends BodyMeasurementCommand>(type: C['type'], data: C['data'], now: Date = NOW): C => ({ type, data, metadata: meta(now) }) as C;
const record = (measurement: MeasurementInput, extra: { measuredAt?: Date; note?: string; measurementId?: string } = {}) =>
  cmd('RecordBodyMeasurement', { measurementId: extra.measurementId ?? M, measurement, ...extra });
const spec = deciderSpecification(bodyMeasurementDecider);

const weighed: BodyMeasurementEvent = {
  type: 'BodyMeasurementRecorded',
  data: { metric: 'weight', entered: { value: 80.5, unit: 'kg' }, weightKg: 80.5, measurementId: M, measuredAt: '2025-03-03T07:00:00.000Z' },
};

describe('recording body measurements', () => {
  it('records each metric with the entered value and its canonical SI value', () => {
    const at = new Date('2025-03-03T07:00:00.000Z');
    spec.given([]).when(record({ metric: 'weight', weight: { value: 180, unit: 'lb' } }, { measuredAt: at })).then([
      { type: 'BodyMeasurementRecorded', data: { metric: 'weight', entered: { value: 180, unit: 'lb' }, weightKg: 81.6466266, measurementId: M, measuredAt: at.toISOString() } },
    ]);
    spec.given([]).when(record({ metric: 'circumference', site: 'waist', circumference: { value: 32, unit: 'in' } }, { measuredAt: at })).then([
      { type: 'BodyMeasurementRecorded', data: { metric: 'circumference', site: 'waist', entered: { value: 32, unit: 'in' }, circumferenceM: 0.8128, measurementId: M, measuredAt: at.toISOString() } },
    ]);
    spec.given([]).when(record({ metric: 'hydration', volume: { value: 500, unit: 'ml' } })).then([
      { type: 'BodyMeasurementRecorded', data: { metric: 'hydration', entered: { value: 500, unit: 'ml' }, volumeL: 0.5, measurementId: M, measuredAt: NOW.toISOString() } },
    ]);
    spec.given([]).when(record({ metric: 'blood_pressure', systolicMmHg: 121, diastolicMmHg: 79 }, { note: 'after coffee' })).then([
      { type: 'BodyMeasurementRecorded', data: { metric: 'blood_pressure', systolicMmHg: 121, diastolicMmHg: 79, measurementId: M, measuredAt: NOW.toISOString(), note: 'after coffee' } },
    ]);
    for (const measurement of [
      { metric: 'body_fat', bodyFatPercent: 18.5 },
      { metric: 'resting_heart_rate', heartRateBpm: 52 },
      { metric: 'sleep_duration', durationS: 7 * 3600 + 20 * 60 },
    ] as const) {
      spec.given([]).when(record(measurement)).then([{ type: 'BodyMeasurementRecorded', data: { ...measurement, measurementId: M, measuredAt: NOW.toISOString() } }]);
    }
  });

  it.each([
    [{ metric: 'weight', weight: { value: 1_500, unit: 'lb' } }, 'measurement.weight.value'],
    [{ metric: 'weight', weight: { value: 0.2, unit: 'kg' } }, 'measurement.weight.value'],
    [{ metric: 'weight', weight: { value: 80, unit: 'stone' } }, 'measurement.unit'],
    [{ metric: 'body_fat', bodyFatPercent: 90 }, 'measurement.bodyFatPercent'],
    [{ metric: 'circumference', site: 'waist', circumference: { value: 400, unit: 'cm' } }, 'measurement.circumference.value'],
    [{ metric: 'circumference', site: 'ear', circumference: { value: 40, unit: 'cm' } }, 'measurement.site'],
    [{ metric: 'resting_heart_rate', heartRateBpm: 12 }, 'measurement.heartRateBpm'],
    [{ metric: 'resting_heart_rate', heartRateBpm: 60.5 }, 'measurement.heartRateBpm'],
    [{ metric: 'blood_pressure', systolicMmHg: 80, diastolicMmHg: 120 }, 'measurement.systolicMmHg'],
    [{ metric: 'blood_pressure', systolicMmHg: 400, diastolicMmHg: 80 }, 'measurement.systolicMmHg'],
    [{ metric: 'sleep_duration', durationS: 25 * 3600 }, 'measurement.durationS'],
    [{ metric: 'hydration', volume: { value: 20, unit: 'l' } }, 'measurement.volume.value'],
    [{ metric: 'mood', score: 3 }, 'measurement.metric'],
    [{ metric: 'body_fat', bodyFatPercent: 20, weightKg: 80 }, 'measurement.weightKg'],
  ])('refuses an implausible or malformed %j naming %s', (measurement, field) => {
    spec.given([]).when(record(measurement as MeasurementInput)).thenThrows('VALIDATION_FAILED', field);
  });

  it('refuses a measurement in the future (beyond clock skew) or before 1900', () => {
    spec.given([]).when(record({ metric: 'body_fat', bodyFatPercent: 20 }, { measuredAt: new Date(NOW.getTime() + 10 * 60_000) })).thenThrows('VALIDATION_FAILED', 'measuredAt');
    spec.given([]).when(record({ metric: 'body_fat', bodyFatPercent: 20 }, { measuredAt: new Date('1850-01-01T00:00:00Z') })).thenThrows('VALIDATION_FAILED', 'measuredAt');
    spec.given([]).when(record({ metric: 'body_fat', bodyFatPercent: 20 }, { measuredAt: new Date(NOW.getTime() + 60_000) })).then([
      { type: 'BodyMeasurementRecorded', data: { metric: 'body_fat', bodyFatPercent: 20, measurementId: M, measuredAt: new Date(NOW.getTime() + 60_000).toISOString() } },
    ]);
  });

  it('treats a retried record with the same values as done, and a different one under the same id as a conflict', () => {
    spec.given([weighed]).when(record({ metric: 'weight', weight: { value: 80.5, unit: 'kg' } }, { measuredAt: new Date('2025-03-03T07:00:00.000Z') })).thenNothingHappens();
    spec.given([weighed]).when(record({ metric: 'weight', weight: { value: 81, unit: 'kg' } }, { measuredAt: new Date('2025-03-03T07:00:00.000Z') })).thenThrows('MEASUREMENT_ALREADY_EXISTS', 'measurementId');
  });

  it('refuses a command for another measurement than the stream holds', () => {
    spec.given([weighed]).when(record({ metric: 'body_fat', bodyFatPercent: 20 }, { measurementId: OTHER })).thenThrows('MEASUREMENT_ID_MISMATCH', 'measurementId');
  });
});

describe('correcting and deleting', () => {
  it('corrects the values, keeping when it was measured unless told otherwise', () => {
    spec.given([weighed]).when(cmd('CorrectBodyMeasurement', { measurementId: M, measurement: { metric: 'weight', weight: { value: 79.9, unit: 'kg' } }, reason: 'typo' })).then([
      { type: 'BodyMeasurementCorrected', data: { metric: 'weight', entered: { value: 79.9, unit: 'kg' }, weightKg: 79.9, measurementId: M, measuredAt: '2025-03-03T07:00:00.000Z', reason: 'typo' } },
    ]);
    spec.given([weighed]).when(cmd('CorrectBodyMeasurement', { measurementId: M, measurement: { metric: 'weight', weight: { value: 80.5, unit: 'kg' } } })).thenNothingHappens();
  });

  it('refuses to change the metric of a measurement', () => {
    spec.given([weighed]).when(cmd('CorrectBodyMeasurement', { measurementId: M, measurement: { metric: 'body_fat', bodyFatPercent: 20 } })).thenThrows('VALIDATION_FAILED', 'measurement.metric');
  });

  it('deletes once; a second delete changes nothing; a deleted measurement can be neither corrected nor re-recorded', () => {
    const deleted: BodyMeasurementEvent = { type: 'BodyMeasurementDeleted', data: { measurementId: M, reason: 'wrong person' } };
    spec.given([weighed]).when(cmd('DeleteBodyMeasurement', { measurementId: M, reason: 'wrong person' })).then([deleted]);
    spec.given([weighed, deleted]).when(cmd('DeleteBodyMeasurement', { measurementId: M })).thenNothingHappens();
    spec.given([weighed, deleted]).when(cmd('CorrectBodyMeasurement', { measurementId: M, measurement: { metric: 'weight', weight: { value: 80, unit: 'kg' } } })).thenThrows('MEASUREMENT_DELETED', 'measurementId');
    spec.given([weighed, deleted]).when(record({ metric: 'weight', weight: { value: 80.5, unit: 'kg' } })).thenThrows('MEASUREMENT_DELETED', 'measurementId');
    spec.given([]).when(cmd('DeleteBodyMeasurement', { measurementId: M })).thenThrows('MEASUREMENT_NOT_FOUND', 'measurementId');
  });
});

describe('unit conversions of body measurements', () => {
  it('round-trips entered lb, in and fl oz through the canonical value (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 1_000, noNaN: true }), (value) => {
        expect(kgToLb(81.6466266 * (value / 180)) * (180 / value)).toBeCloseTo(180, 9);
        expect(lengthToMetres(value, 'in') / 0.0254).toBeCloseTo(value, 9);
        expect(lengthToMetres(value, 'cm') * 100).toBeCloseTo(value, 9);
        expect(volumeToLitres(value, 'fl_oz') / 0.0295735295625).toBeCloseTo(value, 9);
        expect(volumeToLitres(value, 'ml') * 1000).toBeCloseTo(value, 9);
      }),
    );
  });

  it('gives one number per measurement for series', () => {
    expect(canonicalValue(weighed.data as never)).toBe(80.5);
    expect(canonicalValue({ metric: 'blood_pressure', systolicMmHg: 120, diastolicMmHg: 80 })).toBe(120);
  });
});
