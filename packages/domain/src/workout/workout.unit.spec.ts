import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../../test/deciderSpecification';
import { DomainError } from '../errors';
import type { CommandMetadata } from '../events/envelope';
import { eventRegistry } from '../events/registry';
import type { SetInput, WorkoutCommand } from './commands';
import type { SetLoggedData, SetValues, WorkoutEvent } from './events';
import { decide, evolve, initialState, workoutDecider, workoutStreamId } from './workout';

const W = '0190f3a2-7c1e-7a3b-8c4d-5e6f7a8b9c0d';
const W2 = '0190f3a3-0000-7000-8000-000000000002';
const S1 = '0190f3a2-8d2f-7b4c-9d5e-000000000001';
const S2 = '0190f3a2-8d2f-7b4c-9d5e-000000000002';
const S3 = '0190f3a2-8d2f-7b4c-9d5e-000000000003';
const SQUAT = '0189c0de-1111-7222-8333-444455556666';
const PLANK = '0189c0de-aaaa-7bbb-8ccc-dddd0000eeee';

const NOW = new Date('2025-03-03T08:00:00.000Z');
const meta = (now: Date = NOW): CommandMetadata => ({
  now,
  actor: { sub: 'u-1', role: 'client' },
  tenantId: 't-1',
  subjectId: 's-1',
  commandId: 'c-1',
  correlationId: 'r-1',
});
const cmd = <C extends WorkoutCommand>(type: C['type'], data: C['data'], now: Date = NOW): C => ({ type, data, metadata: meta(now) }) as C;

const planned: WorkoutEvent = {
  type: 'WorkoutPlanned',
  data: { workoutId: W, title: 'Lower body A', plannedFor: '2025-03-03T07:00:00.000Z', plannedSets: [] },
};
const started: WorkoutEvent = { type: 'WorkoutStarted', data: { workoutId: W, startedAt: '2025-03-03T07:05:00.000Z' } };
const squat = (setId: string, loadKg: number, reps: number, extra: Partial<SetLoggedData> = {}): WorkoutEvent => ({
  type: 'SetLogged',
  data: {
    workoutId: W,
    setId,
    occurredAt: '2025-03-03T07:20:00.000Z',
    exerciseId: SQUAT,
    reps,
    load: { value: loadKg, unit: 'kg' },
    loadKg,
    warmUp: false,
    toFailure: false,
    ...extra,
  },
});
const completed: WorkoutEvent = { type: 'WorkoutCompleted', data: { workoutId: W, completedAt: '2025-03-03T07:55:00.000Z' } };
const cancelled: WorkoutEvent = { type: 'WorkoutCancelled', data: { workoutId: W, cancelledAt: '2025-03-03T06:00:00.000Z' } };

const spec = deciderSpecification(workoutDecider);
const inProgress = [planned, started];
const logSet = (set: SetInput, setId = S1, occurredAt?: Date) => cmd('LogSet', { workoutId: W, setId, set, ...(occurredAt ? { occurredAt } : {}) });

describe('planning', () => {
  it('plans a workout with its target sets in entered and canonical units', () => {
    spec
      .given([])
      .when(
        cmd('PlanWorkout', {
          workoutId: W,
          title: 'Lower body A',
          plannedFor: new Date('2025-03-10T07:00:00Z'),
          location: { lat: 52.52, lon: 13.405 },
          plannedSets: [{ exerciseId: SQUAT, reps: 5, load: { value: 225, unit: 'lb' } }],
        }),
      )
      .then([
        {
          type: 'WorkoutPlanned',
          data: {
            workoutId: W,
            title: 'Lower body A',
            plannedFor: '2025-03-10T07:00:00.000Z',
            location: { lat: 52.52, lon: 13.405 },
            plannedSets: [{ exerciseId: SQUAT, reps: 5, load: { value: 225, unit: 'lb' }, loadKg: 102.05828325, warmUp: false, toFailure: false }],
          },
        },
      ]);
  });

  it('rejects planning a workout that already exists', () => {
    spec.given([planned]).when(cmd('PlanWorkout', { workoutId: W, title: 'Again', plannedFor: NOW })).thenThrows('WORKOUT_ALREADY_EXISTS', 'workoutId');
  });

  it('rejects an empty title', () => {
    spec.given([]).when(cmd('PlanWorkout', { workoutId: W, title: '', plannedFor: NOW })).thenThrows('VALIDATION_FAILED', 'title');
  });

  it.each([
    [{ lat: 91, lon: 0 }, 'location.lat'],
    [{ lat: -90.5, lon: 0 }, 'location.lat'],
    [{ lat: 0, lon: 180.01 }, 'location.lon'],
    [{ lat: 0, lon: Number.NaN }, 'location.lon'],
  ])('rejects GPS coordinates out of range (%j → %s)', (location, field) => {
    spec.given([]).when(cmd('PlanWorkout', { workoutId: W, title: 'x', plannedFor: NOW, location })).thenThrows('VALIDATION_FAILED', field);
  });

  it('names the planned set that breaks a rule', () => {
    spec
      .given([])
      .when(cmd('PlanWorkout', { workoutId: W, title: 'x', plannedFor: NOW, plannedSets: [{ exerciseId: SQUAT, reps: 5 }, { exerciseId: SQUAT, reps: 0 }] }))
      .thenThrows('VALIDATION_FAILED', 'plannedSets[1].reps');
  });
});

