import { isolatedPostgres, testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostgresEventStore, START, comparePositions, migrateEventStore, type RecordedEvent } from '../src/index';
import { newEvent, stream } from './eventStoreContract';

// The snapshot horizon is server-wide: this file holds a transaction open on purpose, so it runs
// on a PostgreSQL server of its own.
describe('PostgreSQL event store under a long-running transaction', () => {
  let server: Awaited<ReturnType<typeof isolatedPostgres>>;
  let pool: pg.Pool;
  let store: PostgresEventStore;

  beforeAll(async () => {
    server = await isolatedPostgres();
    pool = new pg.Pool({ connectionString: server.url, max: 10 });
    await migrateEventStore(pool);
    store = new PostgresEventStore({ pool });
  });
  afterAll(async () => {
    await store.close();
    await pool.end();
    await server.stop();
  });

  it('delivers nothing past an open transaction, then everything once and in order when it commits', async () => {
    const before = stream('before');
    await store.appendToStream(before, [newEvent('Before')]);

    // An append whose transaction stays open: it holds the oldest transaction id.
    const held = new pg.Client({ connectionString: server.url });
    await held.connect();
    await held.query('BEGIN');
    const heldStream = stream('held');
    const heldEvent = newEvent('Held');
    await held.query('SELECT * FROM es_append($1::jsonb, $2::jsonb, true)', [
      JSON.stringify([{ s: heldStream, e: -2, n: 1, o: 1 }]),
      JSON.stringify([{ i: heldEvent.eventId, t: heldEvent.type, v: 1, d: heldEvent.data, m: heldEvent.metadata, h: 'held' }]),
    ]);

    const received: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({ after: START, batchSize: 500 });
    const total = 1 + 1 + 10_000;
    const consuming = (async () => {
      for await (const batch of subscription) {
        received.push(...batch);
        if (received.length >= total) break;
      }
    })();

    const others = Array.from({ length: 20 }, () => stream('other'));
    for (let chunk = 0; chunk < 50; chunk++) {
      await Promise.all(Array.from({ length: 200 }, (_, i) => store.appendToStream(others[i % 20] as string, [newEvent('Other', { chunk, i })])));
    }
    const committed = (await pool.query<{ n: string }>('SELECT count(*) AS n FROM es_events')).rows[0]?.n;
    expect(Number(committed)).toBe(10_001); // the held row is not visible to other sessions yet

    // 10k events are committed, but all behind the open transaction: readers see only 'Before'.
    await new Promise((r) => setTimeout(r, 500));
    expect(received.map((e) => e.type)).toEqual(['Before']);
    expect(await store.readAll({ after: START, maxCount: 20_000 })).toHaveLength(1);

    await held.query('COMMIT');
    await held.end();
    await consuming;
    await subscription.close();

    expect(received).toHaveLength(total);
    expect(new Set(received.map((e) => e.eventId)).size).toBe(total);
    expect(received[0]?.type).toBe('Before');
    expect(received[1]?.eventId).toBe(heldEvent.eventId); // older transaction id, delivered first
    for (let i = 1; i < received.length; i++) {
      expect(comparePositions((received[i - 1] as RecordedEvent).position, (received[i] as RecordedEvent).position)).toBe(-1);
    }
    const all = await store.readAll({ after: START, maxCount: 20_000 });
    expect(all.map((e) => e.eventId)).toEqual(received.map((e) => e.eventId));
  });
});

