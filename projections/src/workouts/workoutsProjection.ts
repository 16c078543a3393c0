import {
  evolve,
  initialState,
  personalRecords,
  type ExercisePersonalRecords,
  type LoggedSet,
  type PersonalRecordSet,
  type WorkoutEvent,
  type WorkoutEventType,
  type WorkoutState,
} from '@fitledger/domain';
import { canonicalJson, type JsonValue } from '@fitledger/event-store';
import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import { arrayLiteral } from '../arrayLiteral';
import { lockFeedOrder } from '../feedOrder';
import { assignedByOf } from '../assignedBy';
import { yieldToEventLoop, type PreparedBatch, type Projection, type ProjectionLogger, type ReadableEvent } from '../projectionRunner';
import type { FeedChange, FeedOp, ReadModelDb, RmPersonalRecordsTable, RmWorkoutSetsTable, RmWorkoutsTable } from '../readModelDb';
import { setRow, stateFromRows, VolumeSum, workoutRow, type WorkoutIdentity, type WorkoutRow, type WorkoutSetRow } from './workoutRows';

export const WORKOUTS_PROJECTION = 'workouts';

const WORKOUT_EVENT_TYPES: ReadonlySet<WorkoutEventType> = new Set<WorkoutEventType>([
  'WorkoutPlanned',
  'WorkoutStarted',
  'SetLogged',
  'SetCorrected',
  'SetDeleted',
  'WorkoutCompleted',
  'WorkoutCancelled',
  'WorkoutCloned',
]);

/** Rows per INSERT statement: keeps every statement well below PostgreSQL's 65 535 parameters. */
const CHUNK = 1_000;

/** Events folded between two turns of the event loop (see foldBatch). */
const FOLD_SLICE = 500;

/** Workout models kept between batches, so a batch does not re-read every set of the workouts it touches. */
const MODEL_CACHE_SIZE = 10_000;

/** Set → workout entries kept for candidate personal-record holders. */
const HOLDER_CACHE_SIZE = 100_000;

interface WorkoutModel {
  identity: WorkoutIdentity;
  state: WorkoutState;
  /** Ordinal of every current set: its place in logging order, assigned when logged. */
  readonly ordinals: Map<string, number>;
  /** Largest value in `ordinals` (0 when empty): the next logged set gets one more. */
  maxOrdinal: number;
  /** Sets logged, corrected or deleted in this batch. */
  readonly changedSetIds: Set<string>;
  /** total_volume_kg over the current sets, updated by the changed sets when the batch is written. */
  readonly volume: VolumeSum;
}

interface PersonalRecordTouch {
  readonly subjectId: string;
  readonly exerciseId: string;
  /** Tenant and position of the last event of the batch that touched it. */
  tenantId: string;
  position: string;
  /**
   * Sets the batch newly logged for it, when that is all the batch did to it: then the record is
   * personalRecords() over its stored holders and these sets (see writePersonalRecords). Null when
   * anything else touched it (a correction, deletion or cancellation): recomputed from all sets.
   */
  newSets: { workoutId: string; setId: string }[] | null;
  /** With `newSets`: those of them that can hold a record, as rows (taken from the models by foldBatch). */
  newCandidates: CandidateRow[];
}

interface EventChanges {
  readonly subjectId: string;
  /** The event's organisation: its feed rows are visible in that organisation only. */
  readonly tenantId: string;
  readonly position: string;
  readonly workoutId: string;
  /** The set the event logged, corrected or deleted, if any. */
  readonly setId: string | null;
  readonly setDeleted: boolean;
  /** Keys of the personal records the event may have changed, in a stable order. */
  readonly recordKeys: readonly string[];
  /** The writing request's traceparent (event metadata), carried to the feed rows for the websocket push span. */
  readonly traceparent: string | null;
}

type PersonalRecordRow = Selectable<RmPersonalRecordsTable>;

const recordKey = (subjectId: string, exerciseId: string): string => `${subjectId}\u0000${exerciseId}`;

/**
 * Workouts, their current sets, personal records per (subject, exercise) and the per-subject change
 * feed, all in one projection because personal records are computed from the set rows and the feed
 * must commit with the rows it describes.
 *
 * Workout state is the domain's own `evolve` over rows loaded at the start of the batch; personal
 * records are `personalRecords()` over every current set of the subject's non-cancelled workouts.
 */
