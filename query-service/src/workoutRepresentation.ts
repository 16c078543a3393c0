import { displayDistance, displayMass, type Displayed, type UnitPreferences } from '@fitledger/domain';
import type { RmPersonalRecordsTable, RmWorkoutsTable } from '@fitledger/projections';
import type { Selectable } from 'kysely';

/**
 * Read-model rows → API representations, and the JSON schemas of those representations (response
 * validation-free serialisation and the OpenAPI document). The same mapping serves REST rows (pg
 * types: numeric as string, timestamptz as Date) and feed payloads (`to_jsonb`: numbers, ISO text),
 * so a client sees one shape in both. Loads and distances are given canonical (kg, m), as the user
 * entered them, and (REST) in the caller's preferred units (`display`).
 */

type NumericIn = string | number | null | undefined;
type InstantIn = Date | string | null | undefined;

export interface EnteredQuantity {
  readonly value: number;
  readonly unit: string;
}

export interface WorkoutSetRepresentation {
  readonly setId: string;
  readonly ordinal: number;
  readonly exerciseId: string;
  readonly reps: number | null;
  readonly loadKg: number | null;
  readonly loadEntered: EnteredQuantity | null;
  readonly durationS: number | null;
  readonly distanceM: number | null;
  readonly distanceEntered: EnteredQuantity | null;
  readonly rpe: number | null;
  readonly heartRateBpm: number | null;
  readonly warmUp: boolean;
  readonly toFailure: boolean;
  readonly supersetGroup: string | null;
  readonly restBeforeS: number | null;
  readonly notes: string | null;
  readonly customFields: Record<string, string | number> | null;
  readonly occurredAt: string | null;
  /** Load and distance in the caller's preferred units (REST only; absent on feed messages). */
  readonly display?: { readonly load: Displayed | null; readonly distance: Displayed | null };
}

export interface WorkoutSummaryRepresentation {
  readonly workoutId: string;
  readonly status: RmWorkoutsTable['status'];
  readonly title: string | null;
  readonly plannedFor: string | null;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly cancelledAt: string | null;
  /** The date the list is sorted and filtered by. */
  readonly sortAt: string;
  readonly perceivedExertion: number | null;
  /** Active energy burned (kcal), when recorded. */
  readonly energyKcal: number | null;
  /** The trainer who assigned it (planned it in the person's record); null for their own. */
  readonly assignedBy: string | null;
  readonly exerciseIds: readonly string[];
  readonly setCount: number;
  readonly totalVolumeKg: number;
  /** Total volume in the person's mass unit (REST and feed, when their preferences are known). */
  readonly totalVolumeDisplay?: Displayed;
  readonly revision: number;
}

export interface WorkoutDetailRepresentation extends WorkoutSummaryRepresentation {
  readonly notes: string | null;
  readonly location: { readonly lat: number; readonly lon: number } | null;
  readonly sets: readonly WorkoutSetRepresentation[];
}

/**
 * A workout change on the live feed: the summary after the change plus only the sets the change
 * touched, so a message stays small however many sets the workout holds.
 */
export interface WorkoutChangeRepresentation extends WorkoutSummaryRepresentation {
  /** The sets this change logged or corrected, as they are now (empty for workout-level changes). */
  readonly sets: readonly WorkoutSetRepresentation[];
  /** The sets this change deleted. */
  readonly deletedSetIds: readonly string[];
}

export interface PersonalRecordRepresentation {
  readonly exerciseId: string;
  readonly oneRmKg: number | null;
  readonly threeRmKg: number | null;
  readonly fiveRmKg: number | null;
  readonly tenRmKg: number | null;
  /** Estimated one-rep max, Epley (1985): w · (1 + r/30). */
  readonly epleyKg: number | null;
  /** Estimated one-rep max, Brzycki (1993): w · 36 / (37 − r). */
  readonly brzyckiKg: number | null;
  readonly bestVolumeKg: number | null;
  /** The same records in the caller's preferred mass unit (REST only; absent on feed messages). */
  readonly display?: PersonalRecordDisplay;
}

export interface PersonalRecordDisplay {
  readonly unit: string;
  readonly oneRm: number | null;
  readonly threeRm: number | null;
  readonly fiveRm: number | null;
  readonly tenRm: number | null;
  readonly epley: number | null;
  readonly brzycki: number | null;
  readonly bestVolume: number | null;
}

