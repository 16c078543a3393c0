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
  energy_kcal: NullableNumeric;
  /** The trainer who planned it in the client's record (migration 0013); null for the person's own. */
  assigned_by: ColumnType<string | null, string | null | undefined, string | null>;
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
  /**
   * The entity as the change left it, for kinds whose readers do not render it (`body_measurement`)
   * and for rows written before migration 0019; null for deletes and for `workout` and
   * `personal_record` changes, which readers render from the read model (see `feedPayload`).
   */
  payload: NullableJson;
  /** W3C traceparent from the event's metadata (the request that wrote it), if it had one. */
  traceparent: ColumnType<string | null, string | null | undefined, string | null>;
  /** `workout`: the set the event logged, corrected or (with `set_deleted`) deleted, if any. */
  set_id: ColumnType<string | null, string | null | undefined, string | null>;
  set_deleted: ColumnType<boolean, boolean | undefined, boolean>;
  /** The organisation of the event that wrote the row (migration 0021); null on rows written before. */
  tenant_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the row was written (migration 0022; retention prunes by it). */
  recorded_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /**
   * The feed's order (migration 0024, bigint as text): numbered in commit order under the
   * feed-order lock (`lockFeedOrder`), never written by hand.
   */
  feed_id: ColumnType<string, never, never>;
}

/** The last feed row retention pruned (one row at most, migrations 0022 and 0024). */
export interface FeedRetentionHorizonTable {
  singleton: ColumnType<boolean, boolean | undefined, boolean>;
  /** The greatest `rm_feed_changes.feed_id` pruned (bigint as text). */
  feed_id: ColumnType<string, string, string>;
  pruned_at: Timestamp;
}

export type FeedKind = 'workout' | 'personal_record' | 'body_measurement';
export type FeedOp = 'upsert' | 'delete';

/**
 * The exercise library: catalog rows (source 'catalog', visibility 'public', seeded by migration
 * 0004) and custom exercises (source 'custom', written by the `exercises` projection).
 */
export interface RmExercisesTable {
  exercise_id: string;
  source: 'catalog' | 'custom';
  /** The catalog's own id (e.g. `Barbell_Squat`); null for custom exercises. */
  source_id: string | null;
  visibility: 'public' | 'organisation' | 'private';
  /** Null for public rows. */
  tenant_id: string | null;
  /** The owner; null for public rows. */
  subject_id: string | null;
  name: string;
  category: string;
  level: string;
  equipment: string | null;
  mechanic: string | null;
  force: string | null;
  primary_muscles: string[];
  secondary_muscles: string[];
  instructions: string[];
  media_links: string[];
  archived: ColumnType<boolean, boolean | undefined, boolean>;
  revision: ColumnType<string | null, number | string | null | undefined, number | string | null>;
  updated_position: string | null;
  /** Generated: lower(unaccent(name)). */
  search_name: ColumnType<string, never, never>;
  /** Generated: weighted tsvector over name, muscles, equipment and category. */
  search_doc: ColumnType<string, never, never>;
  /** Generated: unstemmed tsvector of the name (prefix suggestions). */
  suggest_doc: ColumnType<string, never, never>;
}

/** One current body measurement (see migration 0005); deleted measurements have no row. */
export interface RmBodyMeasurementsTable {
  measurement_id: string;
  tenant_id: string;
  subject_id: string;
  metric: string;
  site: string | null;
  /** The canonical value: kg, %, m, bpm, mmHg (systolic), s or l by metric. */
  value_si: number;
  entered_value: number | null;
  entered_unit: string | null;
  systolic_mmhg: number | null;
  diastolic_mmhg: number | null;
  measured_at: Timestamp;
  note: string | null;
  revision: ColumnType<string, number | string, number | string>;
  updated_position: string;
}

/** A workout template at its current version (migration 0007). */
export interface RmTemplatesTable {
  template_id: string;
  tenant_id: string;
  subject_id: string;
  visibility: 'private' | 'organisation';
  name: string;
  notes: string | null;
  planned_sets: ColumnType<unknown, string, string>;
  version: number;
  archived: ColumnType<boolean, boolean | undefined, boolean>;
  use_count: ColumnType<number, number | undefined, number>;
  revision: ColumnType<string, number | string, number | string>;
  updated_position: string;
}

/** Every version a template had. */
export interface RmTemplateVersionsTable {
  template_id: string;
  version: number;
  name: string;
  notes: string | null;
  planned_sets: ColumnType<unknown, string, string>;
  visibility: string;
  recorded_at: Timestamp;
}

/** One person's current profile (see migration 0006); preference columns default to metric / off / private. */
export interface RmProfilesTable {
  subject_id: string;
  tenant_id: string;
  /** `date`: pg returns it as a Date at local midnight unless parsed as text; select it with to_char. */
  birth_date: ColumnType<Date | string | null, string | null | undefined, string | null>;
  sex: string | null;
  height_m: number | null;
  height_value: number | null;
  height_unit: string | null;
  weight_kg: number | null;
  weight_value: number | null;
  weight_unit: string | null;
  time_zone: string | null;
  locale: string | null;
  week_start: number | null;
  mass_unit: Generated<string>;
  length_unit: Generated<string>;
  distance_unit: Generated<string>;
  volume_unit: Generated<string>;
  notify_email: Generated<boolean>;
  notify_push: Generated<boolean>;
  notify_weekly_summary: Generated<boolean>;
  profile_visibility: Generated<string>;
  revision: BigIntColumn;
  updated_position: string;
}