export function workoutsProjection(options: { logger?: ProjectionLogger } = {}): Projection {
  const logger = options.logger;
  const cache = new ModelCache(MODEL_CACHE_SIZE);
  const holderWorkouts = new HolderWorkouts(HOLDER_CACHE_SIZE);
  /** Models of batches prepared and not yet settled (newest batch wins): the next prepare looks here first. */
  const pending = new Map<string, { readonly model: WorkoutModel; readonly batch: object }>();
  /**
   * Bumped whenever everything kept is forgotten. A batch prepared in an earlier generation never
   * puts its models back into the cache, even if it commits: they may carry changes of a batch
   * that failed half-way through its prepare (models are changed in place).
   */
  let generation = 0;
  const forget = (): void => {
    generation++;
    cache.clear();
    pending.clear();
    holderWorkouts.clear();
  };

  const prepare = async (events: readonly ReadableEvent[], db: Kysely<ReadModelDb>): Promise<PreparedBatch> => {
    const workoutEvents = events.filter((e) => WORKOUT_EVENT_TYPES.has(e.type as WorkoutEventType));
    if (workoutEvents.length === 0) return { write: () => Promise.resolve([]), settle: () => undefined };
    const preparedIn = generation;
    let models: Map<string, WorkoutModel>;
    let folded: FoldedBatch;
    try {
      models = await loadModels(db, workoutEvents, cache, pending);
      folded = await foldBatch(models, workoutEvents, logger);
      // Forgotten meanwhile (an earlier batch failed while this one was prepared ahead): the models
      // this batch started from may not be what the rows will hold. The runner drops such a batch.
      if (generation !== preparedIn) throw new Error('the workouts projection forgot its models while a batch was prepared');
    } catch (error) {
      // Models may have been changed in place: nothing kept can be trusted any more.
      forget();
      throw error;
    }
    const batch = {};
    for (const model of models.values()) if (model.state.status !== 'none') pending.set(model.identity.workoutId, { model, batch });
    let settled = false;
    return {
      async write(trx) {
        await writeWorkouts(trx, folded.workouts);
        const changedRecords = await writePersonalRecords(trx, folded.touches, holderWorkouts);
        return writeFeed(trx, folded.perEvent, changedRecords);
      },
      settle(committed) {
        if (settled) return;
        settled = true;
        if (!committed) {
          forget();
          return;
        }
        if (generation !== preparedIn) return;
        for (const model of models.values()) {
          if (model.state.status === 'none') continue;
          cache.set(model);
          if (pending.get(model.identity.workoutId)?.batch === batch) pending.delete(model.identity.workoutId);
        }
      },
    };
  };

  return {
    name: WORKOUTS_PROJECTION,
    eventTypes: WORKOUT_EVENT_TYPES,

    async reset(trx) {
      forget();
      // The feed is shared with other projections: only this projection's kinds go.
      await sql`DELETE FROM rm_feed_changes WHERE kind IN ('workout', 'personal_record')`.execute(trx);
      await sql`TRUNCATE rm_personal_records, rm_workout_sets, rm_workouts`.execute(trx);
    },

    prepare,

    async apply(events, trx) {
      // Called outside a runner, which alone knows whether the transaction commits: keep nothing.
      const plan = await prepare(events, trx);
      try {
        return await plan.write(trx);
      } finally {
        plan.settle(false);
      }
    },
  };
}

/** What a batch writes, worked out before its transaction (see `prepare`). */
interface FoldedBatch {
  readonly workouts: WorkoutWrites;
  readonly touches: ReadonlyMap<string, PersonalRecordTouch>;
  readonly perEvent: readonly EventChanges[];
}

/**
 * Applies the events to their models and works out every row the batch writes, except personal
 * records (computed from the stored sets). Lets the event loop run every FOLD_SLICE events: the
 * previous batch's statements may be under way meanwhile, and their replies should not wait.
 */
async function foldBatch(models: Map<string, WorkoutModel>, workoutEvents: readonly ReadableEvent[], logger: ProjectionLogger | undefined): Promise<FoldedBatch> {
  const touches = new Map<string, PersonalRecordTouch>();
  const perEvent: EventChanges[] = [];
  for (const [index, recorded] of workoutEvents.entries()) {
    if (index > 0 && index % FOLD_SLICE === 0) await yieldToEventLoop();
    const applied = applyEvent(models, recorded);
    if (applied === undefined) {
      logger?.warn({ eventId: recorded.eventId, type: recorded.type, position: recorded.position }, 'event for a workout that does not exist: skipped');
      continue;
    }
    const { subjectId, tenantId } = recorded.metadata;
    const keys: string[] = [];
    for (const exerciseId of applied.exerciseIds) {
      const key = recordKey(subjectId, exerciseId);
      keys.push(key);
      const touch = touches.get(key);
      const newSet = applied.newSet && applied.setId !== null ? { workoutId: applied.workoutId, setId: applied.setId } : null;
      if (touch) {
        touch.tenantId = tenantId;
        touch.position = recorded.position;
        if (newSet === null) touch.newSets = null;
        else touch.newSets?.push(newSet);
      } else {
        touches.set(key, { subjectId, exerciseId, tenantId, position: recorded.position, newSets: newSet === null ? null : [newSet], newCandidates: [] });
      }
    }
    perEvent.push({
      subjectId,
      tenantId,
      position: recorded.position,
      workoutId: applied.workoutId,
      setId: applied.setId,
      setDeleted: applied.setDeleted,
      recordKeys: [...new Set(keys)].sort(),
      traceparent: typeof recorded.metadata['traceparent'] === 'string' ? recorded.metadata['traceparent'] : null,
    });
  }
  // Only newly logged sets still current at the end of the batch, in a workout that counts, extend
  // the stored records; their candidate rows are taken now, from the models as the batch leaves them.
  for (const touch of touches.values()) {
    if (touch.newSets === null) continue;
    for (const { workoutId, setId } of touch.newSets) {
      const candidate = newSetCandidate(models.get(workoutId), touch, workoutId, setId);
      if (candidate === null) {
        touch.newSets = null;
        touch.newCandidates = [];
        break;
      }
      if (candidate !== undefined) touch.newCandidates.push(candidate);
    }
  }
  return { workouts: workoutWrites(models), touches, perEvent };
}

