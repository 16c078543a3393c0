import { HttpProblem } from '@fitledger/http';
import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { BODY_METRIC_NAMES, bodyMeasurement, type BodyMetricName } from '../bodyMeasurementRepresentation';
import { decodeMeasurementSeriesCursor, encodeMeasurementSeriesCursor, InvalidCursorError, type MeasurementSeriesCursor } from '../cursor';
import type { ReadScopeResolver } from '../readScope';
import { displayEtag, loadUnitPreferences } from '../unitPreferences';
import { assertRange, authProblemResponses, invalidCursor, pageResponse, PRIVATE_CACHE_HEADERS, readScopeOf, detailResponses, recordWhileReading } from './readContext';
import { ifNoneMatchHits } from './workouts';

export const DEFAULT_SERIES_PAGE_SIZE = 100;
export const MAX_SERIES_PAGE_SIZE = 1_000;

interface SeriesQuery {
  metric: BodyMetricName;
  site?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

const columns = [
  'measurement_id',
  'metric',
  'site',
  'value_si',
  'entered_value',
  'entered_unit',
  'systolic_mmhg',
  'diastolic_mmhg',
  'measured_at',
  'note',
  'revision',
] as const;

const notFound = (): HttpProblem => new HttpProblem(404, 'MEASUREMENT_NOT_FOUND', 'Not Found', 'no such measurement');

/** GET /body-metrics (one metric's series) and GET /body-metrics/{measurementId}, the caller's own. */
export function bodyMeasurementRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;

  app.get<{ Querystring: SeriesQuery }>(
    '/body-metrics',
    {
      schema: {
        summary: "A series of the caller's body measurements, newest first",
        description: 'One metric per request (a chart series). Keyset pagination on (measuredAt DESC, measurementId DESC); `from` inclusive, `to` exclusive.',
        tags: ['body metrics'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['metric'],
          properties: {
            metric: { type: 'string', enum: BODY_METRIC_NAMES },
            site: { type: 'string', minLength: 1, maxLength: 40, description: 'Only circumferences measured at this site.' },
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
            limit: { type: 'integer', minimum: 1, maximum: MAX_SERIES_PAGE_SIZE, default: DEFAULT_SERIES_PAGE_SIZE },
            cursor: { type: 'string', minLength: 1, maxLength: 256, description: '`nextCursor` of the previous page.' },
          },
        },
        response: { 200: pageResponse('BodyMeasurement#'), ...authProblemResponses },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const { metric, site, from, to, limit } = request.query;
      let after: MeasurementSeriesCursor | undefined;
      if (request.query.cursor !== undefined) {
        try {
          after = decodeMeasurementSeriesCursor(request.query.cursor);
        } catch (error) {
          if (!(error instanceof InvalidCursorError)) throw error;
          throw invalidCursor(error.message);
        }
      }
      assertRange(from, to);
      recordWhileReading(request);
      let query = db
        .selectFrom('rm_body_measurements')
        .select(columns)
        .select(sql<string>`to_char(measured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('measured_key'))
        .where('tenant_id', '=', scope.tenantId)
        .where('subject_id', '=', scope.subjectId)
        .where('metric', '=', metric);
      if (site !== undefined) query = query.where('site', '=', site);
      if (from !== undefined) query = query.where(sql<boolean>`measured_at >= ${from}::timestamptz`);
      if (to !== undefined) query = query.where(sql<boolean>`measured_at < ${to}::timestamptz`);
      if (after) query = query.where(sql<boolean>`(measured_at, measurement_id) < (${after.measuredAt}::timestamptz, ${after.measurementId}::uuid)`);
      const rows = await query.orderBy('measured_at', 'desc').orderBy('measurement_id', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const nextCursor = rows.length > limit && last ? encodeMeasurementSeriesCursor({ measuredAt: last.measured_key, measurementId: last.measurement_id }) : null;
      const preferences = await loadUnitPreferences(db, scope);
      return reply.headers(PRIVATE_CACHE_HEADERS).send({ items: page.map((row) => bodyMeasurement(row, preferences)), nextCursor });
    },
  );

  app.get<{ Params: { measurementId: string } }>(
    '/body-metrics/:measurementId',
    {
      schema: {
        summary: 'One of the caller’s body measurements',
        description: '`ETag` is the measurement revision (plus the display units when they are not metric); send it in `If-None-Match` to get 304 when nothing changed.',
        tags: ['body metrics'],
        params: { type: 'object', additionalProperties: false, required: ['measurementId'], properties: { measurementId: { type: 'string', format: 'uuid' } } },
        response: detailResponses('BodyMeasurement#'),
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const row = await db
        .selectFrom('rm_body_measurements')
        .select(columns)
        .where('measurement_id', '=', request.params.measurementId)
        .where('tenant_id', '=', scope.tenantId)
        .where('subject_id', '=', scope.subjectId)
        .executeTakeFirst();
      // Someone else's measurement and a missing one answer alike.
      if (!row) throw notFound();
      const preferences = await loadUnitPreferences(db, scope);
      const etag = displayEtag(row.revision, preferences);
      reply.headers({ ...PRIVATE_CACHE_HEADERS, etag });
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return reply.send(bodyMeasurement(row, preferences));
    },
  );
}