describe('starting', () => {
  it('starts a planned workout at the time the command gives', () => {
    spec
      .given([planned])
      .when(cmd('StartWorkout', { workoutId: W, startedAt: new Date('2025-03-03T07:05:00Z') }))
      .then([started]);
  });

  it('starts an unplanned workout, at the command time when no start time is given', () => {
    spec
      .given([])
      .when(cmd('StartWorkout', { workoutId: W, title: 'Quick run' }))
      .then([{ type: 'WorkoutStarted', data: { workoutId: W, startedAt: NOW.toISOString(), title: 'Quick run' } }]);
  });

  it('rejects starting a workout already in progress', () => {
    spec.given(inProgress).when(cmd('StartWorkout', { workoutId: W })).thenThrows('WORKOUT_ALREADY_STARTED');
  });

  it('rejects starting a completed workout', () => {
    spec.given([...inProgress, completed]).when(cmd('StartWorkout', { workoutId: W })).thenThrows('WORKOUT_ALREADY_COMPLETED');
  });

  it('rejects starting a cancelled workout', () => {
    spec.given([planned, cancelled]).when(cmd('StartWorkout', { workoutId: W })).thenThrows('WORKOUT_CANCELLED');
  });

  it('rejects a start time in the future beyond clock skew', () => {
    spec
      .given([planned])
      .when(cmd('StartWorkout', { workoutId: W, startedAt: new Date(NOW.getTime() + 6 * 60_000) }))
      .thenThrows('VALIDATION_FAILED', 'startedAt');
  });

  it('rejects a command addressed to another workout than the stream', () => {
    spec.given([planned]).when(cmd('StartWorkout', { workoutId: W2 })).thenThrows('WORKOUT_ID_MISMATCH', 'workoutId');
  });
});