/**
 * Workout models after the last committed batch, keyed by workout id, least recently used dropped
 * first. The projection is the only writer of its rows, so a model stays true while every batch
 * commits. Entries are not copied: the next batch that touches a workout works on its model in
 * place (copying every touched model twice per batch was a tenth of a rebuild's time in Node).
 * Whenever a batch does not commit (it failed, rolled back, found its checkpoint moved by another
 * runner, or was dropped unwritten) the runner settles it with `false` and the projection forgets
 * every model, so nothing a batch changed outlives it unless it committed.
 */
class ModelCache {
  private readonly models = new Map<string, WorkoutModel>();
  constructor(private readonly capacity: number) {}

  get(workoutId: string): WorkoutModel | undefined {
    return this.models.get(workoutId);
  }

  clear(): void {
    this.models.clear();
  }

  /** Least recently used models go first when full. */
  set(model: WorkoutModel): void {
    this.models.delete(model.identity.workoutId);
    this.models.set(model.identity.workoutId, model);
    if (this.models.size > this.capacity) {
      const oldest = this.models.keys().next();
      if (oldest.done !== true) this.models.delete(oldest.value);
    }
  }
}

/**
 * Models of the workouts the events touch: a model of a batch prepared and not yet settled, a cached
 * one, or one read from the committed rows (with its sets). A workout read from the rows is in no
 * batch still unsettled (those models are in `pending`), so its committed rows are its state.
 */
async function loadModels(
  db: Kysely<ReadModelDb>,
  events: readonly ReadableEvent[],
  cache: ModelCache,
  pending: ReadonlyMap<string, { readonly model: WorkoutModel }>,
): Promise<Map<string, WorkoutModel>> {
  const models = new Map<string, WorkoutModel>();
  const missing = new Set<string>();
  for (const event of events) {
    const id = workoutIdOf(event);
    if (models.has(id)) continue;
    const known = pending.get(id)?.model ?? cache.get(id);
    if (known === undefined) {
      missing.add(id);
      continue;
    }
    known.changedSetIds.clear();
    models.set(id, known);
  }
  if (missing.size === 0) return models;
  const misses = (await db.selectFrom('rm_workouts').selectAll().where(sql<boolean>`workout_id = ANY(${[...missing]}::uuid[])`).execute()) as WorkoutRow[];
  if (misses.length === 0) return models;

  const setRows = await db
    .selectFrom('rm_workout_sets')
    .selectAll()
    .where(sql<boolean>`workout_id = ANY(${misses.map((r) => r.workout_id)}::uuid[])`)
    .execute();
  const setsByWorkout = new Map<string, WorkoutSetRow[]>();
  for (const set of setRows) {
    const list = setsByWorkout.get(set.workout_id) ?? [];
    list.push(set);
    setsByWorkout.set(set.workout_id, list);
  }
  for (const row of misses) {
    const sets = setsByWorkout.get(row.workout_id) ?? [];
    let maxOrdinal = 0;
    for (const s of sets) maxOrdinal = Math.max(maxOrdinal, s.ordinal);
    const state = stateFromRows(row, sets);
    models.set(row.workout_id, {
      identity: {
        workoutId: row.workout_id,
        tenantId: row.tenant_id,
        subjectId: row.subject_id,
        revision: Number(row.revision),
        updatedPosition: row.updated_position,
        firstRecordedAt: row.first_recorded_at,
        ...(row.assigned_by === null ? {} : { assignedBy: row.assigned_by }),
      },
      state,
      ordinals: new Map(sets.map((s) => [s.set_id, s.ordinal])),
      maxOrdinal,
      changedSetIds: new Set(),
      volume: VolumeSum.of(state.sets),
    });
  }
  return models;
}

/** The uuid column hands ids back in lower case; key models the same way. */
function workoutIdOf(event: ReadableEvent): string {
  return (event.data as { workoutId: string }).workoutId.toLowerCase();
}

/** A workout written by a trainer for its subject names them (see assignedByOf). */
function assignedByOrNothing(recorded: ReadableEvent): { assignedBy?: string } {
  const by = assignedByOf(recorded);
  return by === null ? {} : { assignedBy: by };
}

