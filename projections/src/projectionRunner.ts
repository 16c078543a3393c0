import type { DecodedEvent, ErasedEvent } from '@fitledger/event-codec';
import { START, type EventStore, type Position, type RecordedEvent } from '@fitledger/event-store';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { FeedChange, ReadModelDb } from './readModelDb';

/** A decoded event whose subject was not erased: what projections see. */
export type ReadableEvent = Exclude<DecodedEvent, ErasedEvent>;

/** A PostgreSQL read model fed from `$all`. Its tables and its checkpoint change in one transaction. */
export interface Projection {
  /** Stable name: the checkpoint key and the argument of `rebuild`. */
  readonly name: string;
  /** Event types it reads; others are not decrypted (the checkpoint still moves past them). Omit for all. */
  readonly eventTypes?: ReadonlySet<string>;
  /**
   * Applies a batch, in position order, inside the runner's transaction, and returns the feed changes
   * it wrote. Events of erased subjects never arrive here. Must be deterministic: a rebuild from START
   * with the same batch size gives identical rows.
   */
  apply(events: readonly ReadableEvent[], trx: Transaction<ReadModelDb>): Promise<FeedChange[]>;
  /** Empties the projection's tables (rebuild); runs in the same transaction that drops the checkpoint. */
  reset(trx: Transaction<ReadModelDb>): Promise<void>;
}

/** Announced in-process after a batch committed (feed changes in cursor order). */
export interface CommittedBatch {
  readonly projection: string;
  /** The projection's new checkpoint: position of the batch's last event. */
  readonly position: Position;
  readonly changes: readonly FeedChange[];
}

export type CommitListener = (batch: CommittedBatch) => void | Promise<void>;

/** The subset of pino's logger the runner uses. Only names, positions, counts and error codes are logged: no PHI. */
export interface ProjectionLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What a tracing hook learns about a batch (see `traceBatch`). */
export interface BatchTraceInfo {
  readonly projection: string;
  readonly fromPosition: Position;
  readonly toPosition: Position;
  readonly eventCount: number;
  /** Distinct W3C traceparents found in the events' metadata (the requests that wrote them), at most 32. */
  readonly traceparents: readonly string[];
}

/**
 * Wraps the processing of one batch (decode, apply, commit), e.g. in a span linked to the writers'
 * traces (`linkFromTraceparent` of @fitledger/observability). Must call `run` exactly once and return its result.
 */
export type BatchTracer = <T>(info: BatchTraceInfo, run: () => Promise<T>) => Promise<T>;

/** Decodes stored events (EventCodec satisfies it). */
export interface EventDecoder {
  decode(recorded: RecordedEvent): Promise<DecodedEvent>;
}

export interface ProjectionRunnerOptions {
  readonly store: EventStore;
  readonly codec: EventDecoder;
  readonly db: Kysely<ReadModelDb>;
  readonly projections: readonly Projection[];
  /** Most events per batch, i.e. per read-model transaction (default 500). */
  readonly batchSize?: number;
  /**
   * Most events per batch while `rebuild` replays up to the head (default `batchSize`). Bigger
   * batches amortise each transaction's fixed costs; feed payloads show entities as of the end of the
   * batch that wrote them, so they may differ from those written live.
   */
  readonly rebuildBatchSize?: number;
  readonly onCommitted?: CommitListener;
  readonly logger?: ProjectionLogger;
  readonly traceBatch?: BatchTracer;
  /** Channel of the one NOTIFY sent after each committed batch (default `rm_changes`). */
  readonly notifyChannel?: string;
  /** Back-off after a failed batch: doubles from `initialMs` up to `maxMs` (defaults 100 ms, 30 s). */
  readonly retryDelay?: { readonly initialMs?: number; readonly maxMs?: number };
}

/** The database's checkpoint is not the one this runner resumed from: another runner (or a rebuild) moved it. */
export class CheckpointMovedError extends Error {
  readonly code = 'CHECKPOINT_MOVED';
  constructor(
    readonly projection: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`checkpoint of projection ${projection} moved from ${expected} to ${actual} under this runner`);
  }
}

