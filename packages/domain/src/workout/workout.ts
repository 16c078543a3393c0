import type { Decider } from '../decider';
import { DomainError } from '../errors';
import { jsonEqual, withoutNegativeZero } from '../json';
import { DISTANCE_UNITS, MASS_UNITS, toKg, toMetres } from '../units/units';
import type { ObjectValidator } from '../validation/validator';
import type { CloneWorkout, WorkoutCommand, SetInput } from './commands';
import type { GeoLocation, LoggedSet, SetValues, WorkoutEvent } from './events';
import {
  setCorrectedValidator,
  setDeletedValidator,
  setLoggedValidator,
  workoutCancelledValidator,
  workoutClonedValidator,
  workoutCompletedValidator,
  workoutPlannedValidator,
  workoutStartedValidator,
} from './workoutEventTypes';

export type WorkoutStatus = 'none' | 'planned' | 'in_progress' | 'completed' | 'cancelled';

export type WorkoutState = {
  readonly status: WorkoutStatus;
  readonly workoutId?: string;
  readonly sourceWorkoutId?: string;
  readonly title?: string;
  readonly plannedFor?: string;
  readonly location?: GeoLocation;
  readonly notes?: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
  readonly cancelledAt?: string;
  readonly perceivedExertion?: number;
  readonly energyKcal?: number;
  readonly plannedSets: readonly SetValues[];
  /** Current sets in logging order: corrections applied, deleted sets removed. */
  readonly sets: readonly LoggedSet[];
  /** Ids of deleted sets; an id is never reused. */
  readonly deletedSetIds: readonly string[];
};

/** Client clocks drift: a time up to this far ahead of the server's `now` is still accepted. */
export const CLOCK_SKEW_TOLERANCE_MS = 5 * 60 * 1000;

export const workoutStreamId = (workoutId: string): string => `workout-${workoutId}`;

export function initialState(): WorkoutState {
  return { status: 'none', plannedSets: [], sets: [], deletedSetIds: [] };
}

/** Drops undefined properties so event data equals its own JSON round trip. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function valid<T>(validator: ObjectValidator<T>, data: unknown): T {
  const result = validator.check(data);
  if (!result.ok) throw DomainError.validation(result.issues);
  return result.value;
}

function instant(date: Date, field: string, now: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw DomainError.invalidField(field, `${field} must be a valid date-time`);
  if (date.getTime() > now.getTime() + CLOCK_SKEW_TOLERANCE_MS) throw DomainError.invalidField(field, `${field} must not be in the future`);
  return date.toISOString();
}

function notBefore(value: string, earliest: string | undefined, field: string, earliestField: string): void {
  if (earliest !== undefined && Date.parse(value) < Date.parse(earliest)) {
    throw DomainError.invalidField(field, `${field} must not be before ${earliestField}`);
  }
}

/** Entered values plus their canonical SI values. Unknown units get no canonical value; validation names them. */
export function setValues(input: SetInput): SetValues {
  const { load, distance } = input;
  return compact({
    ...input,
    warmUp: input.warmUp ?? false,
    toFailure: input.toFailure ?? false,
    loadKg: load !== undefined && (MASS_UNITS as readonly string[]).includes(load.unit) ? toKg(load.value, load.unit) : undefined,
    distanceM:
      distance !== undefined && (DISTANCE_UNITS as readonly string[]).includes(distance.unit) ? toMetres(distance.value, distance.unit) : undefined,
  });
}

function valuesOf(set: SetValues & { readonly setId?: string; readonly occurredAt?: string; readonly workoutId?: string; readonly reason?: string }): SetValues {
  const { setId: _setId, occurredAt: _occurredAt, workoutId: _workoutId, reason: _reason, ...values } = set;
  return values;
}

/** Where sets may be logged. Correcting and deleting are also allowed after completion (fixing the record). */
function assertSetsEditable(state: WorkoutState, editing: boolean): void {
  switch (state.status) {
    case 'in_progress':
      return;
    case 'completed':
      if (editing) return;
      throw new DomainError('SET_AFTER_COMPLETION', 'the workout is completed; sets can no longer be logged');
    case 'none':
      throw new DomainError('WORKOUT_NOT_FOUND', 'the workout does not exist', { field: 'workoutId' });
    case 'planned':
      throw new DomainError('WORKOUT_NOT_STARTED', 'the workout has not been started');
    case 'cancelled':
      throw new DomainError('WORKOUT_CANCELLED', 'the workout was cancelled');
    default: {
      const _: never = state.status;
      throw new Error(`unknown status ${String(_)}`);
    }
  }
}