/** Evolves the workout's model; returns the exercises whose personal records the event may change, or undefined when skipped. */
function applyEvent(
  models: Map<string, WorkoutModel>,
  recorded: ReadableEvent,
): { workoutId: string; exerciseIds: string[]; setId: string | null; setDeleted: boolean; newSet: boolean } | undefined {
  const event = { type: recorded.type, data: recorded.data } as WorkoutEvent;
  const workoutId = workoutIdOf(recorded);
  const model: WorkoutModel = models.get(workoutId) ?? {
    identity: {
      workoutId,
      tenantId: recorded.metadata.tenantId,
      subjectId: recorded.metadata.subjectId,
      revision: recorded.revision,
      updatedPosition: recorded.position,
      firstRecordedAt: recorded.recordedAt,
      ...assignedByOrNothing(recorded),
    },
    state: initialState(),
    ordinals: new Map(),
    maxOrdinal: 0,
    changedSetIds: new Set(),
    volume: new VolumeSum(),
  };
  const before = model.state;
  const after = evolve(before, event);
  // Only a plan, clone or start brings a workout into existence; the decider never emits anything else first.
  if (after.status === 'none') return undefined;

  let exerciseIds: string[] = [];
  let setId: string | null = null;
  let setDeleted = false;
  let newSet = false;
  switch (event.type) {
    case 'SetLogged': {
      setId = event.data.setId;
      if (!model.ordinals.has(setId)) {
        newSet = true;
        model.maxOrdinal += 1;
        model.ordinals.set(setId, model.maxOrdinal);
      }
      model.changedSetIds.add(setId);
      exerciseIds = [event.data.exerciseId];
      break;
    }
    case 'SetCorrected': {
      const previous = before.sets.find((s) => s.setId === event.data.setId);
      if (previous !== undefined) {
        setId = previous.setId;
        model.changedSetIds.add(previous.setId);
        exerciseIds = [previous.exerciseId, event.data.exerciseId];
      }
      break;
    }
    case 'SetDeleted': {
      const previous = before.sets.find((s) => s.setId === event.data.setId);
      if (previous !== undefined) {
        setId = previous.setId;
        setDeleted = true;
        model.changedSetIds.add(previous.setId);
        const ordinal = model.ordinals.get(previous.setId);
        model.ordinals.delete(previous.setId);
        // Deleting the newest set frees its ordinal for the next one, as a reload from the rows would.
        if (ordinal === model.maxOrdinal) {
          model.maxOrdinal = 0;
          for (const o of model.ordinals.values()) model.maxOrdinal = Math.max(model.maxOrdinal, o);
        }
        exerciseIds = [previous.exerciseId];
      }
      break;
    }
    case 'WorkoutCancelled':
      // Its sets stay in rm_workout_sets but stop counting towards personal records.
      if (before.status !== 'cancelled') exerciseIds = before.sets.map((s) => s.exerciseId);
      break;
    case 'WorkoutPlanned':
    case 'WorkoutCloned':
    case 'WorkoutStarted':
    case 'WorkoutCompleted':
      break;
    default: {
      const _: never = event;
      return undefined;
    }
  }
  model.state = after;
  model.identity = { ...model.identity, revision: recorded.revision, updatedPosition: recorded.position };
  models.set(workoutId, model);
  return { workoutId, exerciseIds, setId, setDeleted, newSet };
}

/** The rm_workouts and rm_workout_sets rows a batch writes. */
interface WorkoutWrites {
  readonly workouts: readonly Insertable<RmWorkoutsTable>[];
  readonly setUpserts: readonly Insertable<RmWorkoutSetsTable>[];
  readonly setDeletes: { readonly workoutIds: readonly string[]; readonly setIds: readonly string[] };
}

/** Every touched workout's row and its changed sets' rows, from the models at the end of the batch (the volume moves with the changed sets here). */
function workoutWrites(models: ReadonlyMap<string, WorkoutModel>): WorkoutWrites {
  const workouts: Insertable<RmWorkoutsTable>[] = [];
  const setUpserts: Insertable<RmWorkoutSetsTable>[] = [];
  const setDeletes = { workoutIds: [] as string[], setIds: [] as string[] };
  for (const model of models.values()) {
    if (model.state.status === 'none') continue;
    if (model.changedSetIds.size > 0) {
      // The current version of every changed set: the last in the list (evolve appends), so the
      // search runs from the end and stops once every changed set still there is found.
      const current = new Map<string, LoggedSet>();
      const sets = model.state.sets;
      for (let i = sets.length - 1; i >= 0 && current.size < model.changedSetIds.size; i--) {
        const set = sets[i] as LoggedSet;
        if (model.changedSetIds.has(set.setId) && !current.has(set.setId)) current.set(set.setId, set);
      }
      for (const setId of model.changedSetIds) {
        const set = current.get(setId);
        const ordinal = model.ordinals.get(setId);
        model.volume.set(setId, ordinal === undefined ? undefined : set);
        if (set !== undefined && ordinal !== undefined) {
          setUpserts.push(setRow(model.identity, set, ordinal));
        } else {
          setDeletes.workoutIds.push(model.identity.workoutId);
          setDeletes.setIds.push(setId);
        }
      }
    }
    workouts.push(workoutRow(model.identity, model.state, model.volume.toString()));
  }
  return { workouts, setUpserts, setDeletes };
}

async function writeWorkouts(trx: Transaction<ReadModelDb>, writes: WorkoutWrites): Promise<void> {
  if (writes.workouts.length > 0) await upsertRows(trx, 'rm_workouts', WORKOUT_COLUMNS, ['workout_id'], writes.workouts);
  if (writes.setDeletes.setIds.length > 0) {
    await sql`DELETE FROM rm_workout_sets s USING unnest(${writes.setDeletes.workoutIds}::uuid[], ${writes.setDeletes.setIds}::uuid[]) AS d(workout_id, set_id)
               WHERE s.workout_id = d.workout_id AND s.set_id = d.set_id`.execute(trx);
  }
  if (writes.setUpserts.length > 0) await upsertRows(trx, 'rm_workout_sets', SET_COLUMNS, ['workout_id', 'set_id'], writes.setUpserts);
}

/** Column types of rm_workout_sets, in insert order. */
const SET_COLUMNS = [
  ['workout_id', 'uuid'],
  ['set_id', 'uuid'],
  ['ordinal', 'int'],
  ['exercise_id', 'text'],
  ['reps', 'int'],
  ['load_value', 'numeric'],
  ['load_unit', 'text'],
  ['load_kg', 'numeric'],
  ['duration_s', 'numeric'],
  ['distance_value', 'numeric'],
  ['distance_unit', 'text'],
  ['distance_m', 'numeric'],
  ['rpe', 'numeric'],
  ['heart_rate_bpm', 'int'],
  ['warm_up', 'bool'],
  ['to_failure', 'bool'],
  ['superset_group', 'text'],
  ['rest_before_s', 'numeric'],
  ['notes', 'text'],
  ['custom_fields', 'jsonb'],
  ['occurred_at', 'timestamptz'],
  ['tenant_id', 'text'],
  ['subject_id', 'text'],
] as const satisfies readonly (readonly [keyof RmWorkoutSetsTable, string])[];

