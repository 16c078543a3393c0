import { describe, expect, it } from 'vitest';
import type { FeedCursor } from '../cursor';
import type { FeedEntry } from '../feed/feedSession';
import { checkingHorizon, FeedCursorExpiredError } from './feed';

const key = (n: number): FeedCursor => ({ feedId: String(n) });
const horizon = (n: number): string => String(n);

describe('checkingHorizon: a feed checks the retention horizon after each page while it catches up', () => {
  /** Pages of the given sizes in turn; horizons in turn. */
  function session(pageSizes: number[], horizons: (string | undefined)[]) {
    const calls: string[] = [];
    const read = checkingHorizon(
      (after) => {
        calls.push(`page after ${after === undefined ? '-' : after.feedId}`);
        return Promise.resolve(Array.from({ length: pageSizes.shift() ?? 0 }, () => ({}) as FeedEntry));
      },
      () => {
        calls.push('horizon');
        return Promise.resolve(horizons.shift());
      },
    );
    return { read, calls };
  }

  it('fails a page when a prune moved the horizon past the cursor it was read after', async () => {
    const { read, calls } = session([2], [horizon(5)]);
    await expect(read(key(3), 2)).rejects.toBeInstanceOf(FeedCursorExpiredError);
    // The page is read first: the horizon read after it covers a prune during that read.
    expect(calls).toEqual(['page after 3', 'horizon']);
  });

  it('checks every full backlog page and the first short one, then no more; a cursor at the horizon passes', async () => {
    const { read, calls } = session([2, 2, 1, 0], [horizon(3), horizon(3), horizon(4)]);
    await read(key(3), 2);
    await read(key(5), 2);
    await read(key(7), 2); // short: caught up
    await read(key(8), 2);
    expect(calls).toEqual(['page after 3', 'horizon', 'page after 5', 'horizon', 'page after 7', 'horizon', 'page after 8']);
  });

  it('catches a prune between two backlog pages of a feed opened without a cursor', async () => {
    const { read, calls } = session([2, 2], [horizon(9)]);
    await read(undefined, 2); // from the start of what is kept: nothing to check
    await expect(read(key(2), 2)).rejects.toBeInstanceOf(FeedCursorExpiredError);
    expect(calls).toEqual(['page after -', 'page after 2', 'horizon']);
  });
});
