import { sql, type Kysely } from 'kysely';
import type { ReadModelDb } from './readModelDb';

export interface FeedPruneResult {
  /** Rows deleted by this call. */
  readonly deleted: number;
  /** The greatest `feed_id` pruned so far (this call or an earlier one); undefined while nothing was. */
  readonly horizon: string | undefined;
}

/** Rows deleted per statement: each batch is one short transaction. */
export const DEFAULT_PRUNE_BATCH = 5_000;

/**
 * Deletes the feed rows written before `olderThan`, in batches oldest first, and moves the
 * retention horizon (`feed_retention_horizon`) to the greatest `feed_id` deleted so far, in
 * the same transaction as each delete: a reader sees either both or neither, so a resume from a
 * cursor before the horizon is refused (it may have missed rows) and one at or after it is served
 * without a gap (every deleted row lies at or before the horizon).
 *
 * Rows are chosen by when they were written, not as a prefix of the feed's order: a rebuilt
 * projection's rows are new and kept, the other projections' old rows still go. A row committed
 * while a prune runs is never old, so it is never deleted. Rows locked by another transaction (a
 * rebuild resetting its rows) are skipped, not waited for. `signal` stops the prune between batches.
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
      const { rows } = await sql<{ last: string | null; n: number }>`
        WITH gone AS (
          DELETE FROM rm_feed_changes
           WHERE feed_id IN (
                   SELECT feed_id FROM rm_feed_changes
                    WHERE recorded_at < ${options.olderThan}
                    ORDER BY recorded_at
                    LIMIT ${batchSize}
                      FOR UPDATE SKIP LOCKED)
             AND recorded_at < ${options.olderThan}
          RETURNING feed_id)
        SELECT max(feed_id)::text AS last, count(*)::int AS n FROM gone`.execute(trx);
      const last = rows[0];
      if (last === undefined || last.last === null) return 0;
      const feedId = last.last;
      await trx
        .insertInto('feed_retention_horizon')
        .values({ singleton: true, feed_id: feedId, pruned_at: new Date() })
        .onConflict((oc) => oc.column('singleton').doUpdateSet({ feed_id: feedId, pruned_at: new Date() }).where(sql<boolean>`feed_retention_horizon.feed_id < ${feedId}::bigint`))
        .execute();
      return last.n;
    });
    deleted += batch;
    if (batch < batchSize) break;
  }
  return { deleted, horizon: await feedRetentionHorizon(db) };
}

/** The greatest `feed_id` pruned, if any (bigint as text). */
export async function feedRetentionHorizon(db: Kysely<ReadModelDb>): Promise<string | undefined> {
  const row = await db.selectFrom('feed_retention_horizon').select('feed_id').executeTakeFirst();
  return row?.feed_id;
}

/** Whether a reader resuming after feed row `feedId` may have missed pruned rows: it lies before the horizon. */
export function isBeforeHorizon(feedId: string, horizon: string | undefined): boolean {
  return horizon !== undefined && BigInt(feedId) < BigInt(horizon);
}