/** Column types of rm_workouts, in insert order. A `text[]` column travels as a JSON array (unnest would flatten an array of arrays). */
const WORKOUT_COLUMNS = [
  ['workout_id', 'uuid'],
  ['tenant_id', 'text'],
  ['subject_id', 'text'],
  ['status', 'text'],
  ['title', 'text'],
  ['planned_for', 'timestamptz'],
  ['started_at', 'timestamptz'],
  ['completed_at', 'timestamptz'],
  ['cancelled_at', 'timestamptz'],
  ['perceived_exertion', 'numeric'],
  ['energy_kcal', 'numeric'],
  ['notes', 'text'],
  ['location', 'jsonb'],
  ['exercise_ids', 'text[]'],
  ['set_count', 'int'],
  ['total_volume_kg', 'numeric'],
  ['revision', 'bigint'],
  ['sort_at', 'timestamptz'],
  ['updated_position', 'text'],
  ['source_workout_id', 'uuid'],
  ['planned_sets', 'jsonb'],
  ['first_recorded_at', 'timestamptz'],
  ['assigned_by', 'text'],
] as const satisfies readonly (readonly [keyof RmWorkoutsTable, string])[];

/**
 * Inserts or updates `rows` in one statement with an array parameter per column: a VALUES list of
 * thousands of rows costs PostgreSQL more to parse and plan than to run, and kysely more to build.
 */
async function upsertRows<Table extends 'rm_workouts' | 'rm_workout_sets'>(
  trx: Transaction<ReadModelDb>,
  table: Table,
  columns: readonly (readonly [keyof ReadModelDb[Table] & string, string])[],
  key: readonly string[],
  rows: readonly Insertable<ReadModelDb[Table]>[],
): Promise<void> {
  const values = (name: string): unknown[] => rows.map((r) => (r as Record<string, unknown>)[name] ?? null);
  const params = columns.map(([name, type]) =>
    type === 'text[]'
      ? sql`${arrayLiteral(values(name).map((v) => (v === null ? null : JSON.stringify(v))))}::jsonb[]`
      : sql`${arrayLiteral(values(name))}::${sql.raw(type)}[]`,
  );
  const selected = sql.raw(
    columns.map(([, type], i) => (type === 'text[]' ? `ARRAY(SELECT jsonb_array_elements_text(u.c${i}))` : `u.c${i}`)).join(', '),
  );
  const aliases = sql.raw(columns.map((_, i) => `c${i}`).join(', '));
  const names = sql.raw(columns.map(([name]) => name).join(', '));
  const updates = sql.raw(
    columns
      .filter(([name]) => !key.includes(name))
      .map(([name]) => `${name} = excluded.${name}`)
      .join(', '),
  );
  await sql`INSERT INTO ${sql.table(table)} (${names}) SELECT ${selected} FROM unnest(${sql.join(params)}) AS u(${aliases})
             ON CONFLICT (${sql.raw(key.join(', '))}) DO UPDATE SET ${updates}`.execute(trx);
}

/**
 * Recomputes the touched personal records from the stored sets; writes only those whose values
 * changed. Returns the keys of the changed records, with what became of each (upserted or deleted).
 */
async function writePersonalRecords(
  trx: Transaction<ReadModelDb>,
  touches: ReadonlyMap<string, PersonalRecordTouch>,
  holderWorkouts: HolderWorkouts,
): Promise<Map<string, FeedOp>> {
  const changed = new Map<string, FeedOp>();
  if (touches.size === 0) return changed;
  const subjects = [...touches.values()].map((t) => t.subjectId);
  const exercises = [...touches.values()].map((t) => t.exerciseId);
  const pairs = sql`SELECT * FROM unnest(${subjects}::text[], ${exercises}::text[]) AS t(subject_id, exercise_id)`;

  const existing = await sql<PersonalRecordRow>`SELECT p.* FROM rm_personal_records p WHERE (p.subject_id, p.exercise_id) IN (${pairs})`.execute(trx);
  const existingByKey = new Map(existing.rows.map((r) => [recordKey(r.subject_id, r.exercise_id), r]));
  const recompute = [...touches].filter(([, t]) => t.newSets === null);
  const extend = [...touches].filter(([, t]) => t.newSets !== null);
  const sets = [
    ...(recompute.length === 0 ? [] : await recordCandidates(trx, recompute.map(([, t]) => t))),
    ...(extend.length === 0 ? [] : await extendedCandidates(trx, extend, existingByKey, holderWorkouts)),
  ];
  for (const c of sets) holderWorkouts.set(c.set_id, c.workout_id);

  const setsByKey = new Map<string, PersonalRecordSet[]>();
  for (const s of sets) {
    const key = recordKey(s.subject_id, s.exercise_id);
    const list = setsByKey.get(key) ?? [];
    list.push({ setId: s.set_id, exerciseId: s.exercise_id, reps: s.reps, loadKg: Number(s.load_kg), warmUp: s.warm_up });
    setsByKey.set(key, list);
  }

  const upserts: Insertable<RmPersonalRecordsTable>[] = [];
  const deletes: { subjects: string[]; exercises: string[] } = { subjects: [], exercises: [] };
  for (const [key, touch] of touches) {
    const records = personalRecords(setsByKey.get(key) ?? [])[touch.exerciseId];
    const current = existingByKey.get(key);
    if (records === undefined) {
      if (current !== undefined) {
        deletes.subjects.push(touch.subjectId);
        deletes.exercises.push(touch.exerciseId);
        changed.set(key, 'delete');
      }
      continue;
    }
    const row = personalRecordRow(touch, records);
    if (current !== undefined && sameRecords(current, row)) continue;
    upserts.push(row);
    changed.set(key, 'upsert');
  }
  if (deletes.subjects.length > 0) {
    await sql`DELETE FROM rm_personal_records p USING unnest(${deletes.subjects}::text[], ${deletes.exercises}::text[]) AS d(subject_id, exercise_id)
               WHERE p.subject_id = d.subject_id AND p.exercise_id = d.exercise_id`.execute(trx);
  }
  for (const chunk of chunks(upserts)) {
    await trx
      .insertInto('rm_personal_records')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['subject_id', 'exercise_id']).doUpdateSet((eb) => ({
          tenant_id: eb.ref('excluded.tenant_id'),
          one_rm_kg: eb.ref('excluded.one_rm_kg'),
          three_rm_kg: eb.ref('excluded.three_rm_kg'),
          five_rm_kg: eb.ref('excluded.five_rm_kg'),
          ten_rm_kg: eb.ref('excluded.ten_rm_kg'),
          epley_kg: eb.ref('excluded.epley_kg'),
          brzycki_kg: eb.ref('excluded.brzycki_kg'),
          best_volume_kg: eb.ref('excluded.best_volume_kg'),
          updated_position: eb.ref('excluded.updated_position'),
          records: eb.ref('excluded.records'),
        })),
      )
      .execute();
  }
  return changed;
}

