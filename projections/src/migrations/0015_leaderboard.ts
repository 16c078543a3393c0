import { sql, type Kysely } from 'kysely';

/**
 * The leaderboard as a function that returns aggregates only: completed workouts and volume per
 * opted-in person (profile visibility `organisation`) of one organisation. SECURITY DEFINER, so
 * it also answers under row-level security, which hides other subjects' rows from the reader
 * role — the function is the one, narrow, privacy-filtered window onto them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION fl_leaderboard(p_tenant text, p_from timestamptz, p_to timestamptz, p_limit int)
    RETURNS TABLE (subject_id text, workouts int, volume_kg numeric)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
      SELECT w.subject_id, count(*)::int, coalesce(sum(w.total_volume_kg), 0)
        FROM rm_workouts w
        JOIN rm_profiles p ON p.subject_id = w.subject_id AND p.tenant_id = w.tenant_id
       WHERE w.tenant_id = p_tenant AND w.status = 'completed' AND p.profile_visibility = 'organisation'
         AND w.completed_at >= p_from AND w.completed_at < p_to
       GROUP BY w.subject_id
       ORDER BY count(*) DESC, sum(w.total_volume_kg) DESC NULLS LAST, w.subject_id
       LIMIT least(p_limit, 50)
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS fl_leaderboard(text, timestamptz, timestamptz, int)`.execute(db);
}
