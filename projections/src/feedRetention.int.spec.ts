import { randomUUID } from 'node:crypto';
import { testDatabase } from '@fitledger/testing/vitest';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { feedRetentionHorizon, isBeforeHorizon, pruneFeed } from './feedRetention';
import { down as feedRetentionDown } from './migrations/0022_feedRetention';
import { down as feedOrderDown } from './migrations/0024_feedOrder';
import { migrateReadModels } from './migrations/index';
import { scheduleFeedRetention } from './projectionsService';
import type { ReadModelDb } from './readModelDb';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = new Date('2026-12-04T12:00:00Z');
const position = (n: number): string => n.toString(16).padStart(32, '0');

let database: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let db: Kysely<ReadModelDb>;

/** Feed rows at (position n, seq) written `daysAgo` days before NOW, for a few subjects. */
async function rows(...specs: readonly [n: number, seq: number, daysAgo: number][]): Promise<void> {
  await db
    .insertInto('rm_feed_changes')
    .values(
      specs.map(([n, seq, daysAgo], i) => ({
        subject_id: `subject-${i % 3}`,
        position: position(n),
        seq,
        kind: 'workout' as const,
        entity_id: randomUUID(),
        op: 'upsert' as const,
        payload: null,
        recorded_at: new Date(NOW.getTime() - daysAgo * DAY_MS),
      })),
    )
    .execute();
}

const remaining = async (): Promise<string[]> =>
  (await db.selectFrom('rm_feed_changes').select(['position', 'seq']).orderBy('position').orderBy('seq').execute()).map((r) => `${Number.parseInt(r.position, 16)}#${r.seq}`);

beforeAll(async () => {
  database = await testDatabase('rm_feed_retention');
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await migrateReadModels(pool);
  db = new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool }) });
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

beforeEach(async () => {
  // Numbered from 1 again: the nth row a test writes has feed_id n.
  await sql`TRUNCATE rm_feed_changes, feed_retention_horizon RESTART IDENTITY`.execute(db);
});