type CandidateRow = { subject_id: string; exercise_id: string; set_id: string; workout_id: string; reps: number; load_kg: string; warm_up: boolean; occurred_at: Date; ordinal: number };

/**
 * Workout of recent candidate record holders, so the next batch finds a holder by primary key. A
 * set never moves to another workout, so an entry stays true whatever commits or rolls back; a
 * missing one only costs the scan over the subject's sets of the exercise.
 */
class HolderWorkouts {
  private readonly workouts = new Map<string, string>();
  constructor(private readonly capacity: number) {}
  get(setId: string): string | undefined {
    return this.workouts.get(setId);
  }
  clear(): void {
    this.workouts.clear();
  }
  set(setId: string, workoutId: string): void {
    if (this.workouts.size >= this.capacity && !this.workouts.has(setId)) this.workouts.clear();
    this.workouts.set(setId, workoutId);
  }
}

/** Candidate record holders among all the subject's current sets of each touched exercise, in the order personalRecords() breaks ties by. */
async function recordCandidates(trx: Transaction<ReadModelDb>, touches: readonly PersonalRecordTouch[]): Promise<CandidateRow[]> {
  const pairs = sql`SELECT * FROM unnest(${touches.map((t) => t.subjectId)}::text[], ${touches.map((t) => t.exerciseId)}::text[]) AS t(subject_id, exercise_id)`;
  // Only the sets that can hold a record are loaded: for each metric, those at (or within a
  // rounding hair of) the maximum that PostgreSQL computes over all the subject's sets of the
  // exercise. personalRecords() over this superset of the winners equals personalRecords() over
  // every set, at the cost of one aggregate scan instead of shipping the whole history per batch.
  // Ties go to the earlier set (personalRecords keeps the first): order by when sets were done.
  const sets = await sql<CandidateRow>`
    WITH q AS (
      SELECT s.subject_id, s.exercise_id, s.set_id, s.reps, s.load_kg, s.warm_up, s.occurred_at, s.workout_id, s.ordinal,
             CASE WHEN s.reps = 1 THEN s.load_kg ELSE s.load_kg * (1 + s.reps / 30.0) END AS epley,
             CASE WHEN s.reps < 37 THEN s.load_kg * 36 / (37 - s.reps) END AS brzycki,
             s.load_kg * s.reps AS volume
        FROM rm_workout_sets s JOIN rm_workouts w ON w.workout_id = s.workout_id
       WHERE (s.subject_id, s.exercise_id) IN (${pairs})
         AND w.status <> 'cancelled' AND NOT s.warm_up AND s.load_kg > 0 AND s.reps >= 1
    ), m AS (
      SELECT subject_id, exercise_id,
             max(load_kg) FILTER (WHERE reps >= 1) AS r1, max(load_kg) FILTER (WHERE reps >= 3) AS r3,
             max(load_kg) FILTER (WHERE reps >= 5) AS r5, max(load_kg) FILTER (WHERE reps >= 10) AS r10,
             max(epley) AS epley, max(brzycki) AS brzycki, max(volume) AS volume
        FROM q GROUP BY subject_id, exercise_id
    )
    SELECT q.subject_id, q.exercise_id, q.set_id, q.workout_id, q.reps, q.load_kg, q.warm_up, q.occurred_at, q.ordinal
      FROM q JOIN m ON m.subject_id = q.subject_id AND m.exercise_id = q.exercise_id
     WHERE q.load_kg >= m.r1 * 0.999999
        OR (q.reps >= 3 AND q.load_kg >= m.r3 * 0.999999)
        OR (q.reps >= 5 AND q.load_kg >= m.r5 * 0.999999)
        OR (q.reps >= 10 AND q.load_kg >= m.r10 * 0.999999)
        OR q.epley >= m.epley * 0.999999
        OR q.brzycki >= m.brzycki * 0.999999
        OR q.volume >= m.volume * 0.999999
     ORDER BY q.occurred_at, q.workout_id, q.ordinal`.execute(trx);

  return sets.rows;
}