/** The columns a workout row needs, typed loosely enough for both pg rows and `to_jsonb` payloads. */
export interface WorkoutRowLike {
  workout_id: string;
  status: RmWorkoutsTable['status'];
  title: string | null;
  planned_for: InstantIn;
  started_at: InstantIn;
  completed_at: InstantIn;
  cancelled_at: InstantIn;
  sort_at: Date | string;
  perceived_exertion: NumericIn;
  /** Absent in feed payloads written before the column existed. */
  energy_kcal?: NumericIn;
  /** Absent in feed payloads written before the column existed. */
  assigned_by?: string | null;
  exercise_ids: readonly string[] | null;
  set_count: number | null;
  total_volume_kg: NumericIn;
  revision: string | number;
}

export interface WorkoutDetailRowLike extends WorkoutRowLike {
  notes: string | null;
  location: { lat: number; lon: number } | null;
}

export type PersonalRecordRowLike = Pick<
  Selectable<RmPersonalRecordsTable>,
  'exercise_id'
> & Record<'one_rm_kg' | 'three_rm_kg' | 'five_rm_kg' | 'ten_rm_kg' | 'epley_kg' | 'brzycki_kg' | 'best_volume_kg', NumericIn>;

function num(value: NumericIn): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

function instant(value: InstantIn): string | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function entered(value: NumericIn, unit: unknown): EnteredQuantity | null {
  const v = num(value);
  return v === null || typeof unit !== 'string' ? null : { value: v, unit };
}

export function workoutSummary(row: WorkoutRowLike, preferences?: UnitPreferences): WorkoutSummaryRepresentation {
  const totalVolumeKg = num(row.total_volume_kg) ?? 0;
  return {
    workoutId: row.workout_id,
    status: row.status,
    title: row.title,
    plannedFor: instant(row.planned_for),
    startedAt: instant(row.started_at),
    completedAt: instant(row.completed_at),
    cancelledAt: instant(row.cancelled_at),
    sortAt: instant(row.sort_at) ?? '',
    perceivedExertion: num(row.perceived_exertion),
    energyKcal: num(row.energy_kcal),
    assignedBy: row.assigned_by ?? null,
    exerciseIds: row.exercise_ids ?? [],
    setCount: row.set_count ?? 0,
    totalVolumeKg,
    ...(preferences === undefined ? {} : { totalVolumeDisplay: displayMass(totalVolumeKg, preferences.mass) }),
    revision: Number(row.revision),
  };
}

/** A set row's representation; with `preferences`, also its load and distance in the person's units. */
export function workoutSet(row: Record<string, unknown>, preferences?: UnitPreferences): WorkoutSetRepresentation {
  const customFields = row['custom_fields'];
  const loadKg = num(row['load_kg'] as NumericIn);
  const distanceM = num(row['distance_m'] as NumericIn);
  return {
    setId: String(row['set_id']),
    ordinal: Number(row['ordinal']),
    exerciseId: String(row['exercise_id']),
    reps: num(row['reps'] as NumericIn),
    loadKg,
    loadEntered: entered(row['load_value'] as NumericIn, row['load_unit']),
    durationS: num(row['duration_s'] as NumericIn),
    distanceM,
    distanceEntered: entered(row['distance_value'] as NumericIn, row['distance_unit']),
    rpe: num(row['rpe'] as NumericIn),
    heartRateBpm: num(row['heart_rate_bpm'] as NumericIn),
    warmUp: row['warm_up'] === true,
    toFailure: row['to_failure'] === true,
    supersetGroup: text(row['superset_group']),
    restBeforeS: num(row['rest_before_s'] as NumericIn),
    notes: text(row['notes']),
    customFields: typeof customFields === 'object' && customFields !== null && !Array.isArray(customFields) ? (customFields as Record<string, string | number>) : null,
    occurredAt: instant(row['occurred_at'] as InstantIn),
    ...(preferences === undefined
      ? {}
      : {
          display: {
            load: loadKg === null ? null : displayMass(loadKg, preferences.mass),
            distance: distanceM === null ? null : displayDistance(distanceM, preferences.distance),
          },
        }),
  };
}

export function workoutDetail(row: WorkoutDetailRowLike, sets: readonly Record<string, unknown>[], preferences?: UnitPreferences): WorkoutDetailRepresentation {
  const location = row.location;
  return {
    ...workoutSummary(row, preferences),
    notes: row.notes,
    location: location && typeof location.lat === 'number' && typeof location.lon === 'number' ? { lat: location.lat, lon: location.lon } : null,
    sets: sets.map((set) => workoutSet(set, preferences)),
  };
}