describe('logging sets', () => {
  it('logs a set with the load as entered plus canonical kilograms', () => {
    spec
      .given(inProgress)
      .when(
        logSet(
          {
            exerciseId: SQUAT,
            reps: 5,
            load: { value: 225, unit: 'lb' },
            rpe: 8.5,
            heartRateBpm: 142,
            toFailure: true,
            supersetGroup: 'A',
            restBeforeS: 180,
            notes: 'Belt on',
            customFields: { tempo: '3-1-1-0', bandTensionKg: 10 },
          },
          S1,
          new Date('2025-03-03T07:20:00Z'),
        ),
      )
      .then([
        {
          type: 'SetLogged',
          data: {
            workoutId: W,
            setId: S1,
            occurredAt: '2025-03-03T07:20:00.000Z',
            exerciseId: SQUAT,
            reps: 5,
            load: { value: 225, unit: 'lb' },
            loadKg: 102.05828325,
            rpe: 8.5,
            heartRateBpm: 142,
            warmUp: false,
            toFailure: true,
            supersetGroup: 'A',
            restBeforeS: 180,
            notes: 'Belt on',
            customFields: { tempo: '3-1-1-0', bandTensionKg: 10 },
          },
        },
      ]);
  });

  it('logs a timed set without reps, with distance converted to metres', () => {
    spec
      .given(inProgress)
      .when(logSet({ exerciseId: PLANK, durationS: 60, distance: { value: 1, unit: 'mi' } }))
      .then([
        {
          type: 'SetLogged',
          data: {
            workoutId: W,
            setId: S1,
            occurredAt: NOW.toISOString(),
            exerciseId: PLANK,
            durationS: 60,
            distance: { value: 1, unit: 'mi' },
            distanceM: 1609.344,
            warmUp: false,
            toFailure: false,
          },
        },
      ]);
  });

  it('rejects a set logged after the workout was completed', () => {
    spec.given([...inProgress, completed]).when(logSet({ exerciseId: SQUAT, reps: 5 })).thenThrows('SET_AFTER_COMPLETION');
  });

  it('rejects a set logged before the workout was started', () => {
    spec.given([planned]).when(logSet({ exerciseId: SQUAT, reps: 5 })).thenThrows('WORKOUT_NOT_STARTED');
  });

  it('rejects a set for a workout that does not exist', () => {
    spec.given([]).when(logSet({ exerciseId: SQUAT, reps: 5 })).thenThrows('WORKOUT_NOT_FOUND', 'workoutId');
  });

  it('rejects a set for a cancelled workout', () => {
    spec.given([planned, started, cancelled]).when(logSet({ exerciseId: SQUAT, reps: 5 })).thenThrows('WORKOUT_CANCELLED');
  });

  it('treats a retried LogSet with the same set id and values as a no-op', () => {
    spec
      .given([...inProgress, squat(S1, 100, 5)])
      .when(logSet({ exerciseId: SQUAT, reps: 5, load: { value: 100, unit: 'kg' } }))
      .thenNothingHappens();
  });

  it('rejects reusing a set id for different values', () => {
    spec
      .given([...inProgress, squat(S1, 100, 5)])
      .when(logSet({ exerciseId: SQUAT, reps: 6, load: { value: 100, unit: 'kg' } }))
      .thenThrows('SET_ALREADY_EXISTS', 'setId');
  });

  it('rejects reusing the id of a deleted set', () => {
    spec
      .given([...inProgress, squat(S1, 100, 5), { type: 'SetDeleted', data: { workoutId: W, setId: S1 } }])
      .when(logSet({ exerciseId: SQUAT, reps: 5, load: { value: 100, unit: 'kg' } }))
      .thenThrows('SET_ALREADY_EXISTS', 'setId');
  });

  it('rejects a set that occurred before the workout started', () => {
    spec
      .given(inProgress)
      .when(logSet({ exerciseId: SQUAT, reps: 5 }, S1, new Date('2025-03-03T07:00:00Z')))
      .thenThrows('VALIDATION_FAILED', 'occurredAt');
  });

  it('rejects a set that occurred in the future', () => {
    spec
      .given(inProgress)
      .when(logSet({ exerciseId: SQUAT, reps: 5 }, S1, new Date('2025-03-04T07:00:00Z')))
      .thenThrows('VALIDATION_FAILED', 'occurredAt');
  });

  it.each<[string, SetInput, string]>([
    ['a load above 1000 kg after converting pounds', { exerciseId: SQUAT, reps: 1, load: { value: 2205, unit: 'lb' } }, 'loadKg'],
    ['a load above 1000 kg', { exerciseId: SQUAT, reps: 1, load: { value: 1000.5, unit: 'kg' } }, 'loadKg'],
    ['a negative load', { exerciseId: SQUAT, reps: 1, load: { value: -5, unit: 'kg' } }, 'load.value'],
    ['an unknown load unit', { exerciseId: SQUAT, reps: 1, load: { value: 5, unit: 'st' as 'kg' } }, 'load.unit'],
    ['zero reps', { exerciseId: SQUAT, reps: 0 }, 'reps'],
    ['1000 reps', { exerciseId: SQUAT, reps: 1000 }, 'reps'],
    ['fractional reps', { exerciseId: SQUAT, reps: 2.5 }, 'reps'],
    ['a duration above 24 h', { exerciseId: PLANK, durationS: 86_401 }, 'durationS'],
    ['RPE 0', { exerciseId: SQUAT, reps: 1, rpe: 0 }, 'rpe'],
    ['RPE 11', { exerciseId: SQUAT, reps: 1, rpe: 11 }, 'rpe'],
    ['RPE off the half-point scale', { exerciseId: SQUAT, reps: 1, rpe: 7.3 }, 'rpe'],
    ['a heart rate of 300 bpm', { exerciseId: SQUAT, reps: 1, heartRateBpm: 300 }, 'heartRateBpm'],
    ['notes over 2,000 characters', { exerciseId: SQUAT, reps: 1, notes: 'x'.repeat(2001) }, 'notes'],
    ['a negative rest', { exerciseId: SQUAT, reps: 1, restBeforeS: -1 }, 'restBeforeS'],
    ['more than 20 custom fields', { exerciseId: SQUAT, reps: 1, customFields: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, i])) }, 'customFields'],
    ['a custom field key that is not an identifier', { exerciseId: SQUAT, reps: 1, customFields: { 'my note': 'x' } }, 'customFields.my note'],
    ['a custom field value that is not a string or number', { exerciseId: SQUAT, reps: 1, customFields: { ok: true as unknown as number } }, 'customFields.ok'],
    ['a set with neither reps, duration nor distance', { exerciseId: SQUAT, load: { value: 50, unit: 'kg' } }, 'reps'],
    ['an exercise id that is not an opaque id', { exerciseId: 'Knee rehab after ACL surgery', reps: 5 }, 'exerciseId'],
  ])('rejects %s, naming the field', (_rule, set, field) => {
    spec.given(inProgress).when(logSet(set)).thenThrows('VALIDATION_FAILED', field);
  });

  it('rejects a set id that is not a UUID', () => {
    spec.given(inProgress).when(logSet({ exerciseId: SQUAT, reps: 1 }, 'set-1')).thenThrows('VALIDATION_FAILED', 'setId');
  });

  it('accepts the boundary values of every range', () => {
    const events = decide(
      logSet({ exerciseId: SQUAT, reps: 999, load: { value: 1000, unit: 'kg' }, durationS: 86_400, rpe: 10, notes: '💪'.repeat(2000), heartRateBpm: 250 }),
      inProgress.reduce(evolve, initialState()),
    );
    expect(events).toHaveLength(1);
    expect(() => decide(logSet({ exerciseId: SQUAT, reps: 1, load: { value: 0, unit: 'kg' }, rpe: 1 }), inProgress.reduce(evolve, initialState()))).not.toThrow();
  });

  it('reports every invalid field at once', () => {
    const error = spec.given(inProgress).when(logSet({ exerciseId: SQUAT, reps: 0, rpe: 12 })).thenThrows('VALIDATION_FAILED', 'reps');
    expect(error.issues.map((i) => i.field)).toEqual(['reps', 'rpe']);
  });
});