/**
 * For exercises the batch only added sets to: the stored record holders plus the new sets, in the
 * same order. personalRecords() keeps, per record, the first set (in that order) with the largest
 * value; the old sets' first such set is the stored holder, so the first over the holders and the
 * new sets is the first over all sets. Holders are sets of non-cancelled workouts (a cancellation
 * recomputes), and the new sets were checked to be current and in non-cancelled workouts.
 *
 * The new sets' rows come with the touch (foldBatch took them from the models); only the holders
 * are read, by primary key when their workout is known.
 */
async function extendedCandidates(
  trx: Transaction<ReadModelDb>,
  touches: readonly (readonly [string, PersonalRecordTouch])[],
  existingByKey: ReadonlyMap<string, PersonalRecordRow>,
  holderWorkouts: HolderWorkouts,
): Promise<CandidateRow[]> {
  const found = new Map<string, CandidateRow>();
  for (const [, touch] of touches) for (const candidate of touch.newCandidates) found.set(candidate.set_id, candidate);
  const byKey = { subjects: [] as string[], exercises: [] as string[], workoutIds: [] as string[], setIds: [] as string[] };
  /** Per exercise, its holders' set ids joined by commas (their workout not known). */
  const holders = { subjects: [] as string[], exercises: [] as string[], setIds: [] as string[] };
  for (const [key, touch] of touches) {
    const records = existingByKey.get(key)?.records as ExercisePersonalRecords | undefined;
    if (records === undefined) continue;
    const ids = new Set<string>();
    for (const ref of [...Object.values(records.repMax), records.estimatedOneRepMax.epley, records.estimatedOneRepMax.brzycki, records.bestSetVolume]) {
      if (ref !== undefined) ids.add(ref.setId);
    }
    for (const setId of ids) {
      const workoutId = holderWorkouts.get(setId);
      if (workoutId === undefined) continue;
      ids.delete(setId);
      if (found.has(setId)) continue;
      // Known workout: looked up by primary key.
      byKey.subjects.push(touch.subjectId);
      byKey.exercises.push(touch.exerciseId);
      byKey.workoutIds.push(workoutId);
      byKey.setIds.push(setId);
    }
    if (ids.size === 0) continue;
    holders.subjects.push(touch.subjectId);
    holders.exercises.push(touch.exerciseId);
    holders.setIds.push([...ids].join(','));
  }
  if (byKey.setIds.length > 0 || holders.setIds.length > 0) {
    const result = await sql<CandidateRow>`
      WITH c AS (
        SELECT s.subject_id, s.exercise_id, s.set_id, s.reps, s.load_kg, s.warm_up, s.occurred_at, s.workout_id, s.ordinal
          FROM unnest(${byKey.subjects}::text[], ${byKey.exercises}::text[], ${byKey.workoutIds}::uuid[], ${byKey.setIds}::uuid[]) AS n(subject_id, exercise_id, workout_id, set_id)
          -- OFFSET 0 keeps the lookup by primary key (right after a TRUNCATE the planner would hash the whole table).
          CROSS JOIN LATERAL (SELECT * FROM rm_workout_sets s WHERE s.workout_id = n.workout_id AND s.set_id = n.set_id OFFSET 0) s
         WHERE s.subject_id = n.subject_id AND s.exercise_id = n.exercise_id
        UNION
        SELECT s.subject_id, s.exercise_id, s.set_id, s.reps, s.load_kg, s.warm_up, s.occurred_at, s.workout_id, s.ordinal
          FROM unnest(${holders.subjects}::text[], ${holders.exercises}::text[], ${holders.setIds}::text[]) AS h(subject_id, exercise_id, set_ids)
          JOIN rm_workout_sets s ON s.subject_id = h.subject_id AND s.exercise_id = h.exercise_id AND s.set_id = ANY(string_to_array(h.set_ids, ',')::uuid[])
      )
      SELECT c.subject_id, c.exercise_id, c.set_id, c.workout_id, c.reps, c.load_kg, c.warm_up, c.occurred_at, c.ordinal
        FROM c JOIN rm_workouts w ON w.workout_id = c.workout_id
       WHERE w.status <> 'cancelled' AND NOT c.warm_up AND c.load_kg > 0 AND c.reps >= 1`.execute(trx);
    for (const row of result.rows) if (!found.has(row.set_id)) found.set(row.set_id, row);
  }
  // The order recordCandidates' SQL gives: when the set was done, then workout id and ordinal.
  return [...found.values()].sort(
    (a, b) => a.occurred_at.getTime() - b.occurred_at.getTime() || (a.workout_id < b.workout_id ? -1 : a.workout_id > b.workout_id ? 1 : a.ordinal - b.ordinal),
  );
}

/**
 * A set the batch newly logged, as a candidate record holder: null when it does not extend the
 * stored records after all (gone, moved, or its workout is cancelled: the records are recomputed),
 * undefined when it cannot hold a record (warm-up, no load or no reps).
 */
