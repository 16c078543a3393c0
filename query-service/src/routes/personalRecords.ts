import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { ReadScopeResolver } from '../readScope';
import { loadUnitPreferences } from '../unitPreferences';
import { personalRecord } from '../workoutRepresentation';
import { authProblemResponses, PRIVATE_CACHE_HEADERS, readScopeOf, recordWhileReading } from './readContext';

/** GET /personal-records: the caller's personal records per exercise, from `rm_personal_records`. */
export function personalRecordRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;
  app.get<{ Querystring: { exerciseId?: string } }>(
    '/personal-records',
    {
      schema: {
        summary: "The caller's personal records, one row per exercise",
        tags: ['personal records'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { exerciseId: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['items'],
            properties: { items: { type: 'array', items: { $ref: 'PersonalRecord#' } } },
          },
          ...authProblemResponses,
        },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      recordWhileReading(request);
      let query = db
        .selectFrom('rm_personal_records')
        .select(['exercise_id', 'one_rm_kg', 'three_rm_kg', 'five_rm_kg', 'ten_rm_kg', 'epley_kg', 'brzycki_kg', 'best_volume_kg'])
        .where('tenant_id', '=', scope.tenantId)
        .where('subject_id', '=', scope.subjectId);
      if (request.query.exerciseId !== undefined) query = query.where('exercise_id', '=', request.query.exerciseId);
      const rows = await query.orderBy('exercise_id').execute();
      const preferences = await loadUnitPreferences(db, scope);
      return reply.headers(PRIVATE_CACHE_HEADERS).send({ items: rows.map((row) => personalRecord(row, preferences)) });
    },
  );
}
