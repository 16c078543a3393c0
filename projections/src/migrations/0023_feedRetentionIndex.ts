import { sql, type Kysely } from 'kysely';

/**
 * The prune (projections/src/feedRetention.ts) picks the oldest feed rows by when they were
 * written, not as a prefix in position order: an index on `recorded_at` finds them without a scan.
 * The reader needs only the horizon's position: when it was pruned is not its business.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX rm_feed_changes_recorded_at ON rm_feed_changes (recorded_at)`.execute(db);
  await sql`REVOKE SELECT ON feed_retention_horizon FROM fitledger_reader`.execute(db);
  await sql`GRANT SELECT (position, seq) ON feed_retention_horizon TO fitledger_reader`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`REVOKE SELECT (position, seq) ON feed_retention_horizon FROM fitledger_reader`.execute(db);
  await sql`GRANT SELECT ON feed_retention_horizon TO fitledger_reader`.execute(db);
  await sql`DROP INDEX IF EXISTS rm_feed_changes_recorded_at`.execute(db);
}
