import { sql, type RawBuilder } from 'kysely';

/**
 * The payload of the `rm_feed_changes` row aliased `f`, for a SELECT: its stored `payload` when it
 * has one, otherwise (`workout`, `personal_record`: see migration 0019) the entity rendered from
 * the read model now, as `to_jsonb` renders its row:
 * - `workout`: the rm_workouts row, plus `sets` (the set row the change logged or corrected, while
 *   it exists) and `deletedSetIds` (the set it deleted);
 * - `personal_record`: the rm_personal_records row.
 * Null for a delete, and for an upsert whose entity the reader cannot see (row-level security), that
 * now belongs to another organisation than the change (a personal record takes the organisation
 * of its last change), or that no longer exists: a later change of the entity says what became of it.
 *
 * A change read some time after it was written therefore shows the entity as it is when read, not
 * as the change left it: applied in cursor order, the changes still end at the current state.
 */
export function feedPayload(): RawBuilder<unknown> {
  return sql`CASE
    WHEN f.op = 'delete' THEN NULL
    WHEN f.payload IS NOT NULL THEN f.payload
    WHEN f.kind = 'workout' THEN (
      SELECT to_jsonb(w) || jsonb_build_object(
               'sets', COALESCE((SELECT jsonb_build_array(to_jsonb(s) - '{workout_id,tenant_id,subject_id}'::text[])
                                   FROM rm_workout_sets s
                                  WHERE NOT f.set_deleted AND s.workout_id = w.workout_id AND s.set_id = f.set_id), '[]'::jsonb),
               'deletedSetIds', CASE WHEN f.set_deleted THEN jsonb_build_array(f.set_id) ELSE '[]'::jsonb END)
        FROM rm_workouts w WHERE w.workout_id = f.entity_id::uuid AND (f.tenant_id IS NULL OR w.tenant_id = f.tenant_id))
    WHEN f.kind = 'personal_record' THEN (
      SELECT to_jsonb(p) FROM rm_personal_records p
       WHERE p.subject_id = f.subject_id AND p.exercise_id = f.entity_id AND (f.tenant_id IS NULL OR p.tenant_id = f.tenant_id))
  END`;
}