export class UnknownProjectionError extends Error {
  readonly code = 'UNKNOWN_PROJECTION';
  constructor(name: string, known: readonly string[]) {
    super(`unknown projection ${JSON.stringify(name)}; known projections: ${known.join(', ')}`);
  }
}

export const READ_MODEL_NOTIFY_CHANNEL = 'rm_changes';
const MAX_TRACEPARENTS = 32;

const silentLogger: ProjectionLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface Loop {
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

/**
 * Feeds each projection from its own checkpoint: every batch of `$all` is decoded, applied and
 * checkpointed in one read-model transaction (exactly-once effect: a crash rolls back rows and
 * checkpoint together, and the batch is replayed). After commit it calls the commit listeners and
 * sends one `NOTIFY rm_changes` (payload `{"projection","position"}`) for other processes.
 *
 * Each transaction re-reads the checkpoint `FOR UPDATE` and refuses to apply when it is not the one
 * this runner resumed from, so two runners of the same projection (or a rebuild from another
 * process) can only cost duplicate reads, never duplicate effects.
 */
export class ProjectionRunner {
  private readonly store: EventStore;
  private readonly codec: EventDecoder;
  private readonly db: Kysely<ReadModelDb>;
  private readonly projections: ReadonlyMap<string, Projection>;
  private readonly batchSize: number;
  private readonly rebuildBatchSize: number;
  private readonly logger: ProjectionLogger;
  private readonly traceBatch: BatchTracer | undefined;
  private readonly channel: string;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly listeners = new Set<CommitListener>();
  private readonly loops = new Map<string, Loop>();
  private started = false;

  constructor(options: ProjectionRunnerOptions) {
    this.store = options.store;
    this.codec = options.codec;
    this.db = options.db;
    const byName = new Map<string, Projection>();
    for (const p of options.projections) {
      if (byName.has(p.name)) throw new Error(`two projections are named ${p.name}`);
      byName.set(p.name, p);
    }
    this.projections = byName;
    this.batchSize = options.batchSize ?? 500;
    if (!Number.isSafeInteger(this.batchSize) || this.batchSize < 1) throw new RangeError('batchSize must be a positive integer');
    this.rebuildBatchSize = options.rebuildBatchSize ?? this.batchSize;
    if (!Number.isSafeInteger(this.rebuildBatchSize) || this.rebuildBatchSize < 1) throw new RangeError('rebuildBatchSize must be a positive integer');
    this.logger = options.logger ?? silentLogger;
    this.traceBatch = options.traceBatch;
    this.channel = options.notifyChannel ?? READ_MODEL_NOTIFY_CHANNEL;
    this.retryInitialMs = options.retryDelay?.initialMs ?? 100;
    this.retryMaxMs = options.retryDelay?.maxMs ?? 30_000;
    if (options.onCommitted) this.listeners.add(options.onCommitted);
  }

  get projectionNames(): string[] {
    return [...this.projections.keys()];
  }

  /**
   * Calls `listener` after every committed batch of every projection, in commit order per
   * projection. It runs on the runner's path: keep it quick (hand work off), it is not awaited and
   * its errors are logged, never retried. Returns the function that removes it.
   */
  addCommitListener(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Starts one catch-up-then-live loop per projection. Returns at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const projection of this.projections.values()) this.startLoop(projection);
    this.logger.info({ projections: this.projectionNames, batchSize: this.batchSize }, 'projection runner started');
  }

  /** Stops every loop; a batch in flight is finished and committed first. */
  async stop(): Promise<void> {
    this.started = false;
    const loops = [...this.loops.values()];
    for (const loop of loops) loop.abort.abort();
    await Promise.all(loops.map((loop) => loop.done));
    this.logger.info({}, 'projection runner stopped');
  }

  /** The projection's checkpoint (START when it has none). */
  async checkpoint(name: string): Promise<Position> {
    this.projection(name);
    const row = await this.db.selectFrom('projection_checkpoints').select('position').where('name', '=', name).executeTakeFirst();
    return (row?.position ?? START) as Position;
  }

  /**
   * Empties the projection's tables and removes its checkpoint in one transaction, then replays
   * `$all` from START up to the head as of the reset; resolves with that head once reached. When the
   * runner is started the projection then goes on live; otherwise (CLI) the replay loop ends there.
   * Readers see the tables empty and filling up meanwhile.
   */
  async rebuild(name: string): Promise<Position> {
    const projection = this.projection(name);
    const running = this.loops.get(name);
    if (running) {
      running.abort.abort();
      await running.done;
    }
    await this.db.transaction().execute(async (trx) => {
      await projection.reset(trx);
      await trx.deleteFrom('projection_checkpoints').where('name', '=', name).execute();
    });
    const head = await this.store.headPosition();
    this.logger.info({ projection: name, head }, 'projection reset, replaying from the start');
    // Replay up to the head in rebuild-sized batches; a started runner then goes on live.
    const abort = new AbortController();
    const done = this.runLoop(projection, abort.signal, head, this.rebuildBatchSize);
    this.loops.set(name, { abort, done: done.catch(() => undefined) });
    try {
      await done;
    } finally {
      this.loops.delete(name);
      if (this.started && !abort.signal.aborted) this.startLoop(projection);
    }
    if (abort.signal.aborted && (await this.checkpoint(name)) < head) {
      throw new Error(`rebuild of ${name} was stopped before it reached ${head}`);
    }
    this.logger.info({ projection: name, head }, 'projection rebuilt');
    return head;
  }

  /**
   * Resolves once the projection's checkpoint is at or past `position` (read-your-writes after a
   * command). Wakes on this runner's commits and re-reads the checkpoint every `pollMs` (another
   * process may run the projection). Rejects when `signal` aborts.
   */
  async waitForPosition(name: string, position: Position, options: { signal?: AbortSignal; pollMs?: number } = {}): Promise<void> {
    this.projection(name);
    const pollMs = options.pollMs ?? 250;
    const { signal } = options;
    for (;;) {
      signal?.throwIfAborted();
      if ((await this.checkpoint(name)) >= position) return;
      // A commit between the read above and the listener below is caught by the next poll.
      await new Promise<void>((resolve, reject) => {
        const finish = (): void => {
          clearTimeout(timer);
          remove();
          signal?.removeEventListener('abort', onAbort);
        };
        const timer = setTimeout(() => {
          finish();
          resolve();
        }, pollMs);
        const remove = this.addCommitListener((batch) => {
          if (batch.projection !== name || batch.position < position) return;
          finish();
          resolve();
        });
        const onAbort = (): void => {
          finish();
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  private projection(name: string): Projection {
    const projection = this.projections.get(name);
    if (!projection) throw new UnknownProjectionError(name, this.projectionNames);
    return projection;
  }

  private startLoop(projection: Projection): void {
    const abort = new AbortController();
    const done = this.runLoop(projection, abort.signal).catch((error: unknown) => {
      this.logger.error({ projection: projection.name, err: safeError(error) }, 'projection loop ended by an error');
    });
    const loop: Loop = {
      abort,
      done: done.finally(() => {
        if (this.loops.get(projection.name) === loop) this.loops.delete(projection.name);
      }),
    };
    this.loops.set(projection.name, loop);
  }

  /**
   * Subscribes from the checkpoint and applies batches until aborted. With `until`, ends once the
   * checkpoint reaches it and lets errors propagate (a CLI wants to fail); without, retries with back-off.
   */
  private async runLoop(projection: Projection, signal: AbortSignal, until?: Position, batchSize = this.batchSize): Promise<void> {
    let delayMs = this.retryInitialMs;
    while (!signal.aborted) {
      try {
        let checkpoint = await this.checkpoint(projection.name);
        if (until !== undefined && checkpoint >= until) return;
        const subscription = this.store.subscribeToAll({ after: checkpoint, batchSize, signal });
        try {
          for await (const batch of subscription) {
            if (batch.length === 0) continue;
            checkpoint = await this.processBatch(projection, batch, checkpoint);
            delayMs = this.retryInitialMs;
            if (until !== undefined && checkpoint >= until) return;
            if (signal.aborted) return;
          }
        } finally {
          await subscription.close();
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof CheckpointMovedError) {
          this.logger.warn({ projection: projection.name, expected: error.expected, actual: error.actual }, 'checkpoint moved by another runner; resuming from it');
          continue;
        }
        if (until !== undefined) throw error;
        this.logger.error({ projection: projection.name, err: safeError(error), retryInMs: delayMs }, 'projection batch failed');
        await sleep(delayMs, signal);
        delayMs = Math.min(delayMs * 2, this.retryMaxMs);
      }
    }
  }

  /** Decodes, applies and checkpoints one batch; returns the new checkpoint. */
  private async processBatch(projection: Projection, batch: readonly RecordedEvent[], expected: Position): Promise<Position> {
    const name = projection.name;
    const from = (batch[0] as RecordedEvent).position;
    const to = (batch[batch.length - 1] as RecordedEvent).position;
    const wanted = projection.eventTypes ? batch.filter((e) => projection.eventTypes?.has(e.type)) : batch;
    this.logger.debug({ projection: name, from, to, events: batch.length, applying: wanted.length }, 'applying batch');

    const run = async (): Promise<FeedChange[]> => {
      // Decrypt before the transaction opens: key look-ups must not lengthen it.
      const decoded = await Promise.all(wanted.map((e) => this.codec.decode(e)));
      const readable = decoded.filter((e): e is ReadableEvent => e.erased !== true);
      if (readable.length < decoded.length) {
        this.logger.debug({ projection: name, from, to, skippedErased: decoded.length - readable.length }, 'skipped events of erased subjects');
      }
      return this.db.transaction().execute(async (trx) => {
        // Read models are derived data, checkpointed with their rows: a crash may lose the last
        // batches committed, and they are then simply applied again from the event store. No batch
        // needs to wait for its WAL flush.
        await sql`SET LOCAL synchronous_commit = off`.execute(trx);
        await trx.insertInto('projection_checkpoints').values({ name, position: START }).onConflict((oc) => oc.column('name').doNothing()).execute();
        const current = await trx.selectFrom('projection_checkpoints').select('position').where('name', '=', name).forUpdate().executeTakeFirstOrThrow();
        if (current.position !== expected) throw new CheckpointMovedError(name, expected, current.position);
        const changes = readable.length > 0 ? await projection.apply(readable, trx) : [];
        await trx
          .updateTable('projection_checkpoints')
          .set({ position: to, updated_at: sql<Date>`now()` })
          .where('name', '=', name)
          .execute();
        return changes;
      });
    };

    const changes = this.traceBatch
      ? await this.traceBatch({ projection: name, fromPosition: from, toPosition: to, eventCount: batch.length, traceparents: traceparentsOf(wanted) }, run)
      : await run();

    this.logger.debug({ projection: name, position: to, changes: changes.length }, 'batch committed');
    this.announce({ projection: name, position: to, changes });
    return to;
  }

  private announce(batch: CommittedBatch): void {
    // After commit, outside the transaction: a NOTIFY inside it would serialise commits on the notify queue lock.
    sql`SELECT pg_notify(${this.channel}, ${JSON.stringify({ projection: batch.projection, position: batch.position })})`
      .execute(this.db)
      .catch((error: unknown) => this.logger.warn({ projection: batch.projection, err: safeError(error) }, 'NOTIFY after commit failed'));
    for (const listener of this.listeners) {
      try {
        const result = listener(batch);
        if (result instanceof Promise) {
          result.catch((error: unknown) => this.logger.warn({ projection: batch.projection, err: safeError(error) }, 'commit listener failed'));
        }
      } catch (error) {
        this.logger.warn({ projection: batch.projection, err: safeError(error) }, 'commit listener failed');
      }
    }
  }
}

function traceparentsOf(events: readonly RecordedEvent[]): string[] {
  const found = new Set<string>();
  for (const event of events) {
    const traceparent = event.metadata.traceparent;
    if (typeof traceparent === 'string') found.add(traceparent);
    if (found.size >= MAX_TRACEPARENTS) break;
  }
  return [...found];
}

/** Name, code and message only: pg's `detail` and `where` can quote row values. */
export function safeError(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: 'NonError', message: 'a non-Error value was thrown' };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
