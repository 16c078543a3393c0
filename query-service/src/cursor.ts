/**
 * Opaque cursors: base64url of a small JSON object with a kind tag, decoded strictly. Cursors are
 * not signed: every query they feed is already restricted to the caller's own rows, so a forged
 * but well-formed cursor can only move the caller within their own data. Malformed ones are 400s.
 */

/** Keyset position in the workout list: (sort_at DESC, workout_id DESC). */
export interface WorkoutListCursor {
  /** `sort_at` in UTC with microseconds, e.g. 2024-05-01T07:30:00.123456Z. */
  readonly sortAt: string;
  readonly workoutId: string;
}

/** Feed position: `feed_id` of the last change the client received (bigint as decimal text). */
export interface FeedCursor {
  readonly feedId: string;
}

/**
 * A feed cursor of the form issued before migration 0024 (an event position): well formed, but the
 * feed is no longer ordered by it. Answered like an expired cursor: reload, open without one.
 */
export class RetiredFeedCursorError extends Error {
  constructor() {
    super('the cursor is of a form this feed no longer continues from');
    this.name = 'RetiredFeedCursorError';
  }
}

export class InvalidCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
  constructor(message = 'the cursor is not one this service issued') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const POSITION = /^[0-9a-f]{32}$/;
// UTC with microseconds (timestamptz precision): a millisecond cursor would skip rows that differ
// from the page's last row only below the millisecond.
const ISO_INSTANT_US = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const MAX_CURSOR_LENGTH = 1024;

function encode(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decode(cursor: string, kind: string): Record<string, unknown> {
  // Buffer's decoder skips characters outside the alphabet; check the alphabet and round trip first.
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw new InvalidCursorError();
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.toString('base64url') !== cursor) throw new InvalidCursorError();
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidCursorError();
  const record = value as Record<string, unknown>;
  if (record['k'] !== kind) throw new InvalidCursorError();
  return record;
}

function exactKeys(record: Record<string, unknown>, keys: readonly string[]): boolean {
  const present = Object.keys(record);
  return present.length === keys.length && keys.every((k) => present.includes(k));
}

export function encodeWorkoutListCursor(cursor: WorkoutListCursor): string {
  return encode({ k: 'wl', s: cursor.sortAt, w: cursor.workoutId });
}

/** Throws InvalidCursorError unless `cursor` is a well-formed workout list cursor. */
export function decodeWorkoutListCursor(cursor: string): WorkoutListCursor {
  const record = decode(cursor, 'wl');
  const { s, w } = record;
  if (!exactKeys(record, ['k', 's', 'w']) || typeof s !== 'string' || typeof w !== 'string') throw new InvalidCursorError();
  if (!ISO_INSTANT_US.test(s) || Number.isNaN(Date.parse(s))) throw new InvalidCursorError();
  if (!UUID.test(w)) throw new InvalidCursorError();
  return { sortAt: s, workoutId: w };
}

/** Keyset position in a body-measurement series: (measured_at DESC, measurement_id DESC). */
export interface MeasurementSeriesCursor {
  /** `measured_at` in UTC with microseconds. */
  readonly measuredAt: string;
  readonly measurementId: string;
}

export function encodeMeasurementSeriesCursor(cursor: MeasurementSeriesCursor): string {
  return encode({ k: 'bm', t: cursor.measuredAt, m: cursor.measurementId });
}

/** Throws InvalidCursorError unless `cursor` is a well-formed body-measurement series cursor. */
export function decodeMeasurementSeriesCursor(cursor: string): MeasurementSeriesCursor {
  const record = decode(cursor, 'bm');
  const { t, m } = record;
  if (!exactKeys(record, ['k', 't', 'm']) || typeof t !== 'string' || typeof m !== 'string') throw new InvalidCursorError();
  if (!ISO_INSTANT_US.test(t) || Number.isNaN(Date.parse(t)) || !UUID.test(m)) throw new InvalidCursorError();
  return { measuredAt: t, measurementId: m };
}

export function encodeFeedCursor(cursor: FeedCursor): string {
  return encode({ k: 'fd', i: cursor.feedId });
}

// A positive bigint: at most 19 digits, no leading zero.
const FEED_ID = /^[1-9][0-9]{0,18}$/;
const MAX_FEED_ID = 2n ** 63n - 1n;

/**
 * Throws InvalidCursorError unless `cursor` is a well-formed feed cursor, RetiredFeedCursorError
 * for a well-formed one of the earlier form ({p: position, q: seq}).
 */
export function decodeFeedCursor(cursor: string): FeedCursor {
  const record = decode(cursor, 'fd');
  const { i, p, q } = record;
  if (exactKeys(record, ['k', 'p', 'q']) && typeof p === 'string' && POSITION.test(p) && typeof q === 'number' && Number.isSafeInteger(q) && q >= 0 && q <= 2_147_483_647) {
    throw new RetiredFeedCursorError();
  }
  if (!exactKeys(record, ['k', 'i']) || typeof i !== 'string' || !FEED_ID.test(i) || BigInt(i) > MAX_FEED_ID) throw new InvalidCursorError();
  return { feedId: i };
}

/** Keyset position in a ranked exercise search, bound to the query it came from. */
export interface ExerciseSearchCursor {
  /** Score as numeric text (at most 6 decimals). */
  readonly score: string;
  readonly sortName: string;
  readonly exerciseId: string;
  /** Hash of the query and filters: a cursor only continues the search that issued it. */
  readonly queryHash: string;
}

const SCORE = /^\d{1,3}(?:\.\d{1,6})?$/;
const QUERY_HASH = /^[A-Za-z0-9_-]{16}$/;

export function encodeExerciseSearchCursor(cursor: ExerciseSearchCursor): string {
  return encode({ k: 'ex', s: cursor.score, n: cursor.sortName, i: cursor.exerciseId, h: cursor.queryHash });
}

/** Throws InvalidCursorError unless `cursor` is a well-formed exercise search cursor. */
export function decodeExerciseSearchCursor(cursor: string): ExerciseSearchCursor {
  const record = decode(cursor, 'ex');
  const { s, n, i, h } = record;
  if (!exactKeys(record, ['k', 's', 'n', 'i', 'h']) || typeof s !== 'string' || typeof n !== 'string' || typeof i !== 'string' || typeof h !== 'string') {
    throw new InvalidCursorError();
  }
  if (!SCORE.test(s) || n.length > 300 || !UUID.test(i) || !QUERY_HASH.test(h)) throw new InvalidCursorError();
  return { score: s, sortName: n, exerciseId: i, queryHash: h };
}
