import type { Position, RecordedEvent } from '../eventStore';

/** Reads up to `maxCount` events of `$all` strictly after `after`, as `readAll` does. */
export type ReadAfter = (after: Position, maxCount: number) => Promise<RecordedEvent[]>;

/**
 * The newest stretch of `$all` that this store's subscriptions have read, shared between them.
 *
 * Why: a process usually runs several subscriptions at the head of `$all` (the projection runner
 * has one per projection). Each wake-up made every one of them read and parse the same new rows;
 * with the tail, the first one reads them and the others are served from memory, and concurrent
 * reads at the same position are one query (single flight).
 *
 * Why it is correct: a read after position `a` returns the first visible events after `a`, and the
 * visible part of `$all` only ever grows at its end — an event becomes visible only once every
 * transaction with a smaller id has ended, so nothing can later appear between two events already
 * read. The tail therefore holds *every* event in (`from`, last], and any suffix of it is exactly
 * what a read would return now (possibly fewer events than a read would: the caller reads on from
 * the last one). Reads that are not contiguous with the tail never change it, except that a read
 * beyond its end restarts it there (the tail follows the subscriptions that lead).
 *
 * Subscribers share the RecordedEvent objects handed out from here: treat them as read-only (they
 * are, by type).
 */
export class AllTail {
  /** Exclusive lower bound of `events`. Undefined until the first read. */
  private from: Position | undefined;
  /** Every visible event after `from`, in position order, at most `capacity` of them. */
  private events: RecordedEvent[] = [];
  /** Reads at the end of (or beyond) the tail in flight, by `after`: concurrent callers share one query. */
  private readonly inflight = new Map<Position, { readonly seq: number; readonly maxCount: number; readonly result: Promise<RecordedEvent[]> }>();
  /** Reads started so far; a read's `seq` tells whether it began after a given caller asked. */
  private started = 0;

  constructor(
    private readonly readAfter: ReadAfter,
    private readonly capacity: number,
  ) {}

  /**
   * Up to `maxCount` events after `after`, from memory when the tail holds them. An empty answer
   * always comes from a read that began after this call: a subscriber takes "nothing new" as the
   * cue to sleep until the next notification, so an older read (which may predate the commit it was
   * woken for) must not give it that answer.
   */
  read(after: Position, maxCount: number): Promise<RecordedEvent[]> {
    return this.readAsked(after, maxCount, this.started);
  }

  private async readAsked(after: Position, maxCount: number, asked: number): Promise<RecordedEvent[]> {
    const served = this.serve(after, maxCount);
    if (served !== undefined && served.length > 0) return served;
    const shared = this.inflight.get(after);
    if (shared !== undefined && shared.maxCount >= maxCount) {
      const events = (await shared.result).slice(0, maxCount);
      if (events.length > 0 || shared.seq > asked) return events;
      return this.readAsked(after, maxCount, asked);
    }
    const seq = ++this.started;
    const result = this.readAfter(after, maxCount);
    const entry = { seq, maxCount, result };
    this.inflight.set(after, entry);
    try {
      const events = await result;
      this.remember(after, events);
      return events;
    } finally {
      if (this.inflight.get(after) === entry) this.inflight.delete(after);
    }
  }

  /** Events after `after` from memory; undefined when the tail does not cover `after`. */
  private serve(after: Position, maxCount: number): RecordedEvent[] | undefined {
    if (this.from === undefined || after < this.from) return undefined;
    const last = this.events.at(-1)?.position ?? this.from;
    if (after > last) return undefined;
    const i = this.firstAfter(after);
    return this.events.slice(i, i + maxCount);
  }

  /** Index of the first held event with a position greater than `after` (binary search). */
  private firstAfter(after: Position): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.events[mid] as RecordedEvent).position <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds a read's result when it continues the tail; restarts the tail when the read was beyond it. */
  private remember(after: Position, read: readonly RecordedEvent[]): void {
    const last = this.from === undefined ? undefined : (this.events.at(-1)?.position ?? this.from);
    if (last === undefined || after > last) {
      // Beyond the tail (or the first read): the tail restarts at this read, which is contiguous on its own.
      this.from = after;
      this.events = read.slice(-this.capacity);
      if (read.length > this.capacity) this.from = (read[read.length - this.capacity - 1] as RecordedEvent).position;
      return;
    }
    if (this.from === undefined || after < this.from) return; // behind the tail: a catch-up read, not kept
    // `after` lies within the tail, so the read is contiguous with it: keep what it adds past the end.
    const start = read.findIndex((e) => e.position > last);
    if (start < 0) return;
    for (let i = start; i < read.length; i++) this.events.push(read[i] as RecordedEvent);
    const excess = this.events.length - this.capacity;
    if (excess > 0) {
      this.from = (this.events[excess - 1] as RecordedEvent).position;
      this.events = this.events.slice(excess);
    }
  }

  /** Forgets everything (the store is closing). */
  clear(): void {
    this.from = undefined;
    this.events = [];
  }
}