function newSetCandidate(model: WorkoutModel | undefined, touch: PersonalRecordTouch, workoutId: string, setId: string): CandidateRow | null | undefined {
  if (model === undefined || model.state.status === 'none' || model.state.status === 'cancelled') return null;
  const ordinal = model.ordinals.get(setId);
  if (ordinal === undefined || model.identity.subjectId !== touch.subjectId) return null;
  const set = currentSet(model, setId);
  if (set === undefined || set.exerciseId !== touch.exerciseId) return null;
  if (set.warmUp || set.loadKg === undefined || !(set.loadKg > 0) || set.reps === undefined || set.reps < 1) return undefined;
  return {
    subject_id: touch.subjectId,
    exercise_id: touch.exerciseId,
    set_id: setId,
    workout_id: workoutId,
    reps: set.reps,
    load_kg: String(set.loadKg),
    warm_up: false,
    occurred_at: new Date(set.occurredAt),
    ordinal,
  };
}

/** The set's current version: the last in the list (evolve appends); a set logged in this batch is near the end. */
function currentSet(model: WorkoutModel, setId: string): LoggedSet | undefined {
  const sets = model.state.sets;
  for (let i = sets.length - 1; i >= 0; i--) if ((sets[i] as LoggedSet).setId === setId) return sets[i];
  return undefined;
}

function personalRecordRow(touch: PersonalRecordTouch, records: ExercisePersonalRecords): Insertable<RmPersonalRecordsTable> {
  return {
    subject_id: touch.subjectId,
    exercise_id: touch.exerciseId,
    tenant_id: touch.tenantId,
    one_rm_kg: records.repMax[1]?.loadKg ?? null,
    three_rm_kg: records.repMax[3]?.loadKg ?? null,
    five_rm_kg: records.repMax[5]?.loadKg ?? null,
    ten_rm_kg: records.repMax[10]?.loadKg ?? null,
    epley_kg: records.estimatedOneRepMax.epley?.estimatedKg ?? null,
    brzycki_kg: records.estimatedOneRepMax.brzycki?.estimatedKg ?? null,
    best_volume_kg: records.bestSetVolume?.volumeKg ?? null,
    updated_position: touch.position,
    records: JSON.stringify(records),
  };
}

/** Same values and same record-holding sets (tenant and position alone do not make a change). */
function sameRecords(current: PersonalRecordRow, next: Insertable<RmPersonalRecordsTable>): boolean {
  const columns = ['one_rm_kg', 'three_rm_kg', 'five_rm_kg', 'ten_rm_kg', 'epley_kg', 'brzycki_kg', 'best_volume_kg'] as const;
  for (const column of columns) {
    const a = current[column];
    const b = next[column];
    if ((a === null) !== (b === null || b === undefined)) return false;
    if (a !== null && Number(a) !== Number(b)) return false;
  }
  return canonicalJson(current.records as JsonValue) === canonicalJson(JSON.parse(next.records) as JsonValue);
}

/**
 * One change per entity an event changed, seq numbered from 0 within the event's position: its
 * workout first, then the personal records it moved (sorted by exercise id). The rows hold keys,
 * not copies of the entities: readers render them from the read model (`feedPayload`). A workout
 * change also names the set the event logged or corrected, or deleted (`set_deleted`). One
 * statement for the whole batch.
 */
async function writeFeed(trx: Transaction<ReadModelDb>, perEvent: readonly EventChanges[], changedRecords: ReadonlyMap<string, FeedOp>): Promise<FeedChange[]> {
  const changes: FeedChange[] = [];
  const rows = { tenantIds: [] as string[], setIds: [] as (string | null)[], setDeleted: [] as boolean[], traceparents: [] as (string | null)[] };
  const add = (change: FeedChange, e: EventChanges, setId: string | null, setDeleted: boolean): void => {
    changes.push(change);
    rows.tenantIds.push(e.tenantId);
    rows.setIds.push(setId);
    rows.setDeleted.push(setDeleted);
    rows.traceparents.push(e.traceparent);
  };
  for (const e of perEvent) {
    let seq = 0;
    add({ subjectId: e.subjectId, position: e.position, seq: seq++, kind: 'workout', entityId: e.workoutId, op: 'upsert' }, e, e.setId, e.setDeleted);
    for (const key of e.recordKeys) {
      const op = changedRecords.get(key);
      if (op === undefined) continue;
      add({ subjectId: e.subjectId, position: e.position, seq: seq++, kind: 'personal_record', entityId: key.slice(key.indexOf('\u0000') + 1), op }, e, null, false);
    }
  }
  if (changes.length === 0) return changes;
  await lockFeedOrder(trx);
  await sql`
    INSERT INTO rm_feed_changes (subject_id, position, seq, kind, entity_id, op, set_id, set_deleted, traceparent, tenant_id)
    SELECT * FROM unnest(${arrayLiteral(changes.map((c) => c.subjectId))}::text[], ${arrayLiteral(changes.map((c) => c.position))}::text[], ${arrayLiteral(changes.map((c) => c.seq))}::int[],
                         ${arrayLiteral(changes.map((c) => c.kind))}::text[], ${arrayLiteral(changes.map((c) => c.entityId))}::text[], ${arrayLiteral(changes.map((c) => c.op))}::text[],
                         ${arrayLiteral(rows.setIds)}::uuid[], ${arrayLiteral(rows.setDeleted)}::bool[], ${arrayLiteral(rows.traceparents)}::text[],
                         ${arrayLiteral(rows.tenantIds)}::text[])`.execute(trx);
  return changes;
}

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
  return out;
}
