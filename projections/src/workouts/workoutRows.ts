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
  /** The trainer who created the workout in the client's record, if one did. */
  readonly assignedBy?: string;
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
    energyKcal: num(row.energy_kcal),
    plannedSets: row.planned_sets as SetValues[],
    sets: [...sets].sort((a, b) => a.ordinal - b.ordinal).map(setFromRow),
    deletedSetIds: [],
  });
}

/** Exercises of the logged sets in logging order, then those only planned. */
export function exerciseIdsOf(state: WorkoutState): string[] {
  // Runs for every row write, over every set: a workout holds a handful of exercises, logged in
  // runs of sets, so a list checked only when the exercise changes beats a Set (a tenth of the
  // time a rebuild spent building workout rows).
  const ids: string[] = [];
  let previous: string | undefined;
  for (const sets of [state.sets, state.plannedSets]) {
    for (const set of sets) {
      const id = set.exerciseId;
      if (id !== previous && !ids.includes(id)) ids.push(id);
      previous = id;
    }
  }
  return ids;
}

/** The row; total_volume_kg is the exact decimal sum kept by the projection (see VolumeSum). */
export function workoutRow(identity: WorkoutIdentity, state: WorkoutState, totalVolumeKg: string): Insertable<RmWorkoutsTable> {
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
    energy_kcal: orNull(state.energyKcal),
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
    assigned_by: identity.assignedBy ?? null,
    total_volume_kg: totalVolumeKg,
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

/** An exact decimal: `digits` × 10^-`scale`, as PostgreSQL's numeric holds it (scale = display scale). */
interface Decimal {
  readonly digits: bigint;
  readonly scale: number;
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** The numeric PostgreSQL stores for a JS number sent as a parameter (node-postgres sends String(n)). */
export function decimalOf(value: number): Decimal {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (match === null) throw new RangeError(`not a finite number: ${value}`);
  const [, sign = '', int = '', frac = '', exp = '0'] = match;
  let digits = int + frac;
  let scale = frac.length - Number(exp);
  if (scale < 0) {
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  return { digits: BigInt(sign + digits), scale };
}

/**
 * Volume load of a workout, Σ load_kg × reps over working sets (warm-ups and sets without load or
 * reps excluded), kept per set so a batch updates it by its changed sets only. Rendered exactly as
 * PostgreSQL renders `coalesce(sum(load_kg * reps), 0)` over the stored sets: numeric products keep
 * the load's scale, the sum the largest scale of its terms, and no terms give 0.
 */
export class VolumeSum {
  private readonly terms = new Map<string, Decimal>();
  private readonly scaleCounts = new Map<number, number>();
  /** Σ of the terms at `scale` (never less than any term's scale). */
  private total = 0n;
  private scale = 0;

  static of(sets: readonly LoggedSet[]): VolumeSum {
    const sum = new VolumeSum();
    for (const set of sets) sum.set(set.setId, set);
    return sum;
  }

  /** Replaces the set's term (undefined: the set is gone). */
  set(setId: string, set: LoggedSet | undefined): void {
    const old = this.terms.get(setId);
    if (old !== undefined) {
      this.terms.delete(setId);
      this.total -= old.digits * pow10(this.scale - old.scale);
      const n = (this.scaleCounts.get(old.scale) ?? 0) - 1;
      if (n === 0) this.scaleCounts.delete(old.scale);
      else this.scaleCounts.set(old.scale, n);
    }
    if (set === undefined || set.warmUp || set.loadKg === undefined || set.reps === undefined) return;
    const load = decimalOf(set.loadKg);
    const term = { digits: load.digits * BigInt(set.reps), scale: load.scale };
    if (term.scale > this.scale) {
      this.total *= pow10(term.scale - this.scale);
      this.scale = term.scale;
    }
    this.terms.set(setId, term);
    this.total += term.digits * pow10(this.scale - term.scale);
    this.scaleCounts.set(term.scale, (this.scaleCounts.get(term.scale) ?? 0) + 1);
  }

  toString(): string {
    if (this.terms.size === 0) return '0';
    let scale = 0;
    for (const s of this.scaleCounts.keys()) scale = Math.max(scale, s);
    const value = this.total / pow10(this.scale - scale);
    const negative = value < 0n;
    let digits = (negative ? -value : value).toString();
    if (scale > 0) {
      digits = digits.padStart(scale + 1, '0');
      digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    }
    return negative ? `-${digits}` : digits;
  }
}