describe('correcting and deleting sets', () => {
  it('replaces every value of a set and keeps when it occurred', () => {
    const given = [...inProgress, squat(S1, 100, 5)];
    spec
      .given(given)
      .when(cmd('CorrectSet', { workoutId: W, setId: S1, set: { exerciseId: SQUAT, reps: 3, load: { value: 110, unit: 'kg' } }, reason: 'typo' }))
      .then([
        {
          type: 'SetCorrected',
          data: { workoutId: W, setId: S1, reason: 'typo', exerciseId: SQUAT, reps: 3, load: { value: 110, unit: 'kg' }, loadKg: 110, warmUp: false, toFailure: false },
        },
      ]);
    const state = [...given, { type: 'SetCorrected', data: { workoutId: W, setId: S1, exerciseId: SQUAT, reps: 3, warmUp: false, toFailure: false } } as WorkoutEvent].reduce(
      evolve,
      initialState(),
    );
    expect(state.sets).toEqual([{ setId: S1, occurredAt: '2025-03-03T07:20:00.000Z', exerciseId: SQUAT, reps: 3, warmUp: false, toFailure: false }]);
  });

  it('allows correcting a set after the workout was completed', () => {
    spec
      .given([...inProgress, squat(S1, 100, 5), completed])
      .when(cmd('CorrectSet', { workoutId: W, setId: S1, set: { exerciseId: SQUAT, reps: 4, load: { value: 100, unit: 'kg' } } }))
      .then([
        {
          type: 'SetCorrected',
          data: { workoutId: W, setId: S1, exerciseId: SQUAT, reps: 4, load: { value: 100, unit: 'kg' }, loadKg: 100, warmUp: false, toFailure: false },
        },
      ]);
  });

  it('treats a correction that changes nothing as a no-op', () => {
    spec
      .given([...inProgress, squat(S1, 100, 5)])
      .when(cmd('CorrectSet', { workoutId: W, setId: S1, set: { exerciseId: SQUAT, reps: 5, load: { value: 100, unit: 'kg' } } }))
      .thenNothingHappens();
  });

  it('rejects correcting a set that does not exist', () => {
    spec
      .given([...inProgress, squat(S1, 100, 5)])
      .when(cmd('CorrectSet', { workoutId: W, setId: S2, set: { exerciseId: SQUAT, reps: 5 } }))
      .thenThrows('SET_NOT_FOUND', 'setId');
  });

  it('rejects a correction that breaks a value rule, naming the field', () => {
    spec
      .given([...inProgress, squat(S1, 100, 5)])
      .when(cmd('CorrectSet', { workoutId: W, setId: S1, set: { exerciseId: SQUAT, reps: 5, load: { value: 1200, unit: 'kg' } } }))
      .thenThrows('VALIDATION_FAILED', 'loadKg');
  });

  it('rejects correcting a set of a cancelled workout', () => {
    spec
      .given([...inProgress, squat(S1, 100, 5), cancelled])
      .when(cmd('CorrectSet', { workoutId: W, setId: S1, set: { exerciseId: SQUAT, reps: 5 } }))
      .thenThrows('WORKOUT_CANCELLED');
  });

  it('deletes a set', () => {
    spec
      .given([...inProgress, squat(S1, 100, 5)])
      .when(cmd('DeleteSet', { workoutId: W, setId: S1, reason: 'logged twice' }))
      .then([{ type: 'SetDeleted', data: { workoutId: W, setId: S1, reason: 'logged twice' } }]);
  });

  it('treats deleting an already deleted set as a no-op', () => {
    spec
      .given([...inProgress, squat(S1, 100, 5), { type: 'SetDeleted', data: { workoutId: W, setId: S1 } }])
      .when(cmd('DeleteSet', { workoutId: W, setId: S1 }))
      .thenNothingHappens();
  });

  it('rejects deleting a set that does not exist', () => {
    spec.given(inProgress).when(cmd('DeleteSet', { workoutId: W, setId: S3 })).thenThrows('SET_NOT_FOUND', 'setId');
  });

  it('rejects editing sets of a workout that was never started', () => {
    spec.given([planned]).when(cmd('DeleteSet', { workoutId: W, setId: S1 })).thenThrows('WORKOUT_NOT_STARTED');
  });
});