export function workoutChange(row: WorkoutRowLike, sets: readonly Record<string, unknown>[], deletedSetIds: readonly string[], preferences?: UnitPreferences): WorkoutChangeRepresentation {
  return { ...workoutSummary(row, preferences), sets: sets.map((set) => workoutSet(set, preferences)), deletedSetIds };
}

export function personalRecord(row: PersonalRecordRowLike, preferences?: UnitPreferences): PersonalRecordRepresentation {
  const kg = {
    oneRm: num(row.one_rm_kg),
    threeRm: num(row.three_rm_kg),
    fiveRm: num(row.five_rm_kg),
    tenRm: num(row.ten_rm_kg),
    epley: num(row.epley_kg),
    brzycki: num(row.brzycki_kg),
    bestVolume: num(row.best_volume_kg),
  };
  const shown = (value: number | null): number | null => (value === null || preferences === undefined ? null : displayMass(value, preferences.mass).value);
  return {
    exerciseId: row.exercise_id,
    oneRmKg: kg.oneRm,
    threeRmKg: kg.threeRm,
    fiveRmKg: kg.fiveRm,
    tenRmKg: kg.tenRm,
    epleyKg: kg.epley,
    brzyckiKg: kg.brzycki,
    bestVolumeKg: kg.bestVolume,
    ...(preferences === undefined
      ? {}
      : {
          display: {
            unit: preferences.mass,
            oneRm: shown(kg.oneRm),
            threeRm: shown(kg.threeRm),
            fiveRm: shown(kg.fiveRm),
            tenRm: shown(kg.tenRm),
            epley: shown(kg.epley),
            brzycki: shown(kg.brzycki),
            bestVolume: shown(kg.bestVolume),
          },
        }),
  };
}

// ---------------------------------------------------------------------------------------------
// JSON schemas (registered with $id so the OpenAPI document names them).

