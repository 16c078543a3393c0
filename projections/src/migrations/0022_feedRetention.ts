import { sql, type Kysely } from 'kysely';

/**
 * Feed retention (projections/src/feedRetention.ts): each feed row records when it was written,
 * and `feed_retention_horizon` holds the last row pruned (one row, none until the first prune).
 * A reader resuming from a cursor before that row may have missed rows and is told so (410) rather
 * than served a feed with a gap. The horizon holds a position, no data of anyone: the reader may
 * select it without a row-level policy (not an `rm_` table).
 * Rows already stored get the migration's time: they are kept one full retention period from now.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_feed_changes ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now()`.execute(db);
  await sql`
    CREATE TABLE feed_retention_horizon (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      position text COLLATE "C" NOT NULL,
      seq integer NOT NULL,
      pruned_at timestamptz NOT NULL
    )`.execute(db);
  await sql`GRANT SELECT ON feed_retention_horizon TO fitledger_reader`.execute(db);
}

/**
 * Refused once anything was pruned: without the horizon a reader resuming from a cursor before
 * the pruned rows would be served a feed with a silent gap.
 */
export async function down(db: Kysely<unknown>): Promise<void> {
  const pruned = await sql<{ n: number }>`SELECT count(*)::int AS n FROM feed_retention_horizon`.execute(db);
  if ((pruned.rows[0]?.n ?? 0) > 0) {
    throw new Error('feed rows were pruned: dropping feed_retention_horizon would let a resumed feed miss them silently (empty rm_feed_changes and feed_retention_horizon first)');
  }
  await sql`DROP TABLE IF EXISTS feed_retention_horizon`.execute(db);
  await sql`ALTER TABLE rm_feed_changes DROP COLUMN IF EXISTS recorded_at`.execute(db);
}
