import { sql, type Kysely } from 'kysely';
import type { ReadModelDb } from './readModelDb';

/** A feed cursor's key: (position, seq) of a row of `rm_feed_changes`. */
export interface FeedRowKey {
  readonly position: string;
  readonly seq: number;
}

export interface FeedPruneResult {
  /** Rows deleted by this call. */
  readonly deleted: number;
  /** The greatest (position, seq) pruned so far (this call or an earlier one); undefined while nothing was. */
  readonly horizon: FeedRowKey | undefined;
}

/** Rows deleted per statement: each batch is one short transaction. */
export const DEFAULT_PRUNE_BATCH = 5_000;

/**
 * Deletes the feed rows written before `olderThan`, in batches oldest first, and moves the
 * retention horizon (`feed_retention_horizon`) to the greatest (position, seq) deleted so far, in
 * the same transaction as each delete: a reader sees either both or neither, so a resume from a
 * cursor before the horizon is refused (it may have missed rows) and one at or after it is served
 * without a gap (every deleted row lies at or before the horizon).
 *
 * Rows are chosen by when they were written, not as a prefix in position order: the projections
 * write feed rows independently (a lagging or rebuilding one commits rows at low positions now),
 * so old rows need not form a prefix. A row committed while a prune runs is never old, so it is
 * never deleted. Rows locked by another transaction (a rebuild resetting its rows) are skipped,
 * not waited for. `signal` stops the prune between batches.
 */
export async function pruneFeed(
  db: Kysely<ReadModelDb>,
  options: { readonly olderThan: Date; readonly batchSize?: number; readonly signal?: AbortSignal },
): Promise<FeedPruneResult> {
  const batchSize = options.batchSize ?? DEFAULT_PRUNE_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  let deleted = 0;
  while (options.signal?.aborted !== true) {
    const batch = await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ position: string; seq: number; n: number }>`
        WITH gone AS (
          DELETE FROM rm_feed_changes
           WHERE (subject_id, position, seq) IN (
                   SELECT subject_id, position, seq FROM rm_feed_changes
                    WHERE recorded_at < ${options.olderThan}
                    ORDER BY recorded_at
                    LIMIT ${batchSize}
                      FOR UPDATE SKIP LOCKED)
             AND recorded_at < ${options.olderThan}
          RETURNING position, seq)
        SELECT position, seq, (count(*) OVER ())::int AS n FROM gone ORDER BY position DESC, seq DESC LIMIT 1`.execute(trx);
      const last = rows[0];
      if (last === undefined) return 0;
      await trx
        .insertInto('feed_retention_horizon')
        .values({ singleton: true, position: last.position, seq: last.seq, pruned_at: new Date() })
        .onConflict((oc) =>
          oc.column('singleton').doUpdateSet({ position: last.position, seq: last.seq, pruned_at: new Date() }).where(sql<boolean>`(feed_retention_horizon.position, feed_retention_horizon.seq) < (${last.position}, ${last.seq}::int)`),
        )
        .execute();
      return last.n;
    });
    deleted += batch;
    if (batch < batchSize) break;
  }
  return { deleted, horizon: await feedRetentionHorizon(db) };
}

/** The last feed row pruned, if any. */
export async function feedRetentionHorizon(db: Kysely<ReadModelDb>): Promise<FeedRowKey | undefined> {
  const row = await db.selectFrom('feed_retention_horizon').select(['position', 'seq']).executeTakeFirst();
  return row === undefined ? undefined : { position: row.position, seq: row.seq };
}

/** Whether a reader resuming after `cursor` may have missed pruned rows: it lies before the horizon. */
export function isBeforeHorizon(cursor: FeedRowKey, horizon: FeedRowKey | undefined): boolean {
  if (horizon === undefined) return false;
  return cursor.position < horizon.position || (cursor.position === horizon.position && cursor.seq < horizon.seq);
}