describe('completing and cancelling', () => {
  it('completes a workout with session RPE and notes', () => {
    spec
      .given(inProgress)
      .when(cmd('CompleteWorkout', { workoutId: W, completedAt: new Date('2025-03-03T07:55:00Z'), perceivedExertion: 7, energyKcal: 380, notes: 'good' }))
      .then([{ type: 'WorkoutCompleted', data: { workoutId: W, completedAt: '2025-03-03T07:55:00.000Z', perceivedExertion: 7, energyKcal: 380, notes: 'good' } }]);
  });

  it('rejects completing a workout that was never started', () => {
    spec.given([planned]).when(cmd('CompleteWorkout', { workoutId: W })).thenThrows('WORKOUT_NOT_STARTED');
  });

  it('rejects completing a workout twice', () => {
    spec.given([...inProgress, completed]).when(cmd('CompleteWorkout', { workoutId: W })).thenThrows('WORKOUT_ALREADY_COMPLETED');
  });

  it('rejects completing a cancelled workout', () => {
    spec.given([...inProgress, cancelled]).when(cmd('CompleteWorkout', { workoutId: W })).thenThrows('WORKOUT_CANCELLED');
  });

  it('rejects a completion time before the start', () => {
    spec
      .given(inProgress)
      .when(cmd('CompleteWorkout', { workoutId: W, completedAt: new Date('2025-03-03T07:00:00Z') }))
      .thenThrows('VALIDATION_FAILED', 'completedAt');
  });

  it('rejects a session RPE outside 1–10', () => {
    spec.given(inProgress).when(cmd('CompleteWorkout', { workoutId: W, perceivedExertion: 11 })).thenThrows('VALIDATION_FAILED', 'perceivedExertion');
    spec.given(inProgress).when(cmd('CompleteWorkout', { workoutId: W, energyKcal: -1 })).thenThrows('VALIDATION_FAILED', 'energyKcal');
    spec.given(inProgress).when(cmd('CompleteWorkout', { workoutId: W, energyKcal: 20_001 })).thenThrows('VALIDATION_FAILED', 'energyKcal');
  });

  it('cancels a planned or running workout', () => {
    const event = { type: 'WorkoutCancelled', data: { workoutId: W, cancelledAt: NOW.toISOString(), reason: 'ill' } };
    spec.given([planned]).when(cmd('CancelWorkout', { workoutId: W, reason: 'ill' })).then([event as WorkoutEvent]);
    spec.given(inProgress).when(cmd('CancelWorkout', { workoutId: W, reason: 'ill' })).then([event as WorkoutEvent]);
  });

  it('rejects cancelling a completed workout', () => {
    spec.given([...inProgress, completed]).when(cmd('CancelWorkout', { workoutId: W })).thenThrows('WORKOUT_ALREADY_COMPLETED');
  });

  it('rejects cancelling a workout twice', () => {
    spec.given([planned, cancelled]).when(cmd('CancelWorkout', { workoutId: W })).thenThrows('WORKOUT_CANCELLED');
  });

  it('rejects cancelling a workout that does not exist', () => {
    spec.given([]).when(cmd('CancelWorkout', { workoutId: W })).thenThrows('WORKOUT_NOT_FOUND', 'workoutId');
  });
});