const nullableNumber = { type: ['number', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;
const nullableInstant = { type: ['string', 'null'], format: 'date-time' } as const;
const enteredQuantity = {
  type: ['object', 'null'],
  required: ['value', 'unit'],
  additionalProperties: false,
  properties: { value: { type: 'number' }, unit: { type: 'string' } },
} as const;

const displayed = {
  type: ['object', 'null'],
  required: ['value', 'unit'],
  additionalProperties: false,
  properties: { value: { type: 'number' }, unit: { type: 'string' } },
} as const;

export const WORKOUT_STATUSES = ['planned', 'in_progress', 'completed', 'cancelled'] as const;

const summaryProperties = {
  workoutId: { type: 'string', format: 'uuid' },
  status: { type: 'string', enum: WORKOUT_STATUSES },
  title: nullableString,
  plannedFor: nullableInstant,
  startedAt: nullableInstant,
  completedAt: nullableInstant,
  cancelledAt: nullableInstant,
  sortAt: { type: 'string', format: 'date-time' },
  perceivedExertion: nullableNumber,
  energyKcal: nullableNumber,
  assignedBy: { type: ['string', 'null'], description: 'The trainer who assigned this workout (coach-assigned); null for the person’s own.' },
  exerciseIds: { type: 'array', items: { type: 'string' } },
  setCount: { type: 'integer' },
  totalVolumeKg: { type: 'number' },
  revision: { type: 'integer', description: 'Changes whenever the workout changes; the ETag of the detail.' },
} as const;

/** Summary fields that are present only when the caller's display units are known. */
const summaryOptionalProperties = {
  totalVolumeDisplay: { type: 'object', additionalProperties: false, required: ['value', 'unit'], properties: { value: { type: 'number' }, unit: { type: 'string' } }, description: 'Total volume in the caller’s mass unit.' },
} as const;

export const workoutSetSchema = {
  $id: 'WorkoutSet',
  type: 'object',
  additionalProperties: false,
  required: ['setId', 'ordinal', 'exerciseId', 'reps', 'loadKg', 'loadEntered', 'durationS', 'distanceM', 'distanceEntered', 'rpe', 'heartRateBpm', 'warmUp', 'toFailure', 'supersetGroup', 'restBeforeS', 'notes', 'customFields', 'occurredAt'],
  properties: {
    setId: { type: 'string', format: 'uuid' },
    ordinal: { type: 'integer' },
    exerciseId: { type: 'string' },
    reps: { type: ['integer', 'null'] },
    loadKg: nullableNumber,
    loadEntered: { ...enteredQuantity, description: 'The load as the user entered it.' },
    durationS: nullableNumber,
    distanceM: nullableNumber,
    distanceEntered: { ...enteredQuantity, description: 'The distance as the user entered it.' },
    rpe: nullableNumber,
    heartRateBpm: { type: ['integer', 'null'] },
    warmUp: { type: 'boolean' },
    toFailure: { type: 'boolean' },
    supersetGroup: nullableString,
    restBeforeS: nullableNumber,
    notes: nullableString,
    customFields: { type: ['object', 'null'], additionalProperties: { type: ['string', 'number'] } },
    occurredAt: nullableInstant,
    display: {
      type: 'object',
      additionalProperties: false,
      required: ['load', 'distance'],
      description: "Load (kg or lb) and distance (km or mi) in the caller's preferred units, unrounded. REST only, not on feed messages.",
      properties: { load: displayed, distance: displayed },
    },
  },
} as const;

export const workoutSummarySchema = {
  $id: 'WorkoutSummary',
  type: 'object',
  additionalProperties: false,
  required: Object.keys(summaryProperties),
  properties: { ...summaryProperties, ...summaryOptionalProperties },
} as const;

export const workoutDetailSchema = {
  $id: 'WorkoutDetail',
  type: 'object',
  additionalProperties: false,
  required: [...Object.keys(summaryProperties), 'notes', 'location', 'sets'],
  properties: {
    ...summaryProperties,
    ...summaryOptionalProperties,
    notes: nullableString,
    location: {
      type: ['object', 'null'],
      required: ['lat', 'lon'],
      additionalProperties: false,
      properties: { lat: { type: 'number' }, lon: { type: 'number' } },
    },
    sets: { type: 'array', items: { $ref: 'WorkoutSet#' } },
  },
} as const;

export const workoutChangeSchema = {
  $id: 'WorkoutChange',
  description: 'Payload of a `workout` feed message: the workout summary plus only the sets the change touched.',
  type: 'object',
  additionalProperties: false,
  required: [...Object.keys(summaryProperties), 'sets', 'deletedSetIds'],
  properties: {
    ...summaryProperties,
    ...summaryOptionalProperties,
    sets: { type: 'array', items: { $ref: 'WorkoutSet#' }, description: 'The sets this change logged or corrected, as they are now.' },
    deletedSetIds: { type: 'array', items: { type: 'string', format: 'uuid' }, description: 'The sets this change deleted.' },
  },
} as const;

export const personalRecordSchema = {
  $id: 'PersonalRecord',
  type: 'object',
  additionalProperties: false,
  required: ['exerciseId', 'oneRmKg', 'threeRmKg', 'fiveRmKg', 'tenRmKg', 'epleyKg', 'brzyckiKg', 'bestVolumeKg'],
  properties: {
    exerciseId: { type: 'string' },
    oneRmKg: nullableNumber,
    threeRmKg: nullableNumber,
    fiveRmKg: nullableNumber,
    tenRmKg: nullableNumber,
    epleyKg: { ...nullableNumber, description: 'Estimated one-rep max (Epley 1985).' },
    brzyckiKg: { ...nullableNumber, description: 'Estimated one-rep max (Brzycki 1993).' },
    bestVolumeKg: { ...nullableNumber, description: 'Largest single-set volume (load × reps).' },
    display: {
      type: 'object',
      additionalProperties: false,
      required: ['unit', 'oneRm', 'threeRm', 'fiveRm', 'tenRm', 'epley', 'brzycki', 'bestVolume'],
      description: "The records in the caller's preferred mass unit (kg or lb; volume in unit × reps), unrounded. REST only, not on feed messages.",
      properties: {
        unit: { type: 'string' },
        oneRm: nullableNumber,
        threeRm: nullableNumber,
        fiveRm: nullableNumber,
        tenRm: nullableNumber,
        epley: nullableNumber,
        brzycki: nullableNumber,
        bestVolume: nullableNumber,
      },
    },
  },
} as const;

export const representationSchemas = [workoutSetSchema, workoutSummarySchema, workoutDetailSchema, workoutChangeSchema, personalRecordSchema] as const;
