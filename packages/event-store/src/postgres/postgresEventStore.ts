import pg from 'pg';
import { defaultContentDigest } from '../canonicalJson';
import {
  IdempotencyConflictError,
  InvalidAppendError,
  StreamDeletedError,
  WrongExpectedRevisionError,
} from '../errors';
import {
  MAX_COALESCE_MS,
  START,
  type AllSubscription,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type JsonObject,
  type JsonValue,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
  type SubscribeToAllOptions,
} from '../eventStore';
import { decodePgPosition, encodePgPosition } from '../position';
import { AllTail } from './allTail';
import { Notifier } from './notifier';

export interface PostgresEventStoreOptions {
  /** Either a pool the caller owns, or a connection string (the store then owns its pool). */
  readonly pool?: pg.Pool;
  readonly connectionString?: string;
  readonly poolSize?: number;
  /**
   * Batch concurrent appends into one transaction (default true). With false every append is its
   * own transaction on its own pooled connection — the naive baseline the benchmark compares with.
   */
  readonly groupCommit?: boolean;
  readonly maxBatchEvents?: number;
  readonly maxBatchAppends?: number;
  /** LISTEN/NOTIFY channel used to wake subscribers after each committed batch. */
  readonly notifyChannel?: string;
  /** Poll interval of an idle subscription in case a notification is lost. */
  readonly idlePollMs?: number;
  /**
   * Newest events of `$all` kept in memory for this store's subscriptions (default 10,000; see
   * AllTail): subscriptions at the head share one read instead of each reading the same rows.
   */
  readonly subscriptionTailEvents?: number;
}

export const MAX_EVENTS_PER_APPEND = 10_000;
export const MAX_READ_COUNT = 100_000;
const STREAM_ID = /^[A-Za-z0-9][A-Za-z0-9_.:$@-]{0,199}$/;
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.-]{0,199}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RETRYABLE = new Set(['40P01', '40001', '23505']);
/** Longest wait of a caught-up subscription while committed rows are still beyond the horizon. */
const MAX_HORIZON_POLL_MS = 20;
const MAX_RETRIES = 5;

/** bigint columns we read are revisions and sequence numbers: safe as JS numbers. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  },
};

interface PendingAppend {
  readonly streamId: string;
  readonly events: readonly NewEvent[];
  readonly expected: ExpectedRevision;
  readonly digests: readonly string[];
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

interface AppendRow {
  idx: number;
  status: 'ok' | 'duplicate' | 'conflict' | 'deleted' | 'wrong_revision';
  actual: number;
  last_revision: number | null;
  tx: string | null;
  seq: number | null;
}

interface EventRow {
  tx: string;
  seq: string;
  event_id: string;
  stream_id: string;
  revision: number;
  type: string;
  schema_version: number;
  data: JsonValue;
  metadata: JsonObject;
  recorded_ms: number;
}

// Qualify columns in ORDER BY: `seq` alone would sort by the text alias below.
const EVENT_COLUMNS = `transaction_id::text AS tx, seq::text AS seq, event_id::text AS event_id, stream_id, revision, type,
  schema_version, data, metadata, (extract(epoch FROM recorded_at) * 1000)::float8 AS recorded_ms`;

function expectedCode(expected: ExpectedRevision): number {
  switch (expected) {
    case 'no-stream':
      return -1;
    case 'any':
      return -2;
    case 'stream-exists':
      return -3;
    default:
      return expected;
  }
}

/** The default event store: PostgreSQL, gap-free `$all` by transaction id, group commit, LISTEN/NOTIFY wake-ups. */
export class PostgresEventStore implements EventStore {
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly groupCommit: boolean;
  private readonly maxBatchEvents: number;
  private readonly maxBatchAppends: number;
  private readonly channel: string;
  private readonly idlePollMs: number;
  private readonly notifier: Notifier;
  private queue: PendingAppend[] = [];
  private writing = false;
  private notifying = false;
  private notifyPending = false;
  private readonly notifySql: string;
  private closed = false;
  private readonly subscriptions = new Set<AllSubscription>();
  private readonly tail: AllTail;
  private invisibleRunning: Promise<boolean> | undefined;
  private invisibleQueued: Promise<boolean> | undefined;

