import { IMPERIAL_UNITS, METRIC_UNITS } from '@fitledger/domain';
import { describe, expect, it } from 'vitest';
import { bodyMeasurement, type BodyMeasurementRowLike } from './bodyMeasurementRepresentation';
import { displayEtag } from './unitPreferences';
import { personalRecord, workoutSet } from './workoutRepresentation';

const weightRow: BodyMeasurementRowLike = {
  measurement_id: '0190f3a2-7c1e-7a3b-8c4d-5e6f7a8b9c0d',
  metric: 'weight',
  site: null,
  value_si: '81.6466266',
  entered_value: 180,
  entered_unit: 'lb',
  systolic_mmhg: null,
  diastolic_mmhg: null,
  measured_at: '2025-03-03T07:00:00.000Z',
  note: null,
  revision: '0',
};

describe('display units in representations', () => {
  it('shows a body weight in the preferred unit beside the canonical and entered values', () => {
    expect(bodyMeasurement(weightRow, IMPERIAL_UNITS)).toMatchObject({ value: 81.6466266, unit: 'kg', entered: { value: 180, unit: 'lb' }, display: { unit: 'lb' } });
    expect(bodyMeasurement(weightRow, IMPERIAL_UNITS).display?.value).toBeCloseTo(180, 9);
    expect(bodyMeasurement(weightRow, METRIC_UNITS).display).toEqual({ value: 81.6466266, unit: 'kg' });
    expect(bodyMeasurement({ ...weightRow, metric: 'body_fat', value_si: 18, entered_value: null, entered_unit: null }, IMPERIAL_UNITS).display).toBeNull();
  });

  it('leaves feed payloads (no preferences) exactly as before: no display field', () => {
    expect(Object.keys(bodyMeasurement(weightRow))).not.toContain('display');
    expect(Object.keys(workoutSet({ set_id: 's', ordinal: 0, exercise_id: 'e', load_kg: '100' }))).not.toContain('display');
    expect(Object.keys(personalRecord({ exercise_id: 'e', one_rm_kg: '100', three_rm_kg: null, five_rm_kg: null, ten_rm_kg: null, epley_kg: null, brzycki_kg: null, best_volume_kg: null }))).not.toContain('display');
  });

  it('shows set loads and distances in the preferred units', () => {
    const set = workoutSet({ set_id: 's', ordinal: 0, exercise_id: 'e', load_kg: '100', load_value: '100', load_unit: 'kg', distance_m: '1609.344' }, IMPERIAL_UNITS);
    expect(set.display?.load?.unit).toBe('lb');
    expect(set.display?.load?.value).toBeCloseTo(220.462262185, 8);
    expect(set.display?.distance).toEqual({ value: 1, unit: 'mi' });
    expect(workoutSet({ set_id: 's', ordinal: 0, exercise_id: 'e', load_kg: null }, METRIC_UNITS).display).toEqual({ load: null, distance: null });
  });

  it('tags metric representations with the bare revision and others with their units too', () => {
    expect(displayEtag('3', METRIC_UNITS)).toBe('"3"');
    expect(displayEtag(3, IMPERIAL_UNITS)).toBe('"3-lb.in.mi.fl_oz"');
    expect(displayEtag(3, { ...METRIC_UNITS, mass: 'lb' })).toBe('"3-lb.cm.km.ml"');
  });
});