/** A person's time-zone history: from `effective_from` on they live in `time_zone` (TimeZoneChanged). */
export interface RmProfileTimeZonesTable {
  subject_id: string;
  position: string;
  tenant_id: string;
  effective_from: Timestamp;
  time_zone: string;
}

/** A weekly plan (migration 0008); `definition` is the domain's PlanDefinition. */
export interface RmPlansTable {
  plan_id: string;
  tenant_id: string;
  subject_id: string;
  name: string;
  definition: ColumnType<unknown, string, string>;
  archived: ColumnType<boolean, boolean | undefined, boolean>;
  revision: ColumnType<string, number | string, number | string>;
  updated_position: string;
  /** The trainer who created it in the client's record (migration 0016); null for the person's own. */
  assigned_by: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A goal (migration 0009); `target` is the domain's GoalTarget. */
export interface RmGoalsTable {
  goal_id: string;
  tenant_id: string;
  subject_id: string;
  target: ColumnType<unknown, string, string>;
  starts_on: ColumnType<string, string, string>;
  ends_on: ColumnType<string, string, string>;
  status: 'active' | 'achieved' | 'missed' | 'cancelled';
  decided_at: ColumnType<Date | null, string | null | undefined, string | null>;
  decided_value: number | null;
  revision: ColumnType<string, number | string, number | string>;
  updated_position: string;
}

/** A trainer–client relationship (migration 0011). */
export interface RmCoachingTable {
  relationship_id: string;
  tenant_id: string;
  trainer_id: string;
  client_id: string;
  status: 'invited' | 'active' | 'ended';
  invited_at: Timestamp;
  accepted_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  revision: BigIntColumn;
  updated_position: string;
}

/** One consent as it stands (migration 0011); `version` is the subject's consent version when it last changed. */
export interface RmConsentsTable {
  consent_id: string;
  tenant_id: string;
  subject_id: string;
  purpose: string;
  trainer_id: string | null;
  scopes: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  provider: string | null;
  expires_at: NullableTimestamp;
  guardian_id: string | null;
  confirmed: boolean;
  withdrawn: boolean;
  given_at: Timestamp;
  version: number;
  updated_position: string;
}

/** An organisation (migration 0011). */
export interface RmOrganisationsTable {
  organisation_id: string;
  name: string;
  kind: string;
  created_at: Timestamp;
}

/** A membership (migration 0011): invited or active, with its role. Removed members have no row. */
export interface RmMembershipsTable {
  organisation_id: string;
  subject_id: string;
  role: string;
  status: 'invited' | 'active';
  updated_at: Timestamp;
  updated_position: string;
}

/** An emergency (break-glass) grant (migration 0012); unreviewed ones form the auditors' queue. */
export interface RmEmergencyAccessTable {
  grant_id: string;
  tenant_id: string;
  subject_id: string;
  opened_by: string;
  opened_at: Timestamp;
  expires_at: Timestamp;
  closed_at: NullableTimestamp;
  reviewed_by: string | null;
  review_outcome: string | null;
  updated_position: string;
}

/** The read-model schema (see migrations/). */
export interface ReadModelDb {
  rm_emergency_access: RmEmergencyAccessTable;
  rm_organisations: RmOrganisationsTable;
  rm_memberships: RmMembershipsTable;
  rm_coaching: RmCoachingTable;
  rm_consents: RmConsentsTable;
  rm_goals: RmGoalsTable;
  rm_plans: RmPlansTable;
  rm_profiles: RmProfilesTable;
  rm_profile_time_zones: RmProfileTimeZonesTable;
  rm_templates: RmTemplatesTable;
  rm_template_versions: RmTemplateVersionsTable;
  rm_body_measurements: RmBodyMeasurementsTable;
  rm_exercises: RmExercisesTable;
  /** rm_exercises as the reader role may see it (migration 0017): the exercise library reads this. */
  rm_exercises_visible: RmExercisesTable;
  projection_checkpoints: ProjectionCheckpointsTable;
  rm_workouts: RmWorkoutsTable;
  rm_workout_sets: RmWorkoutSetsTable;
  rm_personal_records: RmPersonalRecordsTable;
  rm_feed_changes: RmFeedChangesTable;
  feed_retention_horizon: FeedRetentionHorizonTable;
}

/**
 * The key of one row of `rm_feed_changes`: what changed for a subject at an event. Feed cursors are
 * the rows' `feed_id` (commit order), not this key. Commit listeners only learn which subjects to wake; feeds read the rows and
 * render their payloads (`feedPayload`).
 */
export interface FeedChange {
  readonly subjectId: string;
  readonly position: string;
  readonly seq: number;
  readonly kind: FeedKind;
  readonly entityId: string;
  readonly op: FeedOp;
}
