import { weekStartOfLocale, type GoalFacts, type IsoWeekday, type TimeZonePeriod } from '@fitledger/domain';
import { sql, type Kysely } from 'kysely';
import type { ReadModelDb } from '../readModelDb';

/**
 * What the read models hold about a person for goals between two instants (a day of margin on each
 * side of the period: local dates decide, in goalProgress): weigh-ins, sets of non-cancelled
 * workouts, completed workouts, time-zone history and week start.
 */
export async function loadGoalFacts(db: Kysely<ReadModelDb>, who: { subjectId: string; tenantId: string }, from: Date, to: Date): Promise<GoalFacts> {
  const [weights, sets, workouts, zones, profile] = await Promise.all([
    db
      .selectFrom('rm_body_measurements')
      .select(['measured_at', 'value_si'])
      .where('subject_id', '=', who.subjectId)
      .where('tenant_id', '=', who.tenantId)
      .where('metric', '=', 'weight')
      .where('measured_at', '>=', from)
      .where('measured_at', '<=', to)
      .execute(),
    sql<{ occurred_at: Date; exercise_id: string; reps: number | null; load_kg: string | null; distance_m: string | null; warm_up: boolean }>`
      SELECT s.occurred_at, s.exercise_id, s.reps, s.load_kg::text AS load_kg, s.distance_m::text AS distance_m, s.warm_up
        FROM rm_workout_sets s JOIN rm_workouts w ON w.workout_id = s.workout_id
       WHERE s.subject_id = ${who.subjectId} AND w.tenant_id = ${who.tenantId} AND w.status <> 'cancelled'
         AND s.occurred_at BETWEEN ${from} AND ${to}`.execute(db),
    db
      .selectFrom('rm_workouts')
      .select(['completed_at', 'energy_kcal'])
      .where('subject_id', '=', who.subjectId)
      .where('tenant_id', '=', who.tenantId)
      .where('status', '=', 'completed')
      .where('completed_at', '>=', from)
      .where('completed_at', '<=', to)
      .execute(),
    db.selectFrom('rm_profile_time_zones').select(['effective_from', 'time_zone']).where('subject_id', '=', who.subjectId).orderBy('effective_from').orderBy('position').execute(),
    db.selectFrom('rm_profiles').select(['time_zone', 'locale', 'week_start']).where('subject_id', '=', who.subjectId).executeTakeFirst(),
  ]);
  const history: TimeZonePeriod[] =
    zones.length > 0 ? zones.map((z, i) => ({ from: i === 0 ? new Date(0) : new Date(z.effective_from), timeZone: z.time_zone })) : [{ from: new Date(0), timeZone: profile?.time_zone ?? 'UTC' }];
  return {
    weights: weights.map((w) => ({ at: new Date(w.measured_at), weightKg: Number(w.value_si) })),
    sets: sets.rows.map((s) => ({
      at: new Date(s.occurred_at),
      exerciseId: s.exercise_id,
      ...(s.reps === null ? {} : { reps: s.reps }),
      ...(s.load_kg === null ? {} : { loadKg: Number(s.load_kg) }),
      ...(s.distance_m === null ? {} : { distanceM: Number(s.distance_m) }),
      warmUp: s.warm_up,
    })),
    completedWorkouts: workouts.flatMap((w) => (w.completed_at === null ? [] : [new Date(w.completed_at)])),
    workoutEnergy: workouts.flatMap((w) => (w.completed_at === null || w.energy_kcal === null ? [] : [{ at: new Date(w.completed_at), kcal: Number(w.energy_kcal) }])),
    history,
    weekStart: (profile?.week_start ?? (profile?.locale ? weekStartOfLocale(profile.locale) : 1)) as IsoWeekday,
  };
}

/** The instants bounding a goal period of local dates, with a day of margin for time zones. */
export function goalWindow(startsOn: string, endsOn: string): { from: Date; to: Date } {
  return { from: new Date(Date.parse(`${startsOn}T00:00:00Z`) - 86_400_000), to: new Date(Date.parse(`${endsOn}T00:00:00Z`) + 2 * 86_400_000) };
}
