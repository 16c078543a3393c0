import type { UnitPreferences } from '@fitledger/domain';
import type { ReadModelDb } from '@fitledger/projections';
import { stringify } from 'csv-stringify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { pipeline, Readable } from 'node:stream';
import { BODY_METRIC_NAMES, bodyMeasurement, type BodyMetricName } from '../bodyMeasurementRepresentation';
import type { ReadScope, ReadScopeResolver } from '../readScope';
import { loadUnitPreferences } from '../unitPreferences';
import { workoutSet } from '../workoutRepresentation';
import { assertRange, authProblemResponses, PRIVATE_CACHE_HEADERS, readScopeOf } from './readContext';

/** Rows read per query: memory stays bounded however long the export is. */
export const EXPORT_BATCH_ROWS = 1_000;

export const WORKOUT_EXPORT_COLUMNS = [
  'workout_id',
  'title',
  'status',
  'planned_for',
  'started_at',
  'completed_at',
  'perceived_exertion',
  'set_id',
  'exercise_id',
  'occurred_at',
  'reps',
  'load',
  'load_unit',
  'duration_s',
  'distance',
  'distance_unit',
  'rpe',
  'warm_up',
  'failure',
  'notes',
] as const;

export const BODY_METRIC_EXPORT_COLUMNS = [
  'measurement_id',
  'metric',
  'site',
  'measured_at',
  'value',
  'unit',
  'entered_value',
  'entered_unit',
  'systolic_mmhg',
  'diastolic_mmhg',
  'note',
] as const;

type CsvCell = string | number | boolean | null;
type CsvRecord<C extends string> = Record<C, CsvCell>;

/** First characters a spreadsheet reads as the start of a formula (OWASP "CSV Injection"). */
const FORMULA_TRIGGERS: ReadonlySet<string> = new Set(['=', '+', '-', '@', '\t', '\r']);

/**
 * A free-text cell a spreadsheet will show as text rather than run as a formula: a leading `'`
 * when it starts with =, +, -, @, tab or carriage return (https://owasp.org/www-community/attacks/CSV_Injection).
 */
export function spreadsheetSafeText(text: string | null): string | null {
  if (text === null || text.length === 0) return text;
  return FORMULA_TRIGGERS.has(text.charAt(0)) ? `'${text}` : text;
}

/** A number rounded to at most 3 decimal places, as every number in an export is (spreadsheet-friendly). */
export function csvNumber(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return null;
  const rounded = Math.round(n * 1000) / 1000;
  return Object.is(rounded, -0) ? 0 : rounded;
}

const isoInstant = (value: Date | null): string | null => (value === null ? null : value.toISOString());

/** The keyset of a timestamptz at full (microsecond) precision, as text PostgreSQL casts back exactly. */
const instantKey = (column: string) => sql<string>`to_char(${sql.ref(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const rangeQuerystring = {
  from: { type: 'string', format: 'date-time', description: 'Only rows at or after this instant.' },
  to: { type: 'string', format: 'date-time', description: 'Only rows before this instant.' },
} as const;

function csvResponse(description: string) {
  return {
    200: { description, content: { 'text/csv': { schema: { type: 'string' } } } },
    ...authProblemResponses,
  } as const;
}

const NUMBERS_NOTE =
  'Every number is rounded to at most 3 decimal places; empty cells are absent values. Free text (titles, notes, sites) starting with =, +, -, @, tab or CR gets a leading `\'` so spreadsheets do not run it as a formula. RFC 4180 CSV (CRLF, header row), UTF-8, streamed.';

interface RangeQuery {
  from?: string;
  to?: string;
}

interface BodyMetricsQuery extends RangeQuery {
  metric?: BodyMetricName;
}

/**
 * Yields every row of a keyset-paginated query, `EXPORT_BATCH_ROWS` at a time: `first`, then what
 * `fetch` answers after the last row yielded, until a batch comes back short.
 */
async function* keysetRows<Row>(first: readonly Row[], fetch: (last: Row) => Promise<Row[]>): AsyncGenerator<Row> {
  let batch = first;
  for (;;) {
    yield* batch;
    const last = batch.at(-1);
    if (batch.length < EXPORT_BATCH_ROWS || last === undefined) return;
    batch = await fetch(last);
  }
}

