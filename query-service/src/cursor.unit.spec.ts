import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFeedCursor, decodeWorkoutListCursor, encodeFeedCursor, encodeWorkoutListCursor, InvalidCursorError, RetiredFeedCursorError } from './cursor';

const reencode = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('cursors', () => {
  it('round-trip every well-formed workout list cursor', () => {
    const instant = fc
      .tuple(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 }))
      .map(([d, us]) => `${d.toISOString().slice(0, 23)}${us.toString().padStart(3, '0')}Z`);
    fc.assert(
      fc.property(instant, fc.uuid({ version: 4 }), (sortAt, workoutId) => {
        expect(decodeWorkoutListCursor(encodeWorkoutListCursor({ sortAt, workoutId }))).toEqual({ sortAt, workoutId });
      }),
    );
  });

  it('round-trip every well-formed feed cursor', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }), (n) => {
        expect(decodeFeedCursor(encodeFeedCursor({ feedId: n.toString() }))).toEqual({ feedId: n.toString() });
      }),
    );
  });

  it('tell a feed cursor of the earlier form (an event position) from a malformed one', () => {
    expect(() => decodeFeedCursor(reencode({ k: 'fd', p: '0'.repeat(31) + '7', q: 2 }))).toThrow(RetiredFeedCursorError);
    expect(() => decodeFeedCursor(reencode({ k: 'fd', p: '0'.repeat(31) + '7', q: 2 }))).not.toThrow(InvalidCursorError);
  });

  it('reject anything else as InvalidCursorError', () => {
    const good = { k: 'wl', s: '2024-01-01T00:00:00.000000Z', w: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61' };
    const bad = [
      '',
      'not base64!',
      `${reencode(good)}=`,
      reencode({ ...good, s: '2024-01-01T00:00:00Z' }),
      reencode({ ...good, s: '2024-13-45T00:00:00.000000Z' }),
      reencode({ ...good, w: 'ABC' }),
      reencode({ ...good, extra: true }),
      reencode({ ...good, k: 'fd' }),
      reencode('just a string'),
      'A'.repeat(300),
    ];
    for (const cursor of bad) expect(() => decodeWorkoutListCursor(cursor), cursor).toThrow(InvalidCursorError);
    expect(decodeWorkoutListCursor(reencode(good)).sortAt).toBe(good.s);
    const badFeed = [
      { k: 'fd', p: 'A'.repeat(32), q: 0 },
      { k: 'fd', p: '0'.repeat(32), q: -1 },
      { k: 'fd', p: '0'.repeat(32), q: 1.5 },
      { k: 'fd', i: '0' },
      { k: 'fd', i: '007' },
      { k: 'fd', i: '-1' },
      { k: 'fd', i: 7 },
      { k: 'fd', i: '9223372036854775808' }, // 2^63
      { k: 'fd', i: '1', p: '0'.repeat(32) },
    ];
    for (const cursor of badFeed.map(reencode)) {
      expect(() => decodeFeedCursor(cursor)).toThrow(InvalidCursorError);
    }
  });
});
