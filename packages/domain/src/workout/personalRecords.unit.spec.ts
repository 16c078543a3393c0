import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WorkoutEvent } from './events';
import { brzyckiOneRepMax, epleyOneRepMax, personalRecords, type PersonalRecordSet } from './personalRecords';
import { evolve, initialState } from './workout';

const SQUAT = '0189c0de-1111-7222-8333-444455556666';
const BENCH = '0189c0de-2222-7222-8333-444455556666';
const W = '0190f3a2-7c1e-7a3b-8c4d-5e6f7a8b9c0d';
const id = (n: number): string => `0190f3a2-8d2f-7b4c-9d5e-${String(n).padStart(12, '0')}`;
const set = (n: number, loadKg: number, reps: number, extra: Partial<PersonalRecordSet> = {}): PersonalRecordSet => ({
  setId: id(n),
  exerciseId: SQUAT,
  loadKg,
  reps,
  warmUp: false,
  ...extra,
});

describe('one-rep-max estimates', () => {
  it('applies Epley w·(1 + r/30), a single being its own 1RM', () => {
    expect(epleyOneRepMax(100, 10)).toBeCloseTo(133.333, 3);
    expect(epleyOneRepMax(100, 1)).toBe(100);
  });

  it('applies Brzycki w·36/(37 − r) for fewer than 37 reps only', () => {
    expect(brzyckiOneRepMax(100, 10)).toBeCloseTo(133.333, 3);
    expect(brzyckiOneRepMax(100, 1)).toBe(100);
    expect(brzyckiOneRepMax(100, 36)).toBe(3600);
    expect(brzyckiOneRepMax(100, 37)).toBeUndefined();
  });
});

describe('personal records', () => {
  it('takes the heaviest load done for at least 1, 3, 5 and 10 reps', () => {
    const records = personalRecords([set(1, 140, 1), set(2, 120, 3), set(3, 125, 4), set(4, 110, 5), set(5, 90, 12)]);
    expect(records[SQUAT]?.repMax).toEqual({
      1: { setId: id(1), loadKg: 140, reps: 1 },
      3: { setId: id(3), loadKg: 125, reps: 4 },
      5: { setId: id(4), loadKg: 110, reps: 5 },
      10: { setId: id(5), loadKg: 90, reps: 12 },
    });
  });

  it('keeps the earlier set when two sets tie', () => {
    expect(personalRecords([set(1, 100, 5), set(2, 100, 5)])[SQUAT]?.repMax[5]?.setId).toBe(id(1));
  });

  it('estimates the 1RM with Epley and Brzycki from the best set for each', () => {
    // 80 × 40 wins Epley but has no Brzycki estimate (r ≥ 37); 100 × 10 beats 120 × 3 under Brzycki.
    const records = personalRecords([set(1, 100, 10), set(2, 120, 3), set(3, 80, 40)]);
    expect(records[SQUAT]?.estimatedOneRepMax.epley).toEqual({ setId: id(3), loadKg: 80, reps: 40, estimatedKg: 80 * (1 + 40 / 30) });
    expect(records[SQUAT]?.estimatedOneRepMax.brzycki).toEqual({ setId: id(1), loadKg: 100, reps: 10, estimatedKg: 3600 / 27 });
  });

  it('finds the best set volume (load × reps)', () => {
    expect(personalRecords([set(1, 100, 5), set(2, 60, 10), set(3, 140, 1)])[SQUAT]?.bestSetVolume).toEqual({
      setId: id(2),
      loadKg: 60,
      reps: 10,
      volumeKg: 600,
    });
  });

  it('ignores warm-up sets and sets without a positive load or reps', () => {
    const records = personalRecords([set(1, 200, 1, { warmUp: true }), set(2, 0, 10), { setId: id(3), exerciseId: SQUAT, reps: 5, warmUp: false }]);
    expect(records).toEqual({});
  });

  it('keeps records per exercise', () => {
    const records = personalRecords([set(1, 100, 5), set(2, 80, 5, { exerciseId: BENCH })]);
    expect(Object.keys(records).sort()).toEqual([SQUAT, BENCH].sort());
    expect(records[BENCH]?.repMax[5]?.loadKg).toBe(80);
  });

  it('never reports an n-rep max lighter than a heavier (n+k)-rep max', () => {
    const sets = fc.array(fc.record({ loadKg: fc.integer({ min: 1, max: 300 }), reps: fc.integer({ min: 1, max: 20 }) }), { maxLength: 30 });
    fc.assert(
      fc.property(sets, (raw) => {
        const repMax = personalRecords(raw.map((s, i) => set(i, s.loadKg, s.reps)))[SQUAT]?.repMax ?? {};
        const loads = [repMax[1], repMax[3], repMax[5], repMax[10]].map((r) => r?.loadKg ?? 0);
        for (let i = 1; i < loads.length; i++) expect(loads[i - 1]).toBeGreaterThanOrEqual(loads[i] ?? 0);
      }),
    );
  });
});

describe('personal records from a workout history', () => {
  const logged = (n: number, loadKg: number, reps: number): WorkoutEvent => ({
    type: 'SetLogged',
    data: { workoutId: W, setId: id(n), occurredAt: '2025-03-03T07:20:00.000Z', exerciseId: SQUAT, reps, load: { value: loadKg, unit: 'kg' }, loadKg, warmUp: false, toFailure: false },
  });
  const history: WorkoutEvent[] = [
    { type: 'WorkoutStarted', data: { workoutId: W, startedAt: '2025-03-03T07:00:00.000Z' } },
    logged(1, 100, 5),
    logged(2, 150, 1),
    logged(3, 80, 10),
  ];
  const recordsAfter = (events: WorkoutEvent[]) => personalRecords(events.reduce(evolve, initialState()).sets)[SQUAT];

  it('recomputes records after a set is corrected', () => {
    expect(recordsAfter(history)?.repMax[1]?.loadKg).toBe(150);
    expect(recordsAfter(history)?.estimatedOneRepMax.epley?.setId).toBe(id(2));
    const corrected = recordsAfter([
      ...history,
      { type: 'SetCorrected', data: { workoutId: W, setId: id(2), exerciseId: SQUAT, reps: 1, load: { value: 105, unit: 'kg' }, loadKg: 105, warmUp: false, toFailure: false } },
    ]);
    expect(corrected?.repMax[1]).toEqual({ setId: id(2), loadKg: 105, reps: 1 });
    expect(corrected?.estimatedOneRepMax.epley).toEqual({ setId: id(1), loadKg: 100, reps: 5, estimatedKg: 100 * (1 + 5 / 30) });
  });

  it('recomputes records after a set is corrected into a warm-up', () => {
    const corrected = recordsAfter([
      ...history,
      { type: 'SetCorrected', data: { workoutId: W, setId: id(2), exerciseId: SQUAT, reps: 1, load: { value: 150, unit: 'kg' }, loadKg: 150, warmUp: true, toFailure: false } },
    ]);
    expect(corrected?.repMax[1]).toEqual({ setId: id(1), loadKg: 100, reps: 5 });
  });

  it('recomputes records after a set is deleted', () => {
    const afterDeletion = recordsAfter([...history, { type: 'SetDeleted', data: { workoutId: W, setId: id(3) } }]);
    expect(afterDeletion?.repMax[10]).toBeUndefined();
    expect(afterDeletion?.bestSetVolume).toEqual({ setId: id(1), loadKg: 100, reps: 5, volumeKg: 500 });
  });
});
