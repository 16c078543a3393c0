import { dayStreaks, weekStartOfLocale, weekStreaks, type IsoWeekday, type TimeZonePeriod } from '@fitledger/domain';
import { HttpProblem } from '@fitledger/http';
import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { ReadScopeResolver } from '../readScope';
import { authProblemResponses, PRIVATE_CACHE_HEADERS, readScopeOf, recordWhileReading } from './readContext';

/** Completed workouts considered (the most recent ones): years of daily training stay well inside it. */
const MAX_ACTIVITIES = 5_000;

const streakSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['current', 'longest'],
  properties: { current: { type: 'integer' }, longest: { type: 'integer' } },
} as const;

/**
 * GET /streaks: day and week streaks of completed workouts on the caller's calendar — each workout
 * dated in the time zone they were in when they completed it (their profile's time-zone history),
 * weeks starting on their locale's first day.
 */
export function streakRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;
  app.get<{ Querystring: { perWeek: number; at?: string } }>(
    '/streaks',
    {
      schema: {
        summary: 'Day and week streaks of completed workouts, in the caller’s time zones and week',
        description:
          'A day counts when a workout was completed on it (local date where the person was). The current day streak runs to today or yesterday; a week counts with at least `perWeek` workouts, the current week once reached. `at` evaluates as of an earlier instant.',
        tags: ['streaks'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { perWeek: { type: 'integer', minimum: 1, maximum: 14, default: 3 }, at: { type: 'string', format: 'date-time' } },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['timeZone', 'weekStart', 'days', 'weeks', 'activeDays', 'lastActiveDate', 'perWeek'],
            properties: {
              timeZone: { type: 'string', description: 'The zone “today” is in (the latest of the history; UTC without a profile).' },
              weekStart: { type: 'integer', description: 'ISO weekday weeks start on.' },
              days: streakSchema,
              weeks: streakSchema,
              perWeek: { type: 'integer' },
              activeDays: { type: 'integer' },
              lastActiveDate: { type: ['string', 'null'] },
            },
          },
          ...authProblemResponses,
        },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const now = request.query.at === undefined ? new Date() : new Date(request.query.at);
      if (now.getTime() > Date.now() + 60_000) {
        throw new HttpProblem(400, 'VALIDATION_FAILED', 'Bad Request', '/querystring/at: must not be in the future', [{ field: '/querystring/at', message: 'must not be in the future' }]);
      }
      recordWhileReading(request);
      const [profile, zones, workouts] = await Promise.all([
        db.selectFrom('rm_profiles').select(['time_zone', 'locale', 'week_start']).where('subject_id', '=', scope.subjectId).where('tenant_id', '=', scope.tenantId).executeTakeFirst(),
        db.selectFrom('rm_profile_time_zones').select(['effective_from', 'time_zone']).where('subject_id', '=', scope.subjectId).orderBy('effective_from').orderBy('position').execute(),
        db
          .selectFrom('rm_workouts')
          .select('completed_at')
          .where('tenant_id', '=', scope.tenantId)
          .where('subject_id', '=', scope.subjectId)
          .where('status', '=', 'completed')
          .where('completed_at', '<=', now)
          .orderBy('completed_at', 'desc')
          .limit(MAX_ACTIVITIES)
          .execute(),
      ]);
      // The zone before the first recorded change is the first one recorded (or the profile's, or UTC).
      const history: TimeZonePeriod[] =
        zones.length > 0
          ? zones.map((z, i) => ({ from: i === 0 ? new Date(0) : new Date(z.effective_from), timeZone: z.time_zone }))
          : [{ from: new Date(0), timeZone: profile?.time_zone ?? 'UTC' }];
      const weekStart = (profile?.week_start ?? (profile?.locale ? weekStartOfLocale(profile.locale) : 1)) as IsoWeekday;
      const activities = workouts.flatMap((w) => (w.completed_at === null ? [] : [new Date(w.completed_at)]));
      const days = dayStreaks(activities, history, now);
      const weeks = weekStreaks(activities, history, now, weekStart, request.query.perWeek);
      return reply.headers(PRIVATE_CACHE_HEADERS).send({
        timeZone: (history.at(-1) as TimeZonePeriod).timeZone,
        weekStart,
        days: { current: days.current, longest: days.longest },
        weeks: { current: weeks.current, longest: weeks.longest },
        perWeek: request.query.perWeek,
        activeDays: days.activeDays,
        lastActiveDate: days.lastActiveDate ?? null,
      });
    },
  );
}
