import { HttpProblem } from '@fitledger/http';
import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { ReadScopeResolver } from '../readScope';
import { loadUnitPreferences } from '../unitPreferences';
import { displayMass } from '@fitledger/domain';
import { assertRange, authProblemResponses, PRIVATE_CACHE_HEADERS, readScopeOf, recordWhileReading } from './readContext';

export const MAX_LEADERBOARD_SIZE = 50;
const DAY_MS = 86_400_000;

const entrySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rank', 'subjectId', 'workouts', 'totalVolumeKg', 'you'],
  properties: {
    rank: { type: 'integer' },
    subjectId: { type: 'string', description: 'Opaque subject id: the leaderboard shows no names, ages or body data.' },
    workouts: { type: 'integer' },
    totalVolumeKg: { type: 'number' },
    totalVolumeDisplay: { type: 'object', additionalProperties: false, required: ['value', 'unit'], properties: { value: { type: 'number' }, unit: { type: 'string' } } },
    you: { type: 'boolean' },
  },
} as const;

/**
 * GET /leaderboard: the caller's organisation ranked by completed workouts (then volume) in a
 * period. Only people whose profile visibility is `organisation` appear — a private profile (the
 * default) is never listed or counted — and only training counts, never body data.
 */
export function leaderboardRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;
  app.get<{ Querystring: { from?: string; to?: string; limit: number } }>(
    '/leaderboard',
    {
      schema: {
        tags: ['leaderboard'],
        summary: "The organisation's leaderboard of completed workouts and volume (opted-in members only)",
        description: 'Period `from` (inclusive) to `to` (exclusive) on completion time; default the last 7 days, at most 366 days. People appear only with profile visibility `organisation`.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, limit: { type: 'integer', minimum: 1, maximum: MAX_LEADERBOARD_SIZE, default: 10 } },
        },
        response: {
          200: { type: 'object', additionalProperties: false, required: ['from', 'to', 'items'], properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, items: { type: 'array', items: entrySchema } } },
          ...authProblemResponses,
        },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const to = request.query.to === undefined ? new Date() : new Date(request.query.to);
      const from = request.query.from === undefined ? new Date(to.getTime() - 7 * DAY_MS) : new Date(request.query.from);
      assertRange(from.toISOString(), to.toISOString());
      if (to.getTime() - from.getTime() > 366 * DAY_MS) {
        throw new HttpProblem(400, 'VALIDATION_FAILED', 'Bad Request', '/querystring/from: the period spans at most 366 days', [{ field: '/querystring/from', message: 'the period spans at most 366 days' }]);
      }
      recordWhileReading(request);
      // Aggregates only, through the privacy-filtering function (migration 0015).
      const rows = await sql<{ subject_id: string; workouts: number; volume: string }>`
        SELECT subject_id, workouts, volume_kg::text AS volume FROM fl_leaderboard(${scope.tenantId}, ${from}, ${to}, ${request.query.limit})`.execute(db);
      const preferences = await loadUnitPreferences(db, scope);
      return reply.headers(PRIVATE_CACHE_HEADERS).send({
        from: from.toISOString(),
        to: to.toISOString(),
        items: rows.rows.map((r, i) => ({
          rank: i + 1,
          subjectId: r.subject_id,
          workouts: r.workouts,
          totalVolumeKg: Number(r.volume),
          totalVolumeDisplay: displayMass(Number(r.volume), preferences.mass),
          you: r.subject_id === scope.subjectId,
        })),
      });
    },
  );
}
