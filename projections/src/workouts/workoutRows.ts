import type { LoggedSet, SetValues, WorkoutState } from '@fitledger/domain';
import type { Insertable, Selectable } from 'kysely';
import type { RmWorkoutSetsTable, RmWorkoutsTable } from '../readModelDb';

/** Mapping between the domain's WorkoutState and the rm_workouts / rm_workout_sets rows. */

export type WorkoutRow = Selectable<RmWorkoutsTable>;
export type WorkoutSetRow = Selectable<RmWorkoutSetsTable>;

export interface WorkoutIdentity {
  readonly workoutId: string;
  readonly tenantId: string;
  readonly subjectId: string;
  readonly revision: number;
  readonly updatedPosition: string;
  readonly firstRecordedAt: Date;
}

const num = (value: string | null): number | undefined => (value === null ? undefined : Number(value));
const iso = (value: Date | null): string | undefined => (value === null ? undefined : value.toISOString());
const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

/** Drops undefined properties, as the domain's own state has none. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function setFromRow(row: WorkoutSetRow): LoggedSet {
  return compact({
    setId: row.set_id,
    occurredAt: iso(row.occurred_at) ?? '',
    exerciseId: row.exercise_id,
    reps: row.reps ?? undefined,
    load: row.load_value === null || row.load_unit === null ? undefined : { value: Number(row.load_value), unit: row.load_unit },
    loadKg: num(row.load_kg),
    durationS: num(row.duration_s),
    distance:
      row.distance_value === null || row.distance_unit === null ? undefined : { value: Number(row.distance_value), unit: row.distance_unit },
    distanceM: num(row.distance_m),
    rpe: num(row.rpe),
    heartRateBpm: row.heart_rate_bpm ?? undefined,
    warmUp: row.warm_up,
    toFailure: row.to_failure,
    supersetGroup: row.superset_group ?? undefined,
    restBeforeS: num(row.rest_before_s),
    notes: row.notes ?? undefined,
    customFields: row.custom_fields ?? undefined,
  } as LoggedSet);
}

/** State as far as the projection needs it (deleted set ids are not kept: events never reuse them). */
export function stateFromRows(row: WorkoutRow, sets: readonly WorkoutSetRow[]): WorkoutState {
  return compact({
    status: row.status,
    workoutId: row.workout_id,
    sourceWorkoutId: row.source_workout_id ?? undefined,
    title: row.title ?? undefined,
    plannedFor: iso(row.planned_for),
    location: row.location ?? undefined,
    notes: row.notes ?? undefined,
    startedAt: iso(row.started_at),
    completedAt: iso(row.completed_at),
    cancelledAt: iso(row.cancelled_at),
    perceivedExertion: num(row.perceived_exertion),
    plannedSets: row.planned_sets as SetValues[],
    sets: [...sets].sort((a, b) => a.ordinal - b.ordinal).map(setFromRow),
    deletedSetIds: [],
  });
}

/** Exercises of the logged sets in logging order, then those only planned. */
export function exerciseIdsOf(state: WorkoutState): string[] {
  return [...new Set([...state.sets.map((s) => s.exerciseId), ...state.plannedSets.map((s) => s.exerciseId)])];
}

/** The row without total_volume_kg, which is summed in SQL over the stored sets (exact decimal arithmetic). */
export function workoutRow(identity: WorkoutIdentity, state: WorkoutState): Insertable<RmWorkoutsTable> {
  const status = state.status;
  if (status === 'none') throw new Error('a workout that does not exist has no row');
  return {
    workout_id: identity.workoutId,
    tenant_id: identity.tenantId,
    subject_id: identity.subjectId,
    status,
    title: orNull(state.title),
    planned_for: orNull(state.plannedFor),
    started_at: orNull(state.startedAt),
    completed_at: orNull(state.completedAt),
    cancelled_at: orNull(state.cancelledAt),
    perceived_exertion: orNull(state.perceivedExertion),
    notes: orNull(state.notes),
    location: state.location === undefined ? null : JSON.stringify(state.location),
    exercise_ids: exerciseIdsOf(state),
    set_count: state.sets.length,
    revision: identity.revision,
    sort_at: state.startedAt ?? state.plannedFor ?? identity.firstRecordedAt,
    updated_position: identity.updatedPosition,
    source_workout_id: orNull(state.sourceWorkoutId),
    planned_sets: JSON.stringify(state.plannedSets),
    first_recorded_at: identity.firstRecordedAt,
  };
}

export function setRow(identity: WorkoutIdentity, set: LoggedSet, ordinal: number): Insertable<RmWorkoutSetsTable> {
  return {
    workout_id: identity.workoutId,
    set_id: set.setId,
    ordinal,
    exercise_id: set.exerciseId,
    reps: orNull(set.reps),
    load_value: orNull(set.load?.value),
    load_unit: orNull(set.load?.unit),
    load_kg: orNull(set.loadKg),
    duration_s: orNull(set.durationS),
    distance_value: orNull(set.distance?.value),
    distance_unit: orNull(set.distance?.unit),
    distance_m: orNull(set.distanceM),
    rpe: orNull(set.rpe),
    heart_rate_bpm: orNull(set.heartRateBpm),
    warm_up: set.warmUp,
    to_failure: set.toFailure,
    superset_group: orNull(set.supersetGroup),
    rest_before_s: orNull(set.restBeforeS),
    notes: orNull(set.notes),
    custom_fields: set.customFields === undefined ? null : JSON.stringify(set.customFields),
    occurred_at: set.occurredAt,
    tenant_id: identity.tenantId,
    subject_id: identity.subjectId,
  };
}