/** Names what went wrong without any of the error's text, which may quote row values (PHI). */
function errorSummary(error: unknown): { name: string; code?: string } {
  const name = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { name, code } : { name };
}

/**
 * Streams `records` as CSV into the reply. The status and headers go out with the first bytes; an
 * error after that destroys the stream (the client sees a truncated body, never a partial file
 * that looks complete) and is logged by name and code only.
 */
function sendCsv<C extends string>(
  reply: FastifyReply,
  log: FastifyBaseLogger,
  options: { filename: string; columns: readonly C[]; records: AsyncIterable<CsvRecord<C>> },
): FastifyReply {
  const { filename, columns, records } = options;
  async function* guarded(): AsyncGenerator<CsvRecord<C>> {
    let count = 0;
    try {
      for await (const record of records) {
        yield record;
        count += 1;
      }
    } catch (error) {
      log.error({ export: filename, recordsSent: count, error: errorSummary(error) }, 'export failed; response truncated');
      throw new Error(`export ${filename} failed`);
    }
  }
  const csv = stringify({
    header: true,
    columns: [...columns],
    record_delimiter: 'windows',
    cast: { boolean: (value) => (value ? 'true' : 'false') },
  });
  // Errors are logged in `guarded`; a client that goes away destroys `csv` (fastify), which stops the reads.
  pipeline(Readable.from(guarded()), csv, () => undefined);
  return reply
    .headers({
      ...PRIVATE_CACHE_HEADERS,
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
    })
    .send(csv);
}

interface WorkoutExportRow {
  workout_id: string;
  title: string | null;
  status: string;
  planned_for: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  perceived_exertion: string | null;
  set_id: string | null;
  ordinal: number | null;
  exercise_id: string | null;
  occurred_at: Date | null;
  reps: number | null;
  load_kg: string | null;
  duration_s: string | null;
  distance_m: string | null;
  rpe: string | null;
  warm_up: boolean | null;
  to_failure: boolean | null;
  set_notes: string | null;
  sort_key: string;
}

function workoutRecord(row: WorkoutExportRow, preferences: UnitPreferences): CsvRecord<(typeof WORKOUT_EXPORT_COLUMNS)[number]> {
  // The JSON API's own mapping, so a CSV value is the `display` value the API shows, rounded.
  const set = row.set_id === null ? undefined : workoutSet({ ...row, notes: row.set_notes }, preferences);
  return {
    workout_id: row.workout_id,
    title: spreadsheetSafeText(row.title),
    status: row.status,
    planned_for: isoInstant(row.planned_for),
    started_at: isoInstant(row.started_at),
    completed_at: isoInstant(row.completed_at),
    perceived_exertion: csvNumber(row.perceived_exertion),
    set_id: set?.setId ?? null,
    exercise_id: set?.exerciseId ?? null,
    occurred_at: set?.occurredAt ?? null,
    reps: set?.reps ?? null,
    load: csvNumber(set?.display?.load?.value),
    load_unit: set?.display?.load?.unit ?? null,
    duration_s: csvNumber(set?.durationS),
    distance: csvNumber(set?.display?.distance?.value),
    distance_unit: set?.display?.distance?.unit ?? null,
    rpe: csvNumber(set?.rpe),
    warm_up: set?.warmUp ?? null,
    failure: set?.toFailure ?? null,
    notes: spreadsheetSafeText(set?.notes ?? null),
  };
}

interface BodyMeasurementExportRow {
  measurement_id: string;
  metric: string;
  site: string | null;
  value_si: number;
  entered_value: number | null;
  entered_unit: string | null;
  systolic_mmhg: number | null;
  diastolic_mmhg: number | null;
  measured_at: Date;
  note: string | null;
  revision: string;
  measured_key: string;
}

