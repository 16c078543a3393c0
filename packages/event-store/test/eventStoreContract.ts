import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IdempotencyConflictError,
  InvalidAppendError,
  StreamDeletedError,
  WrongExpectedRevisionError,
  comparePositions,
  type EventStore,
  type NewEvent,
  type Position,
  type RecordedEvent,
} from '../src/index';

/** How a contract run obtains a fresh, empty store (and disposes of it). */
export interface StoreFactory {
  readonly name: string;
  create(): Promise<{ store: EventStore; dispose(): Promise<void> }>;
}

export function newEvent(type = 'SetLogged', data: NewEvent['data'] = { reps: 5 }, eventId = randomUUID()): NewEvent {
  return { eventId, type, schemaVersion: 1, data, metadata: { tenantId: 't1', subjectId: 's1' } };
}

export function stream(category = 'test'): string {
  return `${category}-${randomUUID()}`;
}


/**
 * The behaviour every EventStore adapter must show. Run by eventStore.contract.int.spec.ts once per
 * adapter (PostgreSQL always, EventStoreDB when EVENTSTORE_URL is set).
 */
export function eventStoreContract(factory: StoreFactory): void {
  describe(`EventStore contract: ${factory.name}`, () => {
    let store: EventStore;
    let created: Awaited<ReturnType<StoreFactory['create']>>;

    beforeAll(async () => {
      created = await factory.create();
      store = created.store;
    });
    afterAll(async () => {
      await created.dispose();
    });

    it('appends to a new stream and reads it back in revision order', async () => {
      const s = stream();
      const result = await store.appendToStream(s, [newEvent('A'), newEvent('B'), newEvent('C')], { expectedRevision: 'no-stream' });
      expect(result.nextExpectedRevision).toBe(2);
      expect(result.duplicate).toBe(false);
      const events = await store.readStream(s);
      expect(events.map((e) => [e.type, e.revision, e.streamId])).toEqual([['A', 0, s], ['B', 1, s], ['C', 2, s]]);
      expect(events[2]?.position).toBe(result.position);
      expect(events.every((e) => e.recordedAt instanceof Date)).toBe(true);
    });

    it('reads a stream backwards and from a revision with a max count', async () => {
      const s = stream();
      await store.appendToStream(s, Array.from({ length: 10 }, (_, i) => newEvent('E', { i })));
      const back = await store.readStream(s, { direction: 'backwards', fromRevision: 7, maxCount: 3 });
      expect(back.map((e) => e.revision)).toEqual([7, 6, 5]);
      const fwd = await store.readStream(s, { fromRevision: 8 });
      expect(fwd.map((e) => e.revision)).toEqual([8, 9]);
      expect(await store.readStream(stream())).toEqual([]);
    });

    it('refuses an append whose expected revision does not match, with the actual revision', async () => {
      const s = stream();
      await store.appendToStream(s, [newEvent()], { expectedRevision: 'no-stream' });
      const wrong = store.appendToStream(s, [newEvent()], { expectedRevision: 5 });
      await expect(wrong).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(wrong).rejects.toMatchObject({ actual: 0, code: 'WRONG_EXPECTED_REVISION' });
      await expect(store.appendToStream(s, [newEvent()], { expectedRevision: 'no-stream' })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(store.appendToStream(stream(), [newEvent()], { expectedRevision: 'stream-exists' })).rejects.toMatchObject({ actual: 'no-stream' });
      await expect(store.appendToStream(s, [newEvent()], { expectedRevision: 0 })).resolves.toMatchObject({ nextExpectedRevision: 1 });
      expect(await store.readStream(s)).toHaveLength(2);
    });

    it('lets exactly one of 50 concurrent writers with the same expected revision win, round after round', async () => {
      const s = stream();
      let expected: number | 'no-stream' = 'no-stream';
      for (let round = 0; round < 10; round++) {
        const outcomes = await Promise.allSettled(
          Array.from({ length: 50 }, (_, w) => store.appendToStream(s, [newEvent('Write', { round, w })], { expectedRevision: expected })),
        );
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(49);
        for (const l of lost) expect(l.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expected = round;
      }
      const events = await store.readStream(s);
      expect(events.map((e) => e.revision)).toEqual([...Array(10).keys()]);
    });

    it('stores an event id once when appended twice, sequentially and concurrently', async () => {
      const s = stream();
      const event = newEvent('Once', { x: 1 });
      const first = await store.appendToStream(s, [event]);
      const again = await store.appendToStream(s, [event]);
      expect(again).toEqual({ ...first, duplicate: true });

      const s2 = stream();
      const concurrent = newEvent('Once', { x: 2 });
      const results = await Promise.all(Array.from({ length: 20 }, () => store.appendToStream(s2, [concurrent])));
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.position)).size).toBe(1);
      expect(await store.readStream(s2)).toHaveLength(1);
      expect((await store.readStream(s)).length).toBe(1);
    });

    it('refuses a different payload, or another stream, under an existing event id', async () => {
      const s = stream();
      const id = randomUUID();
      await store.appendToStream(s, [newEvent('T', { v: 1 }, id)]);
      await expect(store.appendToStream(s, [newEvent('T', { v: 2 }, id)])).rejects.toBeInstanceOf(IdempotencyConflictError);
      await expect(store.appendToStream(stream(), [newEvent('T', { v: 1 }, id)])).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
      // Concurrent conflicting payloads: one stored, the others refused.
      const id2 = randomUUID();
      const s2 = stream();
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, v) => store.appendToStream(s2, [newEvent('T', { v }, id2)])));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(await store.readStream(s2)).toHaveLength(1);
    });

    it('rejects invalid appends before touching the store', async () => {
      const s = stream();
      await expect(store.appendToStream(s, [])).rejects.toBeInstanceOf(InvalidAppendError);
      await expect(store.appendToStream(s, [{ ...newEvent(), eventId: 'nope' }])).rejects.toBeInstanceOf(InvalidAppendError);
      await expect(store.appendToStream('bad stream id!', [newEvent()])).rejects.toBeInstanceOf(InvalidAppendError);
      const dupId = randomUUID();
      await expect(store.appendToStream(s, [newEvent('A', {}, dupId), newEvent('B', {}, dupId)])).rejects.toBeInstanceOf(InvalidAppendError);
      await expect(store.appendToStream(s, [newEvent()], { expectedRevision: -4 })).rejects.toBeInstanceOf(InvalidAppendError);
      expect(await store.readStream(s)).toEqual([]);
    });

    it('refuses data the database cannot hold without failing the appends batched with it', async () => {
      const good = Array.from({ length: 5 }, () => stream());
      const bad = stream();
      const outcomes = await Promise.allSettled([
        ...good.map((s) => store.appendToStream(s, [newEvent()])),
        store.appendToStream(bad, [newEvent('X', { text: 'nul\u0000byte' })]),
      ]);
      expect(outcomes.slice(0, 5).every((o) => o.status === 'fulfilled')).toBe(true);
      expect(outcomes[5]).toMatchObject({ status: 'rejected', reason: expect.any(InvalidAppendError) as unknown });
      expect(await store.readStream(bad)).toEqual([]);
    });

    it('keeps appends independent inside a group-committed batch', async () => {
      const s = stream();
      const outcomes = await Promise.allSettled([
        store.appendToStream(s, [newEvent('First')], { expectedRevision: 'no-stream' }),
        store.appendToStream(s, [newEvent('Second')], { expectedRevision: 0 }),
        store.appendToStream(s, [newEvent('Wrong')], { expectedRevision: 7 }),
        store.appendToStream(s, [newEvent('Third')], { expectedRevision: 1 }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['First', 'Second', 'Third']);
    });

    it('reads $all in position order from an exclusive position', async () => {
      const start = await store.headPosition();
      const s = stream();
      await store.appendToStream(s, [newEvent('P1'), newEvent('P2')]);
      await store.appendToStream(s, [newEvent('P3')]);
      const all = await store.readAll({ after: start, maxCount: 1000 });
      const mine = all.filter((e) => e.streamId === s);
      expect(mine.map((e) => e.type)).toEqual(['P1', 'P2', 'P3']);
      for (let i = 1; i < all.length; i++) expect(comparePositions((all[i - 1] as RecordedEvent).position, (all[i] as RecordedEvent).position)).toBe(-1);
      const after = await store.readAll({ after: mine[0]?.position, maxCount: 1000 });
      expect(after.filter((e) => e.streamId === s).map((e) => e.type)).toEqual(['P2', 'P3']);
      expect(await store.headPosition()).toBe(mine[2]?.position);
    });

    it('delivers to a subscriber what was stored (catch-up) and then what commits (live), in order', async () => {
      const start = await store.headPosition();
      const s = stream();
      await store.appendToStream(s, [newEvent('Before1'), newEvent('Before2')]);
      const received: RecordedEvent[] = [];
      const sub = store.subscribeToAll({ after: start });
      const reading = (async () => {
        for await (const batch of sub) {
          received.push(...batch.filter((e) => e.streamId === s));
          if (received.length >= 5) break;
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      for (const t of ['Live1', 'Live2', 'Live3']) await store.appendToStream(s, [newEvent(t)]);
      await reading;
      await sub.close();
      expect(received.map((e) => e.type)).toEqual(['Before1', 'Before2', 'Live1', 'Live2', 'Live3']);
    });

    it('delivers every event exactly once to a subscriber killed and resumed from its cursor many times', async () => {
      const start = await store.headPosition();
      const streams = Array.from({ length: 8 }, () => stream('resume'));
      const total = 2_000;
      const writing = (async () => {
        for (let i = 0; i < total / 20; i++) {
          await Promise.all(Array.from({ length: 20 }, (_, j) => store.appendToStream(streams[(i + j) % 8] as string, [newEvent('R', { i, j })])));
        }
      })();
      const seen: RecordedEvent[] = [];
      let cursor: Position = start;
      let restarts = 0;
      while (seen.length < total) {
        const sub = store.subscribeToAll({ after: cursor, batchSize: 37 });
        let taken = 0;
        const limit = 1 + Math.floor(Math.random() * 150);
        for await (const batch of sub) {
          for (const e of batch) {
            if (!streams.includes(e.streamId)) continue;
            seen.push(e);
          }
          cursor = (batch[batch.length - 1] as RecordedEvent).position;
          taken += batch.length;
          if (taken >= limit || seen.length >= total) break;
        }
        await sub.close();
        restarts++;
      }
      await writing;
      expect(restarts).toBeGreaterThan(10);
      expect(seen).toHaveLength(total);
      expect(new Set(seen.map((e) => e.eventId)).size).toBe(total);
      for (let i = 1; i < seen.length; i++) expect(comparePositions((seen[i - 1] as RecordedEvent).position, (seen[i] as RecordedEvent).position)).toBe(-1);
      const all = (await store.readAll({ after: start, maxCount: 100_000 })).filter((e) => streams.includes(e.streamId));
      expect(seen.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
    });

    it('delivers every event once and in order to each of several subscribers running at once, from different cursors and batch sizes', async () => {
      const start = await store.headPosition();
      const streams = Array.from({ length: 6 }, () => stream('fanout'));
      const total = 1_200;
      await store.appendToStream(streams[0] as string, [newEvent('Early')]);
      const early = await store.headPosition();
      const readers = [
        { after: start, batchSize: 500 },
        { after: start, batchSize: 13 },
        { after: early, batchSize: 100 },
        { after: start, batchSize: 1 },
        { after: early, batchSize: 500 },
      ].map(({ after, batchSize }) => {
        const sub = store.subscribeToAll({ after, batchSize });
        const expected = after === start ? total + 1 : total;
        const seen: RecordedEvent[] = [];
        const done = (async () => {
          for await (const batch of sub) {
            expect(batch.length).toBeLessThanOrEqual(batchSize);
            seen.push(...batch.filter((e) => streams.includes(e.streamId)));
            if (seen.length >= expected) break;
          }
          await sub.close();
        })();
        return { seen, done, expected };
      });
      for (let i = 0; i < total / 30; i++) {
        await Promise.all(Array.from({ length: 30 }, (_, j) => store.appendToStream(streams[j % 6] as string, [newEvent('F', { i, j })])));
      }
      await Promise.all(readers.map((r) => r.done));
      const all = (await store.readAll({ after: start, maxCount: 100_000 })).filter((e) => streams.includes(e.streamId));
      for (const reader of readers) {
        expect(reader.seen).toHaveLength(reader.expected);
        expect(reader.seen.map((e) => e.eventId)).toEqual(all.slice(all.length - reader.expected).map((e) => e.eventId));
      }
    });

    it('keeps stream metadata with an optimistic meta revision', async () => {
      const s = stream();
      expect(await store.getStreamMetadata(s)).toBeUndefined();
      expect(await store.setStreamMetadata(s, { retention: 'P6Y' }, { expectedMetaRevision: -1 })).toEqual({ metaRevision: 0 });
      await expect(store.setStreamMetadata(s, { retention: 'P1Y' }, { expectedMetaRevision: -1 })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      expect(await store.setStreamMetadata(s, { retention: 'P7Y' }, { expectedMetaRevision: 0 })).toEqual({ metaRevision: 1 });
      expect(await store.getStreamMetadata(s)).toEqual({ metaRevision: 1, metadata: { retention: 'P7Y' }, deleted: false });
    });

    it('refuses appends and reads of a tombstoned stream but keeps its events in $all', async () => {
      const start = await store.headPosition();
      const s = stream();
      await store.appendToStream(s, [newEvent('Gone')]);
      await store.tombstoneStream(s);
      await expect(store.appendToStream(s, [newEvent()])).rejects.toBeInstanceOf(StreamDeletedError);
      await expect(store.readStream(s)).rejects.toMatchObject({ code: 'STREAM_DELETED' });
      expect((await store.getStreamMetadata(s))?.deleted).toBe(true);
      expect((await store.readAll({ after: start })).some((e) => e.streamId === s)).toBe(true);
    });
  });
}
