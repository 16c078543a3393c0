import type { ReadModelDb } from '@fitledger/projections';
import { HttpProblem } from '@fitledger/http';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { decodeWorkoutListCursor, encodeWorkoutListCursor, InvalidCursorError, type WorkoutListCursor } from '../cursor';
import type { ReadScopeResolver } from '../readScope';
import { displayEtag, unitPreferencesColumn, unitPreferencesOf } from '../unitPreferences';
import { WORKOUT_STATUSES, workoutDetail, workoutSummary, type WorkoutSummaryRepresentation } from '../workoutRepresentation';
import { assertRange, authProblemResponses, invalidCursor, pageResponse, PRIVATE_CACHE_HEADERS, readScopeOf, detailResponses, recordWhileReading } from './readContext';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

interface ListQuery {
  from?: string;
  to?: string;
  status?: (typeof WORKOUT_STATUSES)[number][];
  exerciseId?: string;
  limit: number;
  cursor?: string;
}

const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', format: 'date-time', description: 'Only workouts whose date (sortAt) is at or after this instant.' },
    to: { type: 'string', format: 'date-time', description: 'Only workouts whose date (sortAt) is before this instant.' },
    status: {
      type: 'array',
      items: { type: 'string', enum: WORKOUT_STATUSES },
      maxItems: WORKOUT_STATUSES.length,
      description: 'One or more statuses (repeat the parameter).',
    },
    exerciseId: { type: 'string', minLength: 1, maxLength: 200, description: 'Only workouts with at least one set of this exercise.' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
    cursor: { type: 'string', minLength: 1, maxLength: 256, description: '`nextCursor` of the previous page.' },
  },
} as const;

const workoutIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['workoutId'],
  properties: { workoutId: { type: 'string', format: 'uuid' } },
} as const;

const summaryColumns = [
  'workout_id',
  'status',
  'title',
  'planned_for',
  'started_at',
  'completed_at',
  'cancelled_at',
  'sort_at',
  'perceived_exertion',
  'energy_kcal',
  'assigned_by',
  'exercise_ids',
  'set_count',
  'total_volume_kg',
  'revision',
] as const;

/** Entity tags of an `If-None-Match` value (RFC 9110 §13.1.2: weak comparison, `*` matches any). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return trimmed.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === opaque);
}

/** GET /workouts and GET /workouts/{workoutId}: the caller's workouts from `rm_workouts`. */
export function workoutRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;

  app.get<{ Querystring: ListQuery }>(
    '/workouts',
    {
      schema: {
        summary: "List the caller's workouts, newest first",
        description: 'Keyset pagination on (sortAt DESC, workoutId DESC); filters combine with AND.',
        tags: ['workouts'],
        querystring: listQuerySchema,
        response: { 200: pageResponse('WorkoutSummary#'), ...authProblemResponses },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const { from, to, status, exerciseId, limit } = request.query;
      let after: WorkoutListCursor | undefined;
      if (request.query.cursor !== undefined) {
        try {
          after = decodeWorkoutListCursor(request.query.cursor);
        } catch (error) {
          if (error instanceof InvalidCursorError) throw invalidCursor(error.message);
          throw error;
        }
      }
      assertRange(from, to);
      recordWhileReading(request);

      let query = db
        .selectFrom('rm_workouts')
        .select(summaryColumns)
        // The keyset at timestamptz precision (microseconds), in a form the cursor can carry exactly.
        .select(sql<string>`to_char(sort_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('sort_key'))
        // The display units in the same round trip (an empty page needs none).
        .select(unitPreferencesColumn(scope).as('units'))
        .where('tenant_id', '=', scope.tenantId)
        .where('subject_id', '=', scope.subjectId);
      // Text parameters cast by PostgreSQL keep sub-millisecond precision that a JS Date would drop.
      if (from !== undefined) query = query.where(sql<boolean>`sort_at >= ${from}::timestamptz`);
      if (to !== undefined) query = query.where(sql<boolean>`sort_at < ${to}::timestamptz`);
      if (status !== undefined && status.length > 0) query = query.where('status', 'in', status);
      if (exerciseId !== undefined) query = query.where(sql<boolean>`exercise_ids @> ARRAY[${exerciseId}]::text[]`);
      if (after) query = query.where(sql<boolean>`(sort_at, workout_id) < (${after.sortAt}::timestamptz, ${after.workoutId}::uuid)`);
      const rows = await query.orderBy('sort_at', 'desc').orderBy('workout_id', 'desc').limit(limit + 1).execute();

      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const nextCursor = rows.length > limit && last ? encodeWorkoutListCursor({ sortAt: last.sort_key, workoutId: last.workout_id }) : null;
      const preferences = unitPreferencesOf(rows[0]?.units);
      const items: WorkoutSummaryRepresentation[] = page.map((row) => workoutSummary(row, preferences));
      return reply.headers(PRIVATE_CACHE_HEADERS).send({ items, nextCursor });
    },
  );

  app.get<{ Params: { workoutId: string } }>(
    '/workouts/:workoutId',
    {
      schema: {
        summary: 'One of the caller’s workouts with its sets',
        description: 'Sets are ordered by ordinal. `ETag` is the workout revision (plus the display units when they are not metric); send it in `If-None-Match` to get 304 when nothing changed.',
        tags: ['workouts'],
        params: workoutIdParams,
        response: detailResponses('WorkoutDetail#'),
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const { workoutId } = request.params;
      const row = await db
        .selectFrom('rm_workouts')
        .select([...summaryColumns, 'notes', 'location'])
        .select(unitPreferencesColumn(scope).as('units'))
        .where('workout_id', '=', workoutId)
        .where('tenant_id', '=', scope.tenantId)
        .where('subject_id', '=', scope.subjectId)
        .executeTakeFirst();
      // Someone else's workout and a missing one answer alike: existence is not disclosed.
      if (!row) throw new HttpProblem(404, 'WORKOUT_NOT_FOUND', 'Not Found', 'no such workout');

      const preferences = unitPreferencesOf(row.units);
      const etag = displayEtag(row.revision, preferences);
      reply.headers({ ...PRIVATE_CACHE_HEADERS, etag });
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send();
      // Found and changed: the answer is 200 now, so the record is written while the sets are read.
      recordWhileReading(request);

      const sets = await db
        .selectFrom('rm_workout_sets')
        .selectAll()
        .where('workout_id', '=', workoutId)
        .where('subject_id', '=', scope.subjectId)
        .orderBy('ordinal')
        .orderBy('set_id')
        .execute();
      return reply.send(workoutDetail(row, sets, preferences));
    },
  );
}
