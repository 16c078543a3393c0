import { describe, expect, it } from 'vitest';
import type { FeedCursor } from '../cursor';
import { FeedSession, type FeedEntry, type FeedSocket } from './feedSession';

/** A socket whose writes complete only when the test flushes them; bufferedAmount counts unflushed bytes. */
class FakeSocket implements FeedSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  private readonly callbacks: (() => void)[] = [];

  send(data: string, callback: (error?: Error) => void): void {
    this.sent.push(data);
    this.bufferedAmount += data.length;
    this.callbacks.push(() => {
      this.bufferedAmount -= data.length;
      callback();
    });
  }

  flush(): void {
    for (const cb of this.callbacks.splice(0)) cb();
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function table(n: number): FeedEntry[] {
  return Array.from({ length: n }, (_, i) => ({ cursor: { feedId: String(i + 1) }, message: `m${i}` }));
}

function reader(rows: FeedEntry[]): { readPage: (after: FeedCursor | undefined, limit: number) => Promise<FeedEntry[]>; reads: number } {
  const state = {
    reads: 0,
    readPage: (after: FeedCursor | undefined, limit: number) => {
      state.reads++;
      const start = after ? rows.findIndex((r) => r.cursor.feedId === after.feedId) + 1 : 0;
      return Promise.resolve(rows.slice(start, start + limit));
    },
  };
  return state;
}

describe('FeedSession', () => {
  it('sends the backlog page by page, in order, each row once', async () => {
    const socket = new FakeSocket();
    const rows = table(23);
    const source = reader(rows);
    const session = new FeedSession({ socket, readPage: source.readPage, after: undefined, pageSize: 5, highWaterBytes: 1_000_000, onError: () => undefined });
    session.wake();
    await session.whenIdle();
    expect(socket.sent).toEqual(rows.map((r) => r.message));
    expect(source.reads).toBe(5);
  });

  it('stops reading while the client has not taken what was sent, and resumes once it has', async () => {
    const socket = new FakeSocket();
    const source = reader(table(30));
    const session = new FeedSession({ socket, readPage: source.readPage, after: undefined, pageSize: 5, highWaterBytes: 4, onError: () => undefined });
    session.wake();
    for (let i = 0; i < 5; i++) await tick();
    // One page went out; the buffer is above the high-water mark, so no further read happened.
    expect(source.reads).toBe(1);
    expect(socket.sent).toHaveLength(5);
    socket.flush();
    for (let i = 0; i < 5; i++) await tick();
    expect(source.reads).toBe(2);
    expect(socket.sent).toHaveLength(10);
    while (socket.sent.length < 30) {
      socket.flush();
      await tick();
    }
    socket.flush();
    await session.whenIdle();
    expect(socket.sent).toEqual(table(30).map((r) => r.message));
  });

  it('coalesces wake-ups during a read into one more read from the last cursor', async () => {
    const socket = new FakeSocket();
    const rows = table(3);
    const source = reader(rows);
    const session = new FeedSession({ socket, readPage: source.readPage, after: undefined, pageSize: 10, highWaterBytes: 1_000_000, onError: () => undefined });
    session.wake();
    session.wake();
    session.wake();
    rows.push(...table(5).slice(3));
    await session.whenIdle();
    expect(socket.sent).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(source.reads).toBe(2);
  });

  it('advances past rows without a message and skips nothing after them', async () => {
    const socket = new FakeSocket();
    const rows = table(4).map((r, i) => (i === 1 ? { ...r, message: undefined } : r));
    const session = new FeedSession({ socket, readPage: reader(rows).readPage, after: undefined, pageSize: 2, highWaterBytes: 1_000_000, onError: () => undefined });
    session.wake();
    await session.whenIdle();
    expect(socket.sent).toEqual(['m0', 'm2', 'm3']);
    expect(session.position).toEqual(rows[3]?.cursor);
  });

  it('reports a failed read and stops', async () => {
    const socket = new FakeSocket();
    const errors: unknown[] = [];
    const session = new FeedSession({ socket, readPage: () => Promise.reject(new Error('db down')), after: undefined, pageSize: 2, highWaterBytes: 10, onError: (e) => errors.push(e) });
    session.wake();
    await session.whenIdle();
    expect(errors).toHaveLength(1);
    session.wake();
    await session.whenIdle();
    expect(errors).toHaveLength(1);
  });

  it('reads nothing more once stopped', async () => {
    const socket = new FakeSocket();
    const source = reader(table(3));
    const session = new FeedSession({ socket, readPage: source.readPage, after: undefined, pageSize: 10, highWaterBytes: 1_000_000, onError: () => undefined });
    await session.stop();
    session.wake();
    await session.whenIdle();
    expect(source.reads).toBe(0);
  });
});