describe('cloning', () => {
  const done = [
    ...inProgress,
    squat(S1, 100, 5, { heartRateBpm: 150, notes: 'heavy' }),
    squat(S2, 60, 8),
    { type: 'SetDeleted', data: { workoutId: W, setId: S2 } } as WorkoutEvent,
    completed,
  ];
  const source = done.reduce(evolve, initialState());

  it('plans a new workout whose targets are the current sets of the source, without heart rate', () => {
    spec
      .given([])
      .when(cmd('CloneWorkout', { workoutId: W2, sourceWorkoutId: W, source, plannedFor: new Date('2025-03-10T07:00:00Z') }))
      .then([
        {
          type: 'WorkoutCloned',
          data: {
            workoutId: W2,
            sourceWorkoutId: W,
            title: 'Lower body A',
            plannedFor: '2025-03-10T07:00:00.000Z',
            plannedSets: [{ exerciseId: SQUAT, reps: 5, load: { value: 100, unit: 'kg' }, loadKg: 100, warmUp: false, toFailure: false, notes: 'heavy' }],
          },
        },
      ]);
  });

  it('copies the plan of a workout that was never done', () => {
    const plan: SetValues = { exerciseId: SQUAT, reps: 5, warmUp: false, toFailure: false };
    const source2 = [{ ...planned, data: { ...planned.data, plannedSets: [plan] } } as WorkoutEvent].reduce(evolve, initialState());
    const [event] = decide(cmd('CloneWorkout', { workoutId: W2, sourceWorkoutId: W, source: source2, title: 'Copy' }), initialState());
    expect(event).toEqual({ type: 'WorkoutCloned', data: { workoutId: W2, sourceWorkoutId: W, title: 'Copy', plannedSets: [plan] } });
    expect(evolve(initialState(), event as WorkoutEvent)).toMatchObject({ status: 'planned', sourceWorkoutId: W, plannedSets: [plan] });
  });

  it('rejects cloning into a workout that already exists', () => {
    spec.given([planned]).when(cmd('CloneWorkout', { workoutId: W, sourceWorkoutId: W, source })).thenThrows('WORKOUT_ALREADY_EXISTS', 'workoutId');
  });

  it('rejects cloning a workout that does not exist', () => {
    spec
      .given([])
      .when(cmd('CloneWorkout', { workoutId: W2, sourceWorkoutId: W, source: initialState() }))
      .thenThrows('SOURCE_WORKOUT_NOT_FOUND', 'sourceWorkoutId');
  });

  it('rejects a source state that belongs to another workout', () => {
    spec.given([]).when(cmd('CloneWorkout', { workoutId: W2, sourceWorkoutId: S3, source })).thenThrows('WORKOUT_ID_MISMATCH', 'sourceWorkoutId');
  });
});