function clone(command: CloneWorkout, state: WorkoutState): WorkoutEvent[] {
  // Needs no clock: a clone is a plan, and plannedFor may lie in the future.
  const { data } = command;
  if (state.status !== 'none') throw new DomainError('WORKOUT_ALREADY_EXISTS', 'a workout with this id already exists', { field: 'workoutId' });
  const { source } = data;
  if (source.status === 'none') {
    throw new DomainError('SOURCE_WORKOUT_NOT_FOUND', 'the workout to clone does not exist', { field: 'sourceWorkoutId' });
  }
  if (source.workoutId !== data.sourceWorkoutId) {
    throw new DomainError('WORKOUT_ID_MISMATCH', 'source state belongs to another workout', { field: 'sourceWorkoutId' });
  }
  // What was done becomes the plan; a workout never started passes on its own plan. Heart rate is a
  // measurement, not a target, so it is not copied.
  const plannedSets =
    source.sets.length > 0 ? source.sets.map((set) => compact({ ...valuesOf(set), heartRateBpm: undefined })) : source.plannedSets;
  return [
    {
      type: 'WorkoutCloned',
      data: valid(
        workoutClonedValidator,
        compact({
          workoutId: data.workoutId,
          sourceWorkoutId: data.sourceWorkoutId,
          title: data.title ?? source.title,
          plannedFor: data.plannedFor === undefined ? undefined : instantAnyTime(data.plannedFor, 'plannedFor'),
          location: source.location,
          notes: source.notes,
          plannedSets,
        }),
      ),
    },
  ];
}

/** A valid date-time that may lie in the future (a plan). */
function instantAnyTime(date: Date, field: string): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw DomainError.invalidField(field, `${field} must be a valid date-time`);
  return date.toISOString();
}

