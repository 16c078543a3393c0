import { sql, type Transaction } from 'kysely';
import type { ReadModelDb } from './readModelDb';

/**
 * The feed-order lock (`pg_advisory_xact_lock(classid, objid)`): 'FLFD' (FitLedger feed) and 1.
 * Other features must not use this pair.
 */
export const FEED_ORDER_LOCK = Object.freeze({ classId: 0x464c4644, objId: 1 });

/**
 * Takes the feed-order lock for the rest of the transaction: call it right before inserting feed
 * rows, in every transaction that does. `rm_feed_changes.feed_id` comes from an identity, which
 * numbers rows when they are inserted, not when they commit; with every writer holding this lock
 * from its insert to its commit, a transaction numbers its rows only after every earlier writer
 * committed (PostgreSQL makes a commit visible before it releases its locks), so numbers grow in
 * commit order. A reader that continues after the last number it saw then never misses a row
 * committed later below it (migration 0024). Projections run one loop each: the lock serialises
 * only the short tails of their feed-writing transactions.
 *
 * The transaction also waits for its WAL flush before it commits (synchronous_commit = local, where
 * the runner turns it off for read models): once clients have seen a number, a crash must not lose
 * it, or the sequence would hand the same numbers to the rows of the replayed batch and a client
 * resuming after them would skip those.
 */
export async function lockFeedOrder(trx: Transaction<ReadModelDb>): Promise<void> {
  await sql`SELECT set_config('synchronous_commit', 'local', true), pg_advisory_xact_lock(${sql.lit(FEED_ORDER_LOCK.classId)}, ${sql.lit(FEED_ORDER_LOCK.objId)})`.execute(trx);
}
