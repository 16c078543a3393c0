import type { ColumnType, Generated } from 'kysely';

/** numeric: pg returns it as a string (exact decimal); write numbers or strings. */
type NullableNumeric = ColumnType<string | null, number | string | null, number | string | null>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null, Date | string | null>;
/** jsonb: pg parses it on read; write a JSON string (pg would turn a JS array into a PostgreSQL array literal). */
type Json<T = unknown> = ColumnType<T, string, string>;
type NullableJson<T = unknown> = ColumnType<T | null, string | null, string | null>;
/** bigint: pg returns it as a string. */
type BigIntColumn = ColumnType<string, number | string | bigint, number | string | bigint>;

export interface ProjectionCheckpointsTable {
  name: string;
  position: string;
  updated_at: Generated<Date>;
}

export interface RmWorkoutsTable {
  workout_id: string;
  tenant_id: string;
  subject_id: string;
  status: 'planned' | 'in_progress' | 'completed' | 'cancelled';
  title: string | null;
  planned_for: NullableTimestamp;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  cancelled_at: NullableTimestamp;
  perceived_exertion: NullableNumeric;
  notes: string | null;
  location: NullableJson<{ lat: number; lon: number }>;
  exercise_ids: ColumnType<string[], string[] | undefined, string[]>;
  set_count: ColumnType<number, number | undefined, number>;
  total_volume_kg: ColumnType<string, number | string | undefined, number | string>;
  revision: BigIntColumn;
  sort_at: Timestamp;
  updated_position: string;
  source_workout_id: string | null;
  planned_sets: ColumnType<unknown[], string | undefined, string>;
  first_recorded_at: Timestamp;
}

export interface RmWorkoutSetsTable {
  workout_id: string;
  set_id: string;
  ordinal: number;
  exercise_id: string;
  reps: number | null;
  load_value: NullableNumeric;
  load_unit: string | null;
  load_kg: NullableNumeric;
  duration_s: NullableNumeric;
  distance_value: NullableNumeric;
  distance_unit: string | null;
  distance_m: NullableNumeric;
  rpe: NullableNumeric;
  heart_rate_bpm: number | null;
  warm_up: boolean;
  to_failure: boolean;
  superset_group: string | null;
  rest_before_s: NullableNumeric;
  notes: string | null;
  custom_fields: NullableJson<Record<string, string | number>>;
  occurred_at: NullableTimestamp;
  tenant_id: string;
  subject_id: string;
}

export interface RmPersonalRecordsTable {
  subject_id: string;
  exercise_id: string;
  tenant_id: string;
  one_rm_kg: NullableNumeric;
  three_rm_kg: NullableNumeric;
  five_rm_kg: NullableNumeric;
  ten_rm_kg: NullableNumeric;
  epley_kg: NullableNumeric;
  brzycki_kg: NullableNumeric;
  best_volume_kg: NullableNumeric;
  updated_position: string;
  records: Json;
}

export interface RmFeedChangesTable {
  subject_id: string;
  position: string;
  seq: number;
  kind: FeedKind;
  entity_id: string;
  op: FeedOp;
  payload: NullableJson;
  /** W3C traceparent from the event's metadata (the request that wrote it), if it had one. */
  traceparent: ColumnType<string | null, string | null | undefined, string | null>;
}

export type FeedKind = 'workout' | 'personal_record';
export type FeedOp = 'upsert' | 'delete';

/** The read-model schema (see migrations/). */
export interface ReadModelDb {
  projection_checkpoints: ProjectionCheckpointsTable;
  rm_workouts: RmWorkoutsTable;
  rm_workout_sets: RmWorkoutSetsTable;
  rm_personal_records: RmPersonalRecordsTable;
  rm_feed_changes: RmFeedChangesTable;
}

/**
 * One row of `rm_feed_changes`: what changed for a subject at an event. Feed cursor = (position, seq).
 * `payload` is the entity's read-model row after the batch that wrote the change (a workout row with
 * its sets in `sets`, or a personal-record row) as PostgreSQL's `to_jsonb` renders it; null with op 'delete'.
 */
export interface FeedChange {
  readonly subjectId: string;
  readonly position: string;
  readonly seq: number;
  readonly kind: FeedKind;
  readonly entityId: string;
  readonly op: FeedOp;
  readonly payload: unknown;
}