  constructor(options: PostgresEventStoreOptions) {
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else if (options.connectionString) {
      this.pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 10 });
      this.ownsPool = true;
    } else {
      throw new Error('PostgresEventStore needs a pool or a connectionString');
    }
    this.pool.on('error', () => undefined); // idle client errors surface on the next query
    this.groupCommit = options.groupCommit ?? true;
    this.maxBatchEvents = options.maxBatchEvents ?? 5_000;
    this.maxBatchAppends = options.maxBatchAppends ?? 1_000;
    this.channel = options.notifyChannel ?? 'es_events';
    this.idlePollMs = options.idlePollMs ?? 1_000;
    this.notifier = new Notifier(this.pool.options, this.channel);
    this.notifySql = `BEGIN; SET LOCAL synchronous_commit TO OFF; NOTIFY ${pg.escapeIdentifier(this.channel)}; COMMIT`;
    const tailEvents = options.subscriptionTailEvents ?? 10_000;
    if (!Number.isSafeInteger(tailEvents) || tailEvents < 1) throw new RangeError('subscriptionTailEvents must be a positive integer');
    this.tail = new AllTail((after, maxCount) => this.readAll({ after, maxCount }), tailEvents);
  }

  appendToStream(streamId: string, events: readonly NewEvent[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    const expected = options?.expectedRevision ?? 'any';
    return new Promise<AppendResult>((resolve, reject) => {
      // A throw in the executor rejects the promise: invalid input never reaches the queue.
      const digests = validateAppend(streamId, events, expected);
      const pending: PendingAppend = { streamId, events, expected, digests, resolve, reject };
      if (!this.groupCommit) {
        this.writeBatch([pending]).then(
          (wrote) => {
            if (wrote) this.notify();
          },
          (error: unknown) => reject(error instanceof Error ? error : new Error(String(error))),
        );
        return;
      }
      this.queue.push(pending);
      this.kick();
    });
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        const wrote = await this.writeBatch(batch);
        if (wrote) this.notify();
      }
    } finally {
      this.writing = false;
    }
  }

  /** Takes queued appends in order while they fit; an append reusing an event id of the batch waits for the next one. */
  private takeBatch(): PendingAppend[] {
    const batch: PendingAppend[] = [];
    const rest: PendingAppend[] = [];
    const ids = new Set<string>();
    let eventCount = 0;
    for (const pending of this.queue) {
      const fits = batch.length < this.maxBatchAppends && (batch.length === 0 || eventCount + pending.events.length <= this.maxBatchEvents);
      if (!fits || pending.events.some((e) => ids.has(e.eventId.toLowerCase()))) {
        rest.push(pending);
        continue;
      }
      for (const e of pending.events) ids.add(e.eventId.toLowerCase());
      eventCount += pending.events.length;
      batch.push(pending);
    }
    this.queue = rest;
    return batch;
  }

  /** Writes one batch in one statement (one transaction). Returns whether anything new was written. */
  private async writeBatch(batch: readonly PendingAppend[]): Promise<boolean> {
    const appends: { s: string; e: number; n: number; o: number }[] = [];
    const events: { i: string; t: string; v: number; d: JsonValue; m: JsonObject; h: string }[] = [];
    for (const p of batch) {
      appends.push({ s: p.streamId, e: expectedCode(p.expected), n: p.events.length, o: events.length + 1 });
      p.events.forEach((ev, i) => {
        events.push({ i: ev.eventId, t: ev.type, v: ev.schemaVersion, d: ev.data, m: ev.metadata, h: p.digests[i] as string });
      });
    }
    let rows: AppendRow[];
    // Optimistic first: no per-event probe of the event-id index. A re-sent id then trips the
    // unique constraint, and the batch goes again with the probe on (duplicate / conflict / new).
    let checkDuplicates = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.pool.query<AppendRow>({
          text: 'SELECT * FROM es_append($1::jsonb, $2::jsonb, $3::boolean)',
          values: [JSON.stringify(appends), JSON.stringify(events), checkDuplicates],
          types: TYPES,
        });
        rows = result.rows;
        break;
      } catch (error) {
        const code = (error as { code?: string; constraint?: string }).code;
        if (code === '23505' && !checkDuplicates) {
          checkDuplicates = true;
          attempt--;
          continue;
        }
        if (code !== undefined && RETRYABLE.has(code) && attempt < MAX_RETRIES) {
          await sleep(2 ** attempt * 5 * Math.random());
          continue;
        }
        if (batch.length > 1) {
          // Isolate the append that the database refused; the others still go through.
          const outcomes = await Promise.all(batch.map((p) => this.writeBatch([p]).catch(() => false)));
          return outcomes.some(Boolean);
        }
        for (const p of batch) p.reject(mapDatabaseError(error));
        return false;
      }
    }
    let wrote = false;
    for (const row of rows) {
      const p = batch[row.idx];
      if (!p) continue;
      switch (row.status) {
        case 'ok':
          wrote = true;
          p.resolve({ nextExpectedRevision: row.last_revision as number, position: encodePgPosition(row.tx as string, row.seq as number), duplicate: false });
          break;
        case 'duplicate':
          p.resolve({ nextExpectedRevision: row.last_revision as number, position: encodePgPosition(row.tx as string, row.seq as number), duplicate: true });
          break;
        case 'conflict':
          p.reject(new IdempotencyConflictError(p.events[0]?.eventId ?? ''));
          break;
        case 'deleted':
          p.reject(new StreamDeletedError(p.streamId));
          break;
        case 'wrong_revision':
          p.reject(new WrongExpectedRevisionError(p.streamId, p.expected, row.actual < 0 ? 'no-stream' : row.actual));
          break;
        default: {
          const unexpected: never = row.status;
          p.reject(new Error(`unexpected append status ${String(unexpected)}`));
        }
      }
    }
    return wrote;
  }

  /**
   * One NOTIFY per committed batch, after commit: inside the append transaction it would serialise
   * all commits. A NOTIFY transaction gets a transaction id, so with synchronous_commit on it would
   * wait for its own WAL flush and compete with the next batch's: it commits asynchronously (a lost
   * notification only delays subscribers until their poll). While one is in flight, further batches
   * coalesce into a single follow-up notification.
   */
  private notify(): void {
    if (this.notifying) {
      this.notifyPending = true;
      return;
    }
    this.notifying = true;
    this.pool
      .query(this.notifySql)
      .catch(() => undefined)
      .finally(() => {
        this.notifying = false;
        if (this.notifyPending) {
          this.notifyPending = false;
          this.notify();
        }
      });
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const maxCount = clampCount(options.maxCount ?? MAX_READ_COUNT);
    const from = options.fromRevision ?? (backwards ? Number.MAX_SAFE_INTEGER : 0);
    const result = await this.pool.query<EventRow & { deleted: boolean; tx: string | null }>({
      text: `SELECT s.deleted, e.* FROM es_streams s
             LEFT JOIN LATERAL (
               SELECT ${EVENT_COLUMNS} FROM es_events
                WHERE stream_id = s.stream_id AND ${backwards ? 'revision <= $2' : 'revision >= $2'}
                ORDER BY es_events.revision ${backwards ? 'DESC' : 'ASC'} LIMIT $3
             ) e ON true
             WHERE s.stream_id = $1`,
      values: [streamId, from, maxCount],
      types: TYPES,
    });
    if (result.rows[0]?.deleted) throw new StreamDeletedError(streamId);
    return result.rows.filter((r) => r.tx !== null).map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { txId, seq } = decodePgPosition(options.after ?? START);
    const maxCount = clampCount(options.maxCount ?? 1_000);
    const result = await this.pool.query<EventRow>({
      text: `SELECT ${EVENT_COLUMNS} FROM es_events
              WHERE (transaction_id, seq) > ($1::text::xid8, $2::bigint)
                AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY es_events.transaction_id, es_events.seq
              LIMIT $3`,
      values: [txId, seq, maxCount],
      types: TYPES,
    });
    return result.rows.map(toRecorded);
  }

  async headPosition(): Promise<Position> {
    const result = await this.pool.query<{ tx: string; seq: string }>(
      `SELECT transaction_id::text AS tx, seq::text AS seq FROM es_events
        WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY es_events.transaction_id DESC, es_events.seq DESC LIMIT 1`,
    );
    const row = result.rows[0];
    return row ? encodePgPosition(row.tx, row.seq) : START;
  }

  /**
   * True when committed-or-running transactions have written rows readers cannot see yet. Every
   * caught-up subscription asks after each empty read, usually all at once after one wake-up: they
   * share the query. A caller never gets the answer of a query that began before it asked (it could
   * predate the rows the caller is about to wait for): while one runs, later callers share the next.
   */
  private hasInvisibleEvents(): Promise<boolean> {
    if (this.invisibleRunning === undefined) {
      const running = this.queryInvisibleEvents().finally(() => {
        if (this.invisibleRunning === running) this.invisibleRunning = undefined;
      });
      this.invisibleRunning = running;
      return running;
    }
    this.invisibleQueued ??= this.invisibleRunning
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.invisibleQueued = undefined;
        return this.hasInvisibleEvents();
      });
    return this.invisibleQueued;
  }

  /**
   * Whether the newest stored transaction id is at or past the horizon. Asked as "the largest id"
   * (one probe at the end of the primary key) rather than "EXISTS a row with id >= horizon": the
   * planner cannot estimate a comparison with pg_snapshot_xmin(), guessed a third of the table and
   * scanned all of es_events for every idle poll (3.7 ms at 17k events, growing with the store).
   */
  private async queryInvisibleEvents(): Promise<boolean> {
    const result = await this.pool.query<{ pending: boolean | null }>(
      `SELECT (SELECT transaction_id FROM es_events ORDER BY transaction_id DESC, seq DESC LIMIT 1) >= pg_snapshot_xmin(pg_current_snapshot()) AS pending`,
    );
    return result.rows[0]?.pending ?? false;
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AllSubscription {
    const batchSize = clampCount(options.batchSize ?? 1_000);
    const coalesceMs = options.coalesceMs ?? 0;
    if (!Number.isFinite(coalesceMs) || coalesceMs < 0 || coalesceMs > MAX_COALESCE_MS) throw new RangeError(`coalesceMs must be a number from 0 to ${MAX_COALESCE_MS}`);
    // Listened to only once the options are accepted: a throw above leaves no listener behind.
    const abort = new AbortController();
    const onOuterAbort = (): void => abort.abort();
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (options.signal?.aborted) abort.abort();
    let after = options.after ?? START;
    // Through the shared tail: subscriptions at the head read each new row once between them.
    const tail = this.tail;
    const readAll = (o: { after: Position; maxCount: number }): Promise<RecordedEvent[]> => tail.read(o.after, o.maxCount);
    const hasInvisibleEvents = (): Promise<boolean> => this.hasInvisibleEvents();
    const notifier = this.notifier;
    const idlePollMs = this.idlePollMs;

    async function* batches(): AsyncGenerator<readonly RecordedEvent[]> {
      let backoffMs = 5;
      // While the consumer handles one batch, the next is already being read (catch-up overlaps
      // the database's work with ours). Only prefetched after a non-empty batch.
      let prefetched: Promise<RecordedEvent[]> | undefined;
      let prefetchStartedAt = 0;
      try {
        while (!abort.signal.aborted) {
          await notifier.ensureListening();
          const generation = notifier.generation;
          const fromPrefetch = prefetched !== undefined;
          // When the batch comes from a prefetch, its read began when the prefetch was sent.
          const readStartedAt = fromPrefetch ? prefetchStartedAt : performance.now();
          const batch = await (prefetched ?? readAll({ after, maxCount: batchSize }));
          prefetched = undefined;
          if (abort.signal.aborted) return;
          // A prefetch began before `generation` was taken: read again rather than risk sleeping through a wake-up.
          if (batch.length === 0 && fromPrefetch) continue;
          if (batch.length > 0) {
            after = (batch[batch.length - 1] as RecordedEvent).position;
            backoffMs = 5;
            if (batch.length === batchSize) {
              prefetchStartedAt = performance.now();
              prefetched = readAll({ after, maxCount: batchSize });
              prefetched.catch(() => undefined); // surfaced when awaited
            }
            yield batch;
            // A batch that was not full: the events committing now are gathered for one read.
            // (A batch served from the shared tail can be short although more rows are stored;
            // it waits the same way, so a subscription behind the others reads on within coalesceMs.)
            if (batch.length < batchSize && coalesceMs > 0) await delay(readStartedAt + coalesceMs - performance.now(), abort.signal);
            continue;
          }
          // Caught up. Rows beyond the horizon become visible when an older transaction ends,
          // which sends no notification: poll briefly while such rows exist.
          // The check is one index probe shared by every subscription of this store, so the poll
          // can stay tight (at most MAX_HORIZON_POLL_MS): under write load the horizon is held by
          // some short transaction most of the time, and each millisecond waited here is lag.
          const pending = await hasInvisibleEvents();
          backoffMs = pending ? Math.min(backoffMs * 2, MAX_HORIZON_POLL_MS) : 5;
          await notifier.waitForChange(generation, pending ? backoffMs : idlePollMs, abort.signal);
        }
      } finally {
        await prefetched?.catch(() => undefined);
        options.signal?.removeEventListener('abort', onOuterAbort);
      }
    }

    const iterator = batches();
    const subscription: AllSubscription = {
      [Symbol.asyncIterator]: () => iterator,
      close: async () => {
        abort.abort();
        this.subscriptions.delete(subscription);
        await iterator.return(undefined);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata | undefined> {
    const result = await this.pool.query<{ meta: JsonObject; meta_revision: number; deleted: boolean }>({
      text: 'SELECT meta, meta_revision, deleted FROM es_streams WHERE stream_id = $1',
      values: [streamId],
      types: TYPES,
    });
    const row = result.rows[0];
    return row ? { metadata: row.meta, metaRevision: row.meta_revision, deleted: row.deleted } : undefined;
  }

  async setStreamMetadata(streamId: string, metadata: JsonObject, options: { expectedMetaRevision?: number | 'any' } = {}): Promise<{ metaRevision: number }> {
    assertStreamId(streamId);
    const expected = options.expectedMetaRevision ?? 'any';
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO es_streams (stream_id) VALUES ($1) ON CONFLICT DO NOTHING', [streamId]);
      const current = await client.query<{ meta_revision: number; deleted: boolean }>({
        text: 'SELECT meta_revision, deleted FROM es_streams WHERE stream_id = $1 FOR UPDATE',
        values: [streamId],
        types: TYPES,
      });
      const row = current.rows[0] as { meta_revision: number; deleted: boolean };
      if (row.deleted) throw new StreamDeletedError(streamId);
      if (expected !== 'any' && expected !== row.meta_revision) {
        throw new WrongExpectedRevisionError(`${streamId}/$metadata`, expected, row.meta_revision < 0 ? 'no-stream' : row.meta_revision);
      }
      const next = row.meta_revision + 1;
      await client.query('UPDATE es_streams SET meta = $2, meta_revision = $3 WHERE stream_id = $1', [streamId, JSON.stringify(metadata), next]);
      await client.query('COMMIT');
      return { metaRevision: next };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async tombstoneStream(streamId: string): Promise<void> {
    assertStreamId(streamId);
    await this.pool.query(
      'INSERT INTO es_streams (stream_id, deleted) VALUES ($1, true) ON CONFLICT (stream_id) DO UPDATE SET deleted = true',
      [streamId],
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    while (this.writing) await sleep(5);
    await this.notifier.close();
    this.tail.clear();
    if (this.ownsPool) await this.pool.end();
  }
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    streamId: row.stream_id,
    revision: row.revision,
    position: encodePgPosition(row.tx, row.seq),
    recordedAt: new Date(Math.floor(row.recorded_ms)),
    data: row.data,
    metadata: row.metadata,
  };
}

function assertStreamId(streamId: string): void {
  if (typeof streamId !== 'string' || !STREAM_ID.test(streamId)) {
    throw new InvalidAppendError('streamId must be 1-200 characters of letters, digits and _.:$@- starting with a letter or digit');
  }
}

function validateAppend(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): string[] {
  assertStreamId(streamId);
  if (!(expected === 'any' || expected === 'no-stream' || expected === 'stream-exists' || (Number.isSafeInteger(expected) && expected >= 0))) {
    throw new InvalidAppendError('expectedRevision must be a revision >= 0, "no-stream", "stream-exists" or "any"');
  }
  const given: unknown = events;
  const isList = Array.isArray(given);
  if (!isList || events.length === 0) throw new InvalidAppendError('an append needs at least one event');
  if (events.length > MAX_EVENTS_PER_APPEND) throw new InvalidAppendError(`an append holds at most ${MAX_EVENTS_PER_APPEND} events`);
  const seen = new Set<string>();
  return events.map((event, i) => {
    if (typeof event.eventId !== 'string' || !UUID.test(event.eventId)) throw new InvalidAppendError(`events[${i}].eventId must be a UUID`);
    const id = event.eventId.toLowerCase();
    if (seen.has(id)) throw new InvalidAppendError(`events[${i}].eventId repeats an id of the same append`);
    seen.add(id);
    if (typeof event.type !== 'string' || !EVENT_TYPE.test(event.type)) throw new InvalidAppendError(`events[${i}].type is not a valid event type`);
    if (!Number.isInteger(event.schemaVersion) || event.schemaVersion < 1) throw new InvalidAppendError(`events[${i}].schemaVersion must be a positive integer`);
    if (event.metadata === null || typeof event.metadata !== 'object' || Array.isArray(event.metadata)) {
      throw new InvalidAppendError(`events[${i}].metadata must be an object`);
    }
    if (event.data === undefined) throw new InvalidAppendError(`events[${i}].data is required`);
    return event.contentDigest ?? defaultContentDigest(event.type, event.schemaVersion, event.data);
  });
}

function mapDatabaseError(error: unknown): unknown {
  const code = (error as { code?: string }).code;
  // 22P05: a \u0000 in JSON; 22xxx: data exceptions — the input, not the store, is at fault.
  if (code !== undefined && code.startsWith('22')) return new InvalidAppendError('event data or metadata cannot be stored (invalid JSON text)');
  return error;
}

function clampCount(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('maxCount must be a positive integer');
  return Math.min(n, MAX_READ_COUNT);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits `ms` (nothing when not positive), or less when `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
