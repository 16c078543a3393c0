import { sql, type Kysely } from 'kysely';

/**
 * Feed order.
 *
 * `feed_id`: the feed's order is the order its rows commit in. Two projections write feed rows,
 * each in its own loop: the event position orders one projection's rows, but a lagging or
 * rebuilding one commits rows at lower positions after the other's later ones, and a reader whose
 * cursor was a position would never see them. Every feed insert now takes the feed-order lock
 * (`lockFeedOrder`, held to its commit, which waits for its WAL flush) and numbers its rows from
 * an identity: numbers grow in commit order, so a reader that continues after the last number it
 * saw misses nothing. Rows already stored are numbered in position order. Cursors issued before
 * (a position) are answered 410 FEED_CURSOR_EXPIRED: the client reloads and opens the feed afresh.
 *
 * Retention: the horizon is now the greatest `feed_id` pruned. A horizon of positions would be
 * useless to the new cursors and is dropped. The reader may select the horizon's number only.
 *
 * Stop every projections instance before migrating (one still running would insert without the
 * lock); the backfill rewrites the table under its lock (plan the pause, VACUUM afterwards).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_feed_changes ADD COLUMN feed_id bigint`.execute(db);
  await sql`
    UPDATE rm_feed_changes f SET feed_id = o.n
      FROM (SELECT subject_id, position, seq, row_number() OVER (ORDER BY position, seq) AS n FROM rm_feed_changes) o
     WHERE f.subject_id = o.subject_id AND f.position = o.position AND f.seq = o.seq`.execute(db);
  await sql`ALTER TABLE rm_feed_changes ALTER COLUMN feed_id SET NOT NULL`.execute(db);
  await sql`ALTER TABLE rm_feed_changes ALTER COLUMN feed_id ADD GENERATED ALWAYS AS IDENTITY`.execute(db);
  await sql`SELECT setval(pg_get_serial_sequence('rm_feed_changes', 'feed_id'), coalesce((SELECT max(feed_id) FROM rm_feed_changes), 0) + 1, false)`.execute(db);
  // A session's reads (subject, after a number) and the change source's scan (after a number, every subject);
  // nothing reads by position alone any more.
  await sql`CREATE UNIQUE INDEX rm_feed_changes_subject_feed_id ON rm_feed_changes (subject_id, feed_id)`.execute(db);
  await sql`CREATE UNIQUE INDEX rm_feed_changes_feed_id ON rm_feed_changes (feed_id)`.execute(db);
  await sql`DROP INDEX rm_feed_changes_position`.execute(db);

  await sql`DELETE FROM feed_retention_horizon`.execute(db);
  await sql`ALTER TABLE feed_retention_horizon DROP COLUMN position, DROP COLUMN seq, ADD COLUMN feed_id bigint NOT NULL`.execute(db);
  // Dropping position and seq dropped the reader's grants on them (migration 0023).
  await sql`GRANT SELECT (feed_id) ON feed_retention_horizon TO fitledger_reader`.execute(db);
}

/** Refused once anything was pruned by number (see 0022's down). */
export async function down(db: Kysely<unknown>): Promise<void> {
  const pruned = await sql<{ n: number }>`SELECT count(*)::int AS n FROM feed_retention_horizon`.execute(db);
  if ((pruned.rows[0]?.n ?? 0) > 0) {
    throw new Error('feed rows were pruned: dropping the horizon would let a resumed feed miss them silently (empty rm_feed_changes and feed_retention_horizon first)');
  }
  await sql`REVOKE SELECT (feed_id) ON feed_retention_horizon FROM fitledger_reader`.execute(db);
  await sql`ALTER TABLE feed_retention_horizon DROP COLUMN feed_id, ADD COLUMN position text COLLATE "C" NOT NULL, ADD COLUMN seq integer NOT NULL`.execute(db);
  await sql`GRANT SELECT (position, seq) ON feed_retention_horizon TO fitledger_reader`.execute(db);
  await sql`DROP INDEX IF EXISTS rm_feed_changes_subject_feed_id`.execute(db);
  await sql`DROP INDEX IF EXISTS rm_feed_changes_feed_id`.execute(db);
  await sql`CREATE INDEX rm_feed_changes_position ON rm_feed_changes (position)`.execute(db);
  await sql`ALTER TABLE rm_feed_changes DROP COLUMN IF EXISTS feed_id`.execute(db);
}