describe('feed retention', () => {
  it('deletes the rows written before the cutoff, oldest first in batches, and records the greatest feed_id deleted as the horizon', async () => {
    // Three rows at position 1 (a batch of 2 ends inside it), then old rows, then new ones.
    await rows([1, 0, 40], [1, 1, 40], [1, 2, 40], [2, 0, 35], [3, 0, 31], [3, 1, 31], [4, 0, 29], [5, 0, 1], [5, 1, 1]);
    const result = await pruneFeed(db, { olderThan: new Date(NOW.getTime() - 30 * DAY_MS), batchSize: 2 });
    expect(result.deleted).toBe(6);
    expect(result.horizon).toBe('6');
    expect(await remaining()).toEqual(['4#0', '5#0', '5#1']);

    // Nothing more is old: nothing changes.
    expect(await pruneFeed(db, { olderThan: new Date(NOW.getTime() - 30 * DAY_MS) })).toEqual({ deleted: 0, horizon: '6' });
    // A later cutoff moves on; the horizon never moves back.
    expect((await pruneFeed(db, { olderThan: new Date(NOW.getTime() - 2 * DAY_MS) })).horizon).toBe('7');
    await sql`TRUNCATE rm_feed_changes RESTART IDENTITY`.execute(db);
    await rows([2, 0, 60]); // feed_id 1
    expect((await pruneFeed(db, { olderThan: NOW })).horizon).toBe('7');
  });

  it('prunes old rows behind fresh ones: a rebuilt projection rewrote the oldest positions just now, the other projection\'s old rows still go', async () => {
    await rows([1, 0, 0], [2, 0, 40], [3, 0, 40], [4, 0, 0]);
    expect(await pruneFeed(db, { olderThan: new Date(NOW.getTime() - 30 * DAY_MS) })).toEqual({ deleted: 2, horizon: '3' });
    // The fresh rows stay; a cursor before feed_id 3 is refused (2 and 3 are gone), one at 3 is served 4.
    expect(await remaining()).toEqual(['1#0', '4#0']);
    expect(isBeforeHorizon('1', await feedRetentionHorizon(db))).toBe(true);
    expect(isBeforeHorizon('3', await feedRetentionHorizon(db))).toBe(false);
  });

  it('skips rows another transaction holds (a rebuild resetting its rows) instead of waiting, and takes them at the next prune', async () => {
    await rows([1, 0, 40], [2, 0, 40], [3, 0, 40]);
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM rm_feed_changes WHERE position = $1 FOR UPDATE`, [position(3)]);
      expect(await pruneFeed(db, { olderThan: new Date(NOW.getTime() - 30 * DAY_MS) })).toEqual({ deleted: 2, horizon: '2' });
      await holder.query('ROLLBACK');
    } finally {
      holder.release();
    }
    expect(await remaining()).toEqual(['3#0']);
    expect(await pruneFeed(db, { olderThan: new Date(NOW.getTime() - 30 * DAY_MS) })).toEqual({ deleted: 1, horizon: '3' });
  });

  it('stops between batches once its signal is aborted', async () => {
    await rows([1, 0, 40], [2, 0, 40]);
    const abort = new AbortController();
    abort.abort();
    expect(await pruneFeed(db, { olderThan: NOW, batchSize: 1, signal: abort.signal })).toEqual({ deleted: 0, horizon: undefined });
    expect(await remaining()).toEqual(['1#0', '2#0']);
  });

  it('lets the query service read the horizon feed_id only, and refuses to drop the horizon once rows were pruned', async () => {
    await rows([1, 0, 40]);
    await pruneFeed(db, { olderThan: NOW });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE fitledger_reader');
      expect((await client.query('SELECT feed_id FROM feed_retention_horizon')).rows).toEqual([{ feed_id: '1' }]);
      await expect(client.query('SELECT pruned_at FROM feed_retention_horizon')).rejects.toThrow(/permission denied/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    await expect(feedOrderDown(db as unknown as Kysely<unknown>)).rejects.toThrow(/pruned/);
    await expect(feedRetentionDown(db as unknown as Kysely<unknown>)).rejects.toThrow(/pruned/);
    expect(await feedRetentionHorizon(db)).toBe('1');
  });

  it('tells a cursor before the horizon (changes after it may be gone) from one at or after it', async () => {
    // Compared as numbers, not as text ('9' > '10' as text).
    expect(isBeforeHorizon('9', '10')).toBe(true);
    expect(isBeforeHorizon('10', '10')).toBe(false);
    expect(isBeforeHorizon('11', '10')).toBe(false);
    expect(isBeforeHorizon('9223372036854775806', '9223372036854775807')).toBe(true);
    expect(isBeforeHorizon('1', undefined)).toBe(false);
    await expect(pruneFeed(db, { olderThan: NOW, batchSize: 0 })).rejects.toThrow(RangeError);
  });

  it('is scheduled by the projections service: pruned at start and at each interval, never with 0 days, stop waits for a prune in flight', async () => {
    await rows([1, 0, 40], [2, 0, 10]);
    const off = scheduleFeedRetention(db, { retentionDays: 0, intervalMs: 10, clock: () => NOW });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await off.stop();
    expect(await remaining()).toEqual(['1#0', '2#0']);

    let now = NOW;
    const info = vi.fn();
    const on = scheduleFeedRetention(db, { retentionDays: 30, intervalMs: 20, clock: () => now, logger: { debug: vi.fn(), info, warn: vi.fn(), error: vi.fn() } });
    await vi.waitFor(async () => expect(await remaining()).toEqual(['2#0']), { timeout: 10_000 });
    now = new Date(NOW.getTime() + 25 * DAY_MS); // the second row is now 35 days old
    await vi.waitFor(async () => expect(await remaining()).toEqual([]), { timeout: 10_000 });
    await on.stop();
    expect(info).toHaveBeenCalledWith({ deleted: 1, horizon: '2' }, 'feed rows past retention pruned');
    // Rows after stop() are left alone: three intervals pass without a prune.
    await rows([3, 0, 400]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await remaining()).toEqual(['3#0']);
  });
});