export function decide(given: WorkoutCommand, state: WorkoutState): WorkoutEvent[] {
  const command = { ...given, data: withoutNegativeZero(given.data) } as WorkoutCommand;
  const { now } = command.metadata;
  const { workoutId } = command.data;
  if (state.status !== 'none' && state.workoutId !== workoutId) {
    throw new DomainError('WORKOUT_ID_MISMATCH', 'the command addresses another workout than this stream', { field: 'workoutId' });
  }
  switch (command.type) {
    case 'PlanWorkout': {
      if (state.status !== 'none') throw new DomainError('WORKOUT_ALREADY_EXISTS', 'a workout with this id already exists', { field: 'workoutId' });
      const { data } = command;
      return [
        {
          type: 'WorkoutPlanned',
          data: valid(
            workoutPlannedValidator,
            compact({
              workoutId,
              title: data.title,
              plannedFor: instantAnyTime(data.plannedFor, 'plannedFor'),
              location: data.location,
              notes: data.notes,
              plannedSets: (data.plannedSets ?? []).map(setValues),
              templateId: data.fromTemplate?.templateId,
              templateVersion: data.fromTemplate?.version,
            }),
          ),
        },
      ];
    }

    case 'StartWorkout': {
      switch (state.status) {
        case 'none':
        case 'planned':
          break;
        case 'in_progress':
          throw new DomainError('WORKOUT_ALREADY_STARTED', 'the workout is already in progress');
        case 'completed':
          throw new DomainError('WORKOUT_ALREADY_COMPLETED', 'the workout is already completed');
        case 'cancelled':
          throw new DomainError('WORKOUT_CANCELLED', 'the workout was cancelled');
        default: {
          const _: never = state.status;
          throw new Error(`unknown status ${String(_)}`);
        }
      }
      const { data } = command;
      return [
        {
          type: 'WorkoutStarted',
          data: valid(
            workoutStartedValidator,
            compact({ workoutId, startedAt: instant(data.startedAt ?? now, 'startedAt', now), title: data.title, location: data.location }),
          ),
        },
      ];
    }

    case 'LogSet': {
      assertSetsEditable(state, false);
      const { data } = command;
      const values = setValues(data.set);
      const existing = state.sets.find((s) => s.setId === data.setId);
      // A retried LogSet (same id, same values) changes nothing; the same id with other values is a conflict.
      if (existing !== undefined && jsonEqual(valuesOf(existing), values)) return [];
      if (existing !== undefined || state.deletedSetIds.includes(data.setId)) {
        throw new DomainError('SET_ALREADY_EXISTS', 'a set with this id was already logged', { field: 'setId' });
      }
      const occurredAt = instant(data.occurredAt ?? now, 'occurredAt', now);
      notBefore(occurredAt, state.startedAt, 'occurredAt', 'startedAt');
      return [{ type: 'SetLogged', data: valid(setLoggedValidator, { workoutId, setId: data.setId, occurredAt, ...values }) }];
    }

    case 'CorrectSet': {
      assertSetsEditable(state, true);
      const { data } = command;
      const existing = state.sets.find((s) => s.setId === data.setId);
      if (existing === undefined) throw new DomainError('SET_NOT_FOUND', 'no such set in this workout', { field: 'setId' });
      const values = setValues(data.set);
      if (jsonEqual(valuesOf(existing), values)) return [];
      return [
        {
          type: 'SetCorrected',
          data: valid(setCorrectedValidator, compact({ workoutId, setId: data.setId, reason: data.reason, ...values })),
        },
      ];
    }

    case 'DeleteSet': {
      assertSetsEditable(state, true);
      const { data } = command;
      if (state.deletedSetIds.includes(data.setId)) return [];
      if (!state.sets.some((s) => s.setId === data.setId)) throw new DomainError('SET_NOT_FOUND', 'no such set in this workout', { field: 'setId' });
      return [{ type: 'SetDeleted', data: valid(setDeletedValidator, compact({ workoutId, setId: data.setId, reason: data.reason })) }];
    }

    case 'CompleteWorkout': {
      switch (state.status) {
        case 'in_progress':
          break;
        case 'none':
          throw new DomainError('WORKOUT_NOT_FOUND', 'the workout does not exist', { field: 'workoutId' });
        case 'planned':
          throw new DomainError('WORKOUT_NOT_STARTED', 'the workout has not been started');
        case 'completed':
          throw new DomainError('WORKOUT_ALREADY_COMPLETED', 'the workout is already completed');
        case 'cancelled':
          throw new DomainError('WORKOUT_CANCELLED', 'the workout was cancelled');
        default: {
          const _: never = state.status;
          throw new Error(`unknown status ${String(_)}`);
        }
      }
      const { data } = command;
      const completedAt = instant(data.completedAt ?? now, 'completedAt', now);
      notBefore(completedAt, state.startedAt, 'completedAt', 'startedAt');
      return [
        {
          type: 'WorkoutCompleted',
          data: valid(
            workoutCompletedValidator,
            compact({ workoutId, completedAt, perceivedExertion: data.perceivedExertion, energyKcal: data.energyKcal, notes: data.notes }),
          ),
        },
      ];
    }

    case 'CancelWorkout': {
      switch (state.status) {
        case 'planned':
        case 'in_progress':
          break;
        case 'none':
          throw new DomainError('WORKOUT_NOT_FOUND', 'the workout does not exist', { field: 'workoutId' });
        case 'completed':
          throw new DomainError('WORKOUT_ALREADY_COMPLETED', 'a completed workout cannot be cancelled');
        case 'cancelled':
          throw new DomainError('WORKOUT_CANCELLED', 'the workout was already cancelled');
        default: {
          const _: never = state.status;
          throw new Error(`unknown status ${String(_)}`);
        }
      }
      const { data } = command;
      return [
        {
          type: 'WorkoutCancelled',
          data: valid(
            workoutCancelledValidator,
            compact({ workoutId, cancelledAt: instant(data.cancelledAt ?? now, 'cancelledAt', now), reason: data.reason }),
          ),
        },
      ];
    }

    case 'CloneWorkout':
      return clone(command, state);

    default: {
      const _: never = command;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

/** Applies a recorded fact. Total: never throws, whatever the order (events are facts, not requests). */
export function evolve(state: WorkoutState, event: WorkoutEvent): WorkoutState {
  switch (event.type) {
    case 'WorkoutPlanned': {
      const { workoutId, title, plannedFor, location, notes, plannedSets } = event.data;
      return compact({ ...state, status: 'planned', workoutId, title, plannedFor, location, notes, plannedSets });
    }
    case 'WorkoutCloned': {
      const { workoutId, sourceWorkoutId, title, plannedFor, location, notes, plannedSets } = event.data;
      return compact({ ...state, status: 'planned', workoutId, sourceWorkoutId, title, plannedFor, location, notes, plannedSets });
    }
    case 'WorkoutStarted': {
      const { workoutId, startedAt, title, location } = event.data;
      return compact({
        ...state,
        status: 'in_progress',
        workoutId,
        startedAt,
        title: title ?? state.title,
        location: location ?? state.location,
      });
    }
    case 'SetLogged': {
      const { workoutId: _workoutId, ...set } = event.data;
      return { ...state, sets: [...state.sets, set] };
    }
    case 'SetCorrected': {
      const { setId } = event.data;
      const values = valuesOf(event.data);
      return { ...state, sets: state.sets.map((s) => (s.setId === setId ? { setId, occurredAt: s.occurredAt, ...values } : s)) };
    }
    case 'SetDeleted': {
      const { setId } = event.data;
      return { ...state, sets: state.sets.filter((s) => s.setId !== setId), deletedSetIds: [...state.deletedSetIds, setId] };
    }
    case 'WorkoutCompleted': {
      const { completedAt, perceivedExertion, energyKcal, notes } = event.data;
      return compact({ ...state, status: 'completed', completedAt, perceivedExertion, energyKcal, notes: notes ?? state.notes });
    }
    case 'WorkoutCancelled':
      return { ...state, status: 'cancelled', cancelledAt: event.data.cancelledAt };
    default: {
      const _: never = event;
      return state;
    }
  }
}

export const workoutDecider: Decider<WorkoutState, WorkoutCommand, WorkoutEvent> = { initialState, evolve, decide };