describe('PostgreSQL event store subscriptions at the head', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let pool: pg.Pool;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await testDatabase('es_tail');
    pool = new pg.Pool({ connectionString: db.url, max: 10 });
    await migrateEventStore(pool);
    store = new PostgresEventStore({ pool });
  });
  afterAll(async () => {
    await store.close();
    await pool.end();
    await db.drop();
  });

  it('share their reads of new events instead of each reading the same rows', async () => {
    const subscribers = 8;
    const total = 600;
    const s = stream('shared');
    const start = await store.headPosition();
    const reads = vi.spyOn(store, 'readAll');
    let delivered = 0;
    const consumers = Array.from({ length: subscribers }, async () => {
      const sub = store.subscribeToAll({ after: start, batchSize: 50 });
      const seen: string[] = [];
      for await (const batch of sub) {
        delivered++;
        seen.push(...batch.map((e) => e.eventId));
        if (seen.length >= total) break;
      }
      await sub.close();
      return seen;
    });
    for (let i = 0; i < total / 20; i++) await Promise.all(Array.from({ length: 20 }, (_, j) => store.appendToStream(s, [newEvent('Shared', { i, j })])));
    const seen = await Promise.all(consumers);
    const all = (await store.readAll({ after: start, maxCount: 10_000 })).map((e) => e.eventId);
    for (const ids of seen) expect(ids).toEqual(all);
    // Without sharing every delivered batch costs its own read (and every idle wake-up one more).
    expect(reads.mock.calls.length).toBeLessThan(delivered / 2);
    reads.mockRestore();
  });

  it('coalesce live batches: the read after a batch that was not full begins coalesceMs after the previous one, and takes every commit since', async () => {
    const s = stream('coalesced');
    const COALESCE_MS = 1_000;
    const sub = store.subscribeToAll({ after: await store.headPosition(), batchSize: 100, coalesceMs: COALESCE_MS });
    const batches = sub[Symbol.asyncIterator]();
    // Every read of this subscription begins after t0.
    const t0 = performance.now();
    const first = batches.next();
    await store.appendToStream(s, [newEvent('Coalesced', { n: 1 })]);
    expect(((await first).value as RecordedEvent[]).map((e) => e.data)).toEqual([{ n: 1 }]);
    // Asked for at once, but read only once the interval since the first read began has passed:
    // three commits made meanwhile (each notifies on its own) arrive together.
    const second = batches.next();
    await Promise.all([2, 3, 4].map((n) => store.appendToStream(stream(`coalesced-${n}`), [newEvent('Coalesced', { n })])));
    const got = ((await second).value as RecordedEvent[]).map((e) => (e.data as { n: number }).n);
    // A lower bound only (a slow machine makes it later, never earlier).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(COALESCE_MS);
    expect(got.sort()).toEqual([2, 3, 4]);
    await sub.close();
  });

  it('close() during the coalescing wait ends it at once: the wait never runs out and the pending batch is done', async () => {
    const COALESCE_MS = 777; // recognisable among the store's other timers
    const realSetTimeout = globalThis.setTimeout;
    let waitRanOut = false;
    let waits = 0;
    const timers = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      if (typeof ms === 'number' && ms > 100 && ms <= COALESCE_MS) {
        waits++;
        return realSetTimeout(() => {
          waitRanOut = true;
          fn(...args);
        }, ms);
      }
      return realSetTimeout(fn, ms, ...args);
    }) as typeof setTimeout);
    try {
      const sub = store.subscribeToAll({ after: await store.headPosition(), batchSize: 100, coalesceMs: COALESCE_MS });
      const batches = sub[Symbol.asyncIterator]();
      const first = batches.next();
      await store.appendToStream(stream('closed-while-waiting'), [newEvent('Coalesced', { n: 1 })]);
      expect((await first).done).toBe(false);
      const pending = batches.next(); // now in the wait
      await new Promise((resolve) => realSetTimeout(resolve, 10));
      expect(waits).toBe(1);
      await sub.close();
      expect(await pending).toEqual({ done: true, value: undefined });
      expect(waitRanOut).toBe(false);
    } finally {
      timers.mockRestore();
    }
  });

  it('never hold back full batches (catching up), only the read after a batch that was not full', async () => {
    const s = stream('catchup');
    const start = await store.headPosition();
    await store.appendToStream(s, Array.from({ length: 35 }, (_, n) => newEvent('CatchUp', { n })));
    const COALESCE_MS = 777; // recognisable among the store's other timers
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const sub = store.subscribeToAll({ after: start, batchSize: 10, coalesceMs: COALESCE_MS });
    const sizes: number[] = [];
    const heldBack = (): number => timers.mock.calls.filter(([, ms]) => typeof ms === 'number' && ms > COALESCE_MS - 100 && ms <= COALESCE_MS).length;
    const heldBackBefore: number[] = [];
    for await (const batch of sub) {
      heldBackBefore.push(heldBack());
      sizes.push(batch.length);
      if (sizes.reduce((a, b) => a + b, 0) >= 35) break;
    }
    await sub.close();
    timers.mockRestore();
    expect(sizes).toEqual([10, 10, 10, 5]);
    expect(heldBackBefore).toEqual([0, 0, 0, 0]);
    expect(() => store.subscribeToAll({ coalesceMs: -1 })).toThrow(RangeError);
    expect(() => store.subscribeToAll({ coalesceMs: 60_000 })).toThrow(RangeError);
  });
});

describe('PostgreSQL event store immutability', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let pool: pg.Pool;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await testDatabase('es_append_only');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await migrateEventStore(pool);
    store = new PostgresEventStore({ pool });
  });
  afterAll(async () => {
    await store.close();
    await pool.end();
    await db.drop();
  });

  it('refuses UPDATE, DELETE and TRUNCATE of stored events from the role the services connect as', async () => {
    const id = stream('immutable');
    await store.appendToStream(id, [newEvent('Kept')]);
    await expect(pool.query(`UPDATE es_events SET data = '{}'::jsonb WHERE stream_id = $1`, [id])).rejects.toThrow(/immutable/);
    await expect(pool.query('DELETE FROM es_events WHERE stream_id = $1', [id])).rejects.toThrow(/immutable/);
    await expect(pool.query('TRUNCATE es_events CASCADE')).rejects.toThrow(/immutable/);
    const [event] = await store.readStream(id);
    expect(event?.type).toBe('Kept');
    // Appending still works.
    await store.appendToStream(id, [newEvent('Next')], { expectedRevision: 0 });
    expect(await store.readStream(id)).toHaveLength(2);
  });
});
