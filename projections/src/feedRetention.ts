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
  /** The last row pruned so far (this call or an earlier one); undefined while nothing was. */
  readonly horizon: FeedRowKey | undefined;
}

/** Rows examined (and at most deleted) per statement: each batch is one short transaction. */
export const DEFAULT_PRUNE_BATCH = 5_000;

/**
 * Deletes the feed rows written before `olderThan`, oldest first, and moves the retention horizon
 * (`feed_retention_horizon`) to the last one deleted, in the same transaction as each delete: a
 * reader sees either both or neither, so a resume from a cursor before the horizon is refused (it
 * may have missed rows) and one at or after it is served without a gap.
 *
 * Rows are written in position order, so those old enough form a prefix of the table in that
 * order: each batch takes the oldest rows and deletes the old ones up to the first that is not
 * (a rebuilt projection's rows start a new prefix: they are kept a full period from the rebuild).
 */
export async function pruneFeed(db: Kysely<ReadModelDb>, options: { readonly olderThan: Date; readonly batchSize?: number }): Promise<FeedPruneResult> {
  const batchSize = options.batchSize ?? DEFAULT_PRUNE_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  let deleted = 0;
  for (;;) {
    const rows = await db
      .selectFrom('rm_feed_changes')
      .select(['position', 'seq', sql<boolean>`recorded_at < ${options.olderThan}`.as('old')])
      .orderBy('position')
      .orderBy('seq')
      .limit(batchSize)
      .execute();
    let old = 0;
    while (old < rows.length && rows[old]?.old === true) old++;
    if (old === 0) break;
    const last = rows[old - 1] as { position: string; seq: number };
    deleted += await db.transaction().execute(async (trx) => {
      // Rows up to `last` in (position, seq) order; the range on position keeps it an index scan.
      const result = await trx
        .deleteFrom('rm_feed_changes')
        .where('position', '<=', last.position)
        .where((eb) => eb.or([eb('position', '<', last.position), eb('seq', '<=', last.seq)]))
        .executeTakeFirst();
      await trx
        .insertInto('feed_retention_horizon')
        .values({ singleton: true, position: last.position, seq: last.seq, pruned_at: new Date() })
        .onConflict((oc) =>
          oc.column('singleton').doUpdateSet({ position: last.position, seq: last.seq, pruned_at: new Date() }).where(sql<boolean>`(feed_retention_horizon.position, feed_retention_horizon.seq) < (${last.position}, ${last.seq}::int)`),
        )
        .execute();
      return Number(result.numDeletedRows);
    });
    if (old < rows.length || rows.length < batchSize) break;
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
