import { HttpProblem } from '@fitledger/http';
import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { profile } from '../profileRepresentation';
import type { ReadScopeResolver } from '../readScope';
import { PRIVATE_CACHE_HEADERS, readScopeOf, detailResponses } from './readContext';
import { ifNoneMatchHits } from './workouts';

/** GET /profile: the caller's own profile, 404 until their first PUT reached the read model. */
export function profileRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;

  app.get(
    '/profile',
    {
      schema: {
        summary: 'The caller’s profile',
        description: 'Height and weight in the preferred units and canonical SI. `ETag` is the profile revision; send it in `If-None-Match` to get 304 when nothing changed.',
        tags: ['profile'],
        response: detailResponses('Profile#'),
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const row = await db
        .selectFrom('rm_profiles')
        .select([
          sql<string | null>`to_char(birth_date, 'YYYY-MM-DD')`.as('birth_date'),
          'sex',
          'height_m',
          'height_value',
          'height_unit',
          'weight_kg',
          'weight_value',
          'weight_unit',
          'time_zone',
          'locale',
          'week_start',
          'mass_unit',
          'length_unit',
          'distance_unit',
          'volume_unit',
          'notify_email',
          'notify_push',
          'notify_weekly_summary',
          'profile_visibility',
          'revision',
        ])
        .where('subject_id', '=', scope.subjectId)
        .where('tenant_id', '=', scope.tenantId)
        .executeTakeFirst();
      if (!row) throw new HttpProblem(404, 'PROFILE_NOT_FOUND', 'Not Found', 'no profile yet: PUT /api/v1/profile creates it');
      const etag = `"${row.revision}"`;
      reply.headers({ ...PRIVATE_CACHE_HEADERS, etag });
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send();
      const history = await db
        .selectFrom('rm_profile_time_zones')
        .select(['time_zone', 'effective_from'])
        .where('subject_id', '=', scope.subjectId)
        .where('tenant_id', '=', scope.tenantId)
        .orderBy('effective_from')
        .orderBy('position')
        .execute();
      return reply.send(profile(row, history));
    },
  );
}