describe('evolve', () => {
  it('folds a workout history into its current state', () => {
    const state = [
      planned,
      started,
      squat(S1, 100, 5),
      squat(S2, 105, 3),
      { type: 'SetCorrected', data: { workoutId: W, setId: S1, exerciseId: SQUAT, reps: 6, load: { value: 100, unit: 'kg' }, loadKg: 100, warmUp: false, toFailure: false } },
      { type: 'SetDeleted', data: { workoutId: W, setId: S2 } },
      { type: 'WorkoutCompleted', data: { workoutId: W, completedAt: '2025-03-03T07:55:00.000Z', perceivedExertion: 7 } },
    ].reduce((s, e) => evolve(s, e as WorkoutEvent), initialState());
    expect(state).toEqual({
      status: 'completed',
      workoutId: W,
      title: 'Lower body A',
      plannedFor: '2025-03-03T07:00:00.000Z',
      startedAt: '2025-03-03T07:05:00.000Z',
      completedAt: '2025-03-03T07:55:00.000Z',
      perceivedExertion: 7,
      plannedSets: [],
      sets: [{ setId: S1, occurredAt: '2025-03-03T07:20:00.000Z', exerciseId: SQUAT, reps: 6, load: { value: 100, unit: 'kg' }, loadKg: 100, warmUp: false, toFailure: false }],
      deletedSetIds: [S2],
    });
  });

  it('names the workout stream by its opaque id', () => {
    expect(workoutStreamId(W)).toBe(`workout-${W}`);
  });
});

describe('invariants', () => {
  const setInput: fc.Arbitrary<SetInput> = fc.record(
    {
      exerciseId: fc.constantFrom(SQUAT, PLANK, 'bench press'),
      reps: fc.integer({ min: -2, max: 1200 }),
      load: fc.record({ value: fc.double({ min: -10, max: 2500, noNaN: true }), unit: fc.constantFrom('kg' as const, 'lb' as const) }),
      durationS: fc.double({ min: 0, max: 100_000, noNaN: true }),
      rpe: fc.constantFrom(0, 1, 5.5, 7.3, 10, 10.5),
      heartRateBpm: fc.integer({ min: 0, max: 300 }),
      warmUp: fc.boolean(),
      notes: fc.string({ maxLength: 2100 }),
      customFields: fc.dictionary(fc.constantFrom('tempo', 'band', 'x y'), fc.oneof(fc.string({ maxLength: 5 }), fc.integer())),
    },
    { requiredKeys: ['exerciseId'] },
  );

  it('records a load of -0 kg as 0 kg (JSON cannot carry -0: the stored event must equal the decided one)', () => {
    const state = inProgress.reduce(evolve, initialState());
    const [event] = decide(logSet({ exerciseId: '0189c0de-1111-7222-8333-444455556666', load: { value: -0, unit: 'kg' }, durationS: 0 }), state);
    expect(Object.is((event?.data as { loadKg?: number }).loadKg, 0)).toBe(true);
    expect(Object.is((event?.data as { load?: { value: number } }).load?.value, 0)).toBe(true);
  });

  it('every event decide emits is valid current data for the registry and survives a JSON round trip', () => {
    const state = inProgress.reduce(evolve, initialState());
    fc.assert(
      fc.property(setInput, (set) => {
        let events: WorkoutEvent[];
        try {
          events = decide(logSet(set), state);
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
          expect((error as DomainError).code).toBe('VALIDATION_FAILED');
          expect((error as DomainError).field).toBeTypeOf('string');
          return;
        }
        for (const event of events) {
          const result = eventRegistry.validate(event.type, JSON.parse(JSON.stringify(event.data)));
          expect(result.ok ? [] : result.issues).toEqual([]);
          expect(JSON.parse(JSON.stringify(event.data))).toEqual(event.data);
        }
      }),
    );
  });
});