function bodyMeasurementRecord(row: BodyMeasurementExportRow, preferences: UnitPreferences): CsvRecord<(typeof BODY_METRIC_EXPORT_COLUMNS)[number]> {
  const measurement = bodyMeasurement(row, preferences);
  // Metrics without a display preference (%, bpm, mmHg, s) keep their canonical unit.
  const shown = measurement.display ?? { value: measurement.value, unit: measurement.unit };
  return {
    measurement_id: measurement.measurementId,
    metric: measurement.metric,
    site: spreadsheetSafeText(measurement.site),
    measured_at: measurement.measuredAt,
    value: csvNumber(shown.value),
    unit: shown.unit,
    entered_value: csvNumber(measurement.entered?.value),
    entered_unit: measurement.entered?.unit ?? null,
    systolic_mmhg: measurement.systolicMmHg,
    diastolic_mmhg: measurement.diastolicMmHg,
    note: spreadsheetSafeText(measurement.note),
  };
}

async function* mapRows<Row, Out>(rows: AsyncIterable<Row>, map: (row: Row) => Out): AsyncGenerator<Out> {
  for await (const row of rows) yield map(row);
}

/** GET /exports/workouts.csv and /exports/body-metrics.csv: the caller's own rows, in their display units. */
export function exportRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;

  function workoutBatch(scope: ReadScope, range: RangeQuery, after?: WorkoutExportRow): Promise<WorkoutExportRow[]> {
    // Keyset (sort_at, workout_id, ordinal, set_id). The workouts come first, in index order and at
    // most one more than a batch from the last one exported (every later workout gives at least one
    // row, so these hold the whole batch); each one's sets through the primary key (LATERAL), so a
    // batch reads about a batch of rows, never all of the caller's sets.
    let workouts = db
      .selectFrom('rm_workouts')
      .select(['workout_id', 'tenant_id', 'subject_id', 'title', 'status', 'planned_for', 'started_at', 'completed_at', 'perceived_exertion', 'sort_at'])
      .where('tenant_id', '=', scope.tenantId)
      .where('subject_id', '=', scope.subjectId);
    // Text parameters cast by PostgreSQL keep sub-millisecond precision that a JS Date would drop.
    if (range.from !== undefined) workouts = workouts.where(sql<boolean>`sort_at >= ${range.from}::timestamptz`);
    if (range.to !== undefined) workouts = workouts.where(sql<boolean>`sort_at < ${range.to}::timestamptz`);
    if (after) workouts = workouts.where(sql<boolean>`(sort_at, workout_id) >= (${after.sort_key}::timestamptz, ${after.workout_id}::uuid)`);
    let query = db
      .selectFrom(workouts.orderBy('sort_at').orderBy('workout_id').limit(EXPORT_BATCH_ROWS + 1).as('w'))
      .leftJoinLateral(
        (eb) => {
          let sets = eb
            .selectFrom('rm_workout_sets')
            .select(['set_id', 'ordinal', 'exercise_id', 'occurred_at', 'reps', 'load_kg', 'duration_s', 'distance_m', 'rpe', 'warm_up', 'to_failure', 'notes as set_notes'])
            .whereRef('rm_workout_sets.workout_id', '=', 'w.workout_id')
            .whereRef('rm_workout_sets.subject_id', '=', 'w.subject_id')
            .whereRef('rm_workout_sets.tenant_id', '=', 'w.tenant_id');
          // The rest of the last workout exported: its sets after the last one.
          if (after !== undefined && after.set_id !== null) sets = sets.where(sql<boolean>`(w.workout_id <> ${after.workout_id}::uuid OR (ordinal, set_id) > (${after.ordinal}, ${after.set_id}::uuid))`);
          return sets.orderBy('ordinal').orderBy('set_id').limit(EXPORT_BATCH_ROWS).as('s');
        },
        (join) => join.onTrue(),
      )
      .select(['w.workout_id', 'w.title', 'w.status', 'w.planned_for', 'w.started_at', 'w.completed_at', 'w.perceived_exertion'])
      .select(['s.set_id', 's.ordinal', 's.exercise_id', 's.occurred_at', 's.reps', 's.load_kg', 's.duration_s', 's.distance_m', 's.rpe', 's.warm_up', 's.to_failure', 's.set_notes'])
      .select(instantKey('w.sort_at').as('sort_key'));
    // Of the last workout exported only sets after the last one are left: not its set-less row (a
    // workout without sets was that row; one with sets gets it from the LEFT JOIN once all are out).
    if (after) query = query.where((eb) => eb.or([eb('w.workout_id', '<>', after.workout_id), eb('s.set_id', 'is not', null)]));
    return query.orderBy('w.sort_at').orderBy('w.workout_id').orderBy('s.ordinal').orderBy('s.set_id').limit(EXPORT_BATCH_ROWS).execute();
  }

  app.get<{ Querystring: RangeQuery }>(
    '/exports/workouts.csv',
    {
      schema: {
        summary: "The caller's workouts and sets as CSV, in their units",
        description: `One row per logged set (a workout without sets: one row, set columns empty), ordered by the workout's date (started, else planned, else first recorded; \`from\` inclusive, \`to\` exclusive), then the set's ordinal. \`load\` is in the caller's mass unit (\`load_unit\`: kg or lb), \`distance\` in their distance unit (\`distance_unit\`: km or mi); a unit column is empty when its value is. ${NUMBERS_NOTE}`,
        tags: ['exports'],
        querystring: { type: 'object', additionalProperties: false, properties: rangeQuerystring },
        response: csvResponse('CSV with the header row `' + WORKOUT_EXPORT_COLUMNS.join(',') + '`.'),
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const { from, to } = request.query;
      assertRange(from, to);
      const preferences = await loadUnitPreferences(db, scope);
      // The first batch before any byte is sent: a failure here is still an ordinary problem response.
      const first = await workoutBatch(scope, { from, to });
      const rows = keysetRows(first, (last) => workoutBatch(scope, { from, to }, last));
      return sendCsv(reply, request.log, { filename: 'fitledger-workouts.csv', columns: WORKOUT_EXPORT_COLUMNS, records: mapRows(rows, (row) => workoutRecord(row, preferences)) });
    },
  );

  function bodyMeasurementBatch(scope: ReadScope, query: BodyMetricsQuery, after?: BodyMeasurementExportRow): Promise<BodyMeasurementExportRow[]> {
    let select = db
      .selectFrom('rm_body_measurements')
      .select(['measurement_id', 'metric', 'site', 'value_si', 'entered_value', 'entered_unit', 'systolic_mmhg', 'diastolic_mmhg', 'measured_at', 'note', 'revision'])
      .select(instantKey('measured_at').as('measured_key'))
      .where('tenant_id', '=', scope.tenantId)
      .where('subject_id', '=', scope.subjectId);
    if (query.metric !== undefined) select = select.where('metric', '=', query.metric);
    if (query.from !== undefined) select = select.where(sql<boolean>`measured_at >= ${query.from}::timestamptz`);
    if (query.to !== undefined) select = select.where(sql<boolean>`measured_at < ${query.to}::timestamptz`);
    if (after) select = select.where(sql<boolean>`(measured_at, measurement_id) > (${after.measured_key}::timestamptz, ${after.measurement_id}::uuid)`);
    return select.orderBy('measured_at').orderBy('measurement_id').limit(EXPORT_BATCH_ROWS).execute();
  }

  app.get<{ Querystring: BodyMetricsQuery }>(
    '/exports/body-metrics.csv',
    {
      schema: {
        summary: "The caller's body measurements as CSV, in their units",
        description: `One row per measurement, oldest first (\`from\` inclusive, \`to\` exclusive on \`measured_at\`). \`value\`/\`unit\` are in the caller's unit for the metric (weight kg or lb, circumference cm or in, hydration ml or fl_oz; the others in their canonical unit: %, bpm, mmHg systolic, s); \`entered_value\`/\`entered_unit\` as entered. ${NUMBERS_NOTE}`,
        tags: ['exports'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { metric: { type: 'string', enum: BODY_METRIC_NAMES, description: 'Only this metric.' }, ...rangeQuerystring },
        },
        response: csvResponse('CSV with the header row `' + BODY_METRIC_EXPORT_COLUMNS.join(',') + '`.'),
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      assertRange(request.query.from, request.query.to);
      const preferences = await loadUnitPreferences(db, scope);
      const first = await bodyMeasurementBatch(scope, request.query);
      const rows = keysetRows(first, (last) => bodyMeasurementBatch(scope, request.query, last));
      return sendCsv(reply, request.log, { filename: 'fitledger-body-metrics.csv', columns: BODY_METRIC_EXPORT_COLUMNS, records: mapRows(rows, (row) => bodyMeasurementRecord(row, preferences)) });
    },
  );
}
