import { sql, type Kysely } from 'kysely';

/**
 * Workout and personal-record feed rows stop carrying a copy of the entity: readers render it from
 * the read model when they send the change (see `feedPayload`). Rendering each row to JSON and
 * storing ~1.3 kB per event was the largest item of the workouts projection's PostgreSQL work, live
 * and in a rebuild. A workout change keeps the one thing the read model cannot tell afterwards: the
 * set the event logged, corrected (`set_id`) or deleted (`set_id` with `set_deleted`). Rows written
 * before keep their payload, and readers use it as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_feed_changes ADD COLUMN set_id uuid, ADD COLUMN set_deleted boolean NOT NULL DEFAULT false`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_feed_changes DROP COLUMN IF EXISTS set_id, DROP COLUMN IF EXISTS set_deleted`.execute(db);
}
