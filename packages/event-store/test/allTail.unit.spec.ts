import { describe, expect, it } from 'vitest';
import { START, type Position, type RecordedEvent } from '../src/eventStore';
import { encodePgPosition } from '../src/position';
import { AllTail } from '../src/postgres/allTail';

/** `$all` as a list that grows at its end only, as the visible part of the real one does. */
class FakeAll {
  readonly events: RecordedEvent[] = [];
  reads: { after: Position; maxCount: number }[] = [];
  private gate: Promise<void> | undefined;
  private open: () => void = () => undefined;

  append(n: number): void {
    for (let i = 0; i < n; i++) {
      const k = this.events.length + 1;
      this.events.push({
        eventId: `e${k}`,
        type: 'Appended',
        schemaVersion: 1,
        streamId: 's',
        revision: k - 1,
        position: encodePgPosition(1000 + k, k),
        recordedAt: new Date(0),
        data: { k },
        metadata: {},
      });
    }
  }

  /** Holds reads until `release()`, to make them concurrent. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open();
    this.gate = undefined;
  }

  readonly read = async (after: Position, maxCount: number): Promise<RecordedEvent[]> => {
    this.reads.push({ after, maxCount });
    const snapshot = this.events.filter((e) => e.position > after).slice(0, maxCount);
    if (this.gate) await this.gate;
    return snapshot;
  };

  after(position: Position, maxCount: number): RecordedEvent[] {
    return this.events.filter((e) => e.position > position).slice(0, maxCount);
  }
}

const ids = (events: readonly RecordedEvent[]): string[] => events.map((e) => e.eventId);
const positionOf = (all: FakeAll, k: number): Position => (all.events[k - 1] as RecordedEvent).position;

describe('AllTail (shared reads of the head of $all)', () => {
  it('serves later readers at the same position from memory', async () => {
    const all = new FakeAll();
    all.append(5);
    const tail = new AllTail(all.read, 100);
    expect(ids(await tail.read(START, 10))).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(ids(await tail.read(START, 10))).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(ids(await tail.read(positionOf(all, 2), 2))).toEqual(['e3', 'e4']);
    expect(all.reads).toHaveLength(1);
  });

  it('reads the store again at the end of what it holds, and keeps what that read adds', async () => {
    const all = new FakeAll();
    all.append(3);
    const tail = new AllTail(all.read, 100);
    await tail.read(START, 10);
    expect(await tail.read(positionOf(all, 3), 10)).toEqual([]); // caught up: asks the store
    all.append(2);
    expect(ids(await tail.read(positionOf(all, 3), 10))).toEqual(['e4', 'e5']);
    expect(ids(await tail.read(positionOf(all, 1), 10))).toEqual(['e2', 'e3', 'e4', 'e5']); // contiguous
    expect(all.reads).toHaveLength(3);
  });

  it('answers concurrent readers at the same position with one read', async () => {
    const all = new FakeAll();
    all.append(4);
    const tail = new AllTail(all.read, 100);
    all.hold();
    const readers = Array.from({ length: 8 }, () => tail.read(START, 10));
    all.release();
    for (const events of await Promise.all(readers)) expect(ids(events)).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(all.reads).toHaveLength(1);
  });

  it('never answers "nothing new" from a read that began before the reader asked (it could predate the commit the reader was woken for)', async () => {
    const all = new FakeAll();
    all.append(2);
    const tail = new AllTail(all.read, 100);
    await tail.read(START, 10);
    const end = positionOf(all, 2);
    all.hold();
    const early = tail.read(end, 10); // its snapshot: nothing after e2
    all.append(3); // committed (and notified) while that read is in flight
    const woken = tail.read(end, 10); // a subscriber woken by that commit
    all.release();
    expect(await early).toEqual([]);
    expect(ids(await woken)).toEqual(['e3', 'e4', 'e5']);
    // Readers that asked while the read was in flight share one follow-up read, not one each.
    all.hold();
    const first = tail.read(positionOf(all, 5), 10);
    const joiners = Array.from({ length: 5 }, () => tail.read(positionOf(all, 5), 10));
    const before = all.reads.length;
    all.release();
    await Promise.all([first, ...joiners]);
    expect(all.reads.length - before).toBeLessThanOrEqual(1);
  });

  it('gives a concurrent reader that wants more than the read in flight its own read', async () => {
    const all = new FakeAll();
    all.append(6);
    const tail = new AllTail(all.read, 100);
    all.hold();
    const small = tail.read(START, 2);
    const large = tail.read(START, 5);
    all.release();
    expect(ids(await small)).toEqual(['e1', 'e2']);
    expect(ids(await large)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
  });

  it('leaves reads behind what it holds (a subscription catching up) to the store, and does not keep them', async () => {
    const all = new FakeAll();
    all.append(10);
    const tail = new AllTail(all.read, 100);
    await tail.read(positionOf(all, 6), 10); // the tail now starts after e6
    expect(ids(await tail.read(positionOf(all, 2), 3))).toEqual(['e3', 'e4', 'e5']);
    expect(ids(await tail.read(positionOf(all, 2), 3))).toEqual(['e3', 'e4', 'e5']);
    expect(all.reads).toHaveLength(3);
    expect(ids(await tail.read(positionOf(all, 6), 10))).toEqual(['e7', 'e8', 'e9', 'e10']); // still held
    expect(all.reads).toHaveLength(3);
  });

  it('moves to a read beyond its end (it follows the subscriptions that lead)', async () => {
    const all = new FakeAll();
    all.append(10);
    const tail = new AllTail(all.read, 100);
    await tail.read(START, 2); // holds e1..e2
    expect(ids(await tail.read(positionOf(all, 7), 10))).toEqual(['e8', 'e9', 'e10']);
    expect(ids(await tail.read(positionOf(all, 8), 10))).toEqual(['e9', 'e10']);
    expect(all.reads).toHaveLength(2);
    await tail.read(positionOf(all, 1), 1); // e2 is no longer held
    expect(all.reads).toHaveLength(3);
  });

  it('keeps at most `capacity` events, dropping the oldest, and stays exact about what it holds', async () => {
    const all = new FakeAll();
    all.append(30);
    const tail = new AllTail(all.read, 8);
    await tail.read(START, 5);
    await tail.read(positionOf(all, 5), 5);
    await tail.read(positionOf(all, 10), 5); // holds e8..e15
    const before = all.reads.length;
    expect(ids(await tail.read(positionOf(all, 7), 100))).toEqual(['e8', 'e9', 'e10', 'e11', 'e12', 'e13', 'e14', 'e15']);
    expect(all.reads).toHaveLength(before);
    expect(ids(await tail.read(positionOf(all, 6), 3))).toEqual(['e7', 'e8', 'e9']); // dropped: read again
    expect(all.reads).toHaveLength(before + 1);
  });

  it('never skips or repeats an event for a reader following it while the log grows', async () => {
    const all = new FakeAll();
    const tail = new AllTail(all.read, 16);
    const received: string[] = [];
    let after: Position = START;
    for (let round = 0; round < 200; round++) {
      all.append(round % 7);
      // Two readers race at the head; one follows the whole log.
      const [mine] = await Promise.all([tail.read(after, 5), tail.read(after, 3)]);
      received.push(...ids(mine));
      after = mine.at(-1)?.position ?? after;
    }
    for (;;) {
      const rest = await tail.read(after, 50);
      if (rest.length === 0) break;
      received.push(...ids(rest));
      after = (rest.at(-1) as RecordedEvent).position;
    }
    expect(received).toEqual(ids(all.after(START, 10_000)));
  });
});
