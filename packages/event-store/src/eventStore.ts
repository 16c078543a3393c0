/** JSON values as stored in `data` and `metadata`. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * A position in `$all`: one comparable cursor that orders events exactly as readers receive them.
 * For PostgreSQL it packs (transaction id, sequence) as 32 lowercase hex digits (16 + 16), so plain
 * string comparison is the delivery order. Treat it as opaque outside the adapters.
 */
export type Position = string & { readonly __brand: 'Position' };

/** The position before the first event. */
export const START: Position = '0'.repeat(32) as Position;

export function comparePositions(a: Position, b: Position): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Expected stream state for an append. A number is the exact revision of the stream's last event. */
export type ExpectedRevision = 'no-stream' | 'stream-exists' | 'any' | number;

/** An event to append. `eventId` is a UUID; supplying the same id again makes the append idempotent. */
export interface NewEvent {
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: JsonValue;
  readonly metadata: JsonObject;
  /**
   * What makes two appends under the same event id "the same event". Defaults to a SHA-256 of the
   * type, schema version and data. Callers whose data is encrypted with a random nonce pass a keyed
   * hash of the plaintext instead, so a retried command is still recognised as a duplicate.
   */
  readonly contentDigest?: string;
}

/** An event as stored. `revision` counts from 0 within its stream. */
export interface RecordedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly streamId: string;
  readonly revision: number;
  readonly position: Position;
  /** System time at which the store committed the event (UTC). */
  readonly recordedAt: Date;
  readonly data: JsonValue;
  readonly metadata: JsonObject;
}

export interface AppendResult {
  /** Revision of the last event in the stream after this append. */
  readonly nextExpectedRevision: number;
  /** Position of the last event appended (or of the original events when the append was a duplicate). */
  readonly position: Position;
  /** True when every event id was already stored with the same content: nothing new was written. */
  readonly duplicate: boolean;
}

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive. Forwards defaults to 0, backwards to the last revision. */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events strictly after this position. Defaults to START. */
  readonly after?: Position;
  readonly maxCount?: number;
}

export interface SubscribeToAllOptions {
  /** Exclusive resume cursor. Defaults to START (catch up from the beginning). */
  readonly after?: Position;
  /** Largest batch handed to the consumer at once. */
  readonly batchSize?: number;
  /**
   * Live batches: after a batch that was not full, the next read begins no sooner than this many
   * milliseconds after the previous one began, so events committed meanwhile arrive as one batch
   * instead of one small batch per commit (a consumer's per-batch work — a transaction, a
   * checkpoint — is then shared by more events, at the price of up to this much extra lag).
   * Full batches (catching up) are never held back. Default 0: the next read begins as soon as
   * the consumer asks for it. At most MAX_COALESCE_MS.
   */
  readonly coalesceMs?: number;
  readonly signal?: AbortSignal;
}

/** Longest `coalesceMs` a subscription accepts: more would only be lag. */
export const MAX_COALESCE_MS = 1_000;

/**
 * A catch-up subscription to `$all`: yields batches in position order, first everything already
 * stored, then live batches as they commit. Ends when closed or when its signal aborts.
 */
export interface AllSubscription extends AsyncIterable<readonly RecordedEvent[]> {
  close(): Promise<void>;
}

export interface StreamMetadata {
  readonly metaRevision: number;
  readonly metadata: JsonObject;
  readonly deleted: boolean;
}

/** The event store port. Adapters: PostgreSQL (default), EventStoreDB/KurrentDB. */
export interface EventStore {
  appendToStream(streamId: string, events: readonly NewEvent[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeToAllOptions): AllSubscription;
  /** Position of the newest event visible to readers (START when empty). */
  headPosition(): Promise<Position>;
  getStreamMetadata(streamId: string): Promise<StreamMetadata | undefined>;
  setStreamMetadata(streamId: string, metadata: JsonObject, options?: { expectedMetaRevision?: number | 'any' }): Promise<{ metaRevision: number }>;
  /** Marks a stream deleted for good: later appends and reads fail with StreamDeletedError. Its events stay in `$all`. */
  tombstoneStream(streamId: string): Promise<void>;
  close(): Promise<void>;
}
