import type { DecodedEvent, ErasedEvent } from '@fitledger/event-codec';
import { MAX_COALESCE_MS, START, type EventStore, type Position, type RecordedEvent } from '@fitledger/event-store';
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
  /**
   * Optional two-phase form of `apply`; when present the runner uses it instead. `prepare` does the
   * work that needs no transaction (folding events, building rows) and the returned batch writes
   * inside the runner's transaction. Catching up, the runner prepares batch N+1 while batch N is
   * being written, so Node's work and PostgreSQL's overlap. Batches are prepared in order, one
   * ahead at most: prepare(N+1) starts after prepare(N) resolved and before N settles, so state kept
   * between batches must let N+1 see N's effects, and must be forgotten when any batch settles
   * with `committed: false`. `db` reads committed rows only (batch N may still be in flight). A
   * prepare that throws must leave nothing behind either.
   */
  prepare?(events: readonly ReadableEvent[], db: Kysely<ReadModelDb>): Promise<PreparedBatch>;
}

/** A batch made ready by `Projection.prepare`. */
export interface PreparedBatch {
  /** Writes the batch inside the runner's transaction and returns the feed changes it wrote. */
  write(trx: Transaction<ReadModelDb>): Promise<FeedChange[]>;
  /**
   * Called exactly once: `true` after the transaction committed; `false` when it failed or rolled
   * back, or when the batch was dropped unwritten (the loop stopped or restarted).
   */
  settle(committed: boolean): void;
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
  /** Most events per batch while `rebuild` replays up to the head (default `batchSize`). Bigger batches amortise each transaction's fixed costs. */
  readonly rebuildBatchSize?: number;
  /**
   * Live, a batch that was not full is followed by a read no sooner than this many milliseconds
   * after the previous read began (the subscription's `coalesceMs`): under write load a projection
   * then applies the events of that interval in one transaction instead of one transaction per
   * commit, for up to this much extra lag. Default 0.
   */
  readonly coalesceMs?: number;
  readonly onCommitted?: CommitListener;
  readonly logger?: ProjectionLogger;
  readonly traceBatch?: BatchTracer;
  /** Channel of the one NOTIFY sent after each committed batch (default `rm_changes`). */
  readonly notifyChannel?: string;
  /** Back-off after a failed batch: doubles from `initialMs` up to `maxMs` (defaults 100 ms, 30 s). */
  readonly retryDelay?: { readonly initialMs?: number; readonly maxMs?: number };
  /**
   * How long a checkpoint moved only by batches without any of a projection's event types may stay
   * in memory before it is written (default 100 ms; see `Progress`). Such batches change no rows,
   * so they need no read-model transaction, only the checkpoint row eventually.
   */
  readonly checkpointWriteDelayMs?: number;
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
/** Events decoded between two turns of the event loop (see decodeAll). */
const DECODE_SLICE = 250;

const silentLogger: ProjectionLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface Loop {
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

/**
 * Where one loop of a projection stands. `applied` is how far the read model reflects `$all`;
 * `stored` is the checkpoint row as this loop last wrote (or read) it.
 *
 * A batch holding none of the projection's event types changes none of its rows. Applying it in a
 * read-model transaction of its own (lock the checkpoint, update it, commit, NOTIFY) cost every
 * projection about eight round trips per batch of `$all` although only one or two projections care
 * about any given event: under write load that was most of the runner's work. Such a batch only
 * moves `applied`; `stored` follows with one conditional UPDATE at most `checkpointWriteDelayMs`
 * later, or with the next batch that does change rows (its transaction writes the checkpoint as
 * before, rows and checkpoint together). A crash in between only makes the projection read the
 * skipped events again and skip them again: the exactly-once effect on the rows is untouched.
 *
 * In this process `waitForPosition` and the commit listeners see `applied` at once; other processes
 * read the checkpoint row and see it within the delay.
 */
interface Progress {
  readonly name: string;
  stored: Position;
  applied: Position;
  writeTimer: NodeJS.Timeout | undefined;
  writing: Promise<void> | undefined;
  /** Set when a delayed write found the row moved by someone else: the loop resumes from the row. */
  moved: CheckpointMovedError | undefined;
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
  private readonly coalesceMs: number;
  private readonly logger: ProjectionLogger;
  private readonly traceBatch: BatchTracer | undefined;
  private readonly channel: string;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly checkpointWriteDelayMs: number;
  private readonly listeners = new Set<CommitListener>();
  private readonly loops = new Map<string, Loop>();
  /** Progress of the loop currently feeding each projection (see `Progress`). */
  private readonly progress = new Map<string, Progress>();
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
    this.coalesceMs = options.coalesceMs ?? 0;
    if (!Number.isFinite(this.coalesceMs) || this.coalesceMs < 0 || this.coalesceMs > MAX_COALESCE_MS) throw new RangeError(`coalesceMs must be a number from 0 to ${MAX_COALESCE_MS}`);
    this.logger = options.logger ?? silentLogger;
    this.traceBatch = options.traceBatch;
    this.channel = options.notifyChannel ?? READ_MODEL_NOTIFY_CHANNEL;
    this.retryInitialMs = options.retryDelay?.initialMs ?? 100;
    this.retryMaxMs = options.retryDelay?.maxMs ?? 30_000;
    this.checkpointWriteDelayMs = options.checkpointWriteDelayMs ?? 100;
    if (!Number.isFinite(this.checkpointWriteDelayMs) || this.checkpointWriteDelayMs < 0) throw new RangeError('checkpointWriteDelayMs must be a non-negative number');
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
      if ((await this.appliedPosition(name)) >= position) return;
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

  /**
   * How far the projection's rows reflect `$all`: the checkpoint row, or further when this runner's
   * loop has moved past batches without the projection's events and not written that down yet. The
   * loop's own view counts only while the row is still the one it wrote (no one else moved it).
   */
  private async appliedPosition(name: string): Promise<Position> {
    const stored = await this.checkpoint(name);
    const progress = this.progress.get(name);
    return progress !== undefined && progress.stored === stored && progress.applied > stored ? progress.applied : stored;
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
      let progress: Progress | undefined;
      try {
        const checkpoint = await this.checkpoint(projection.name);
        if (until !== undefined && checkpoint >= until) return;
        progress = { name: projection.name, stored: checkpoint, applied: checkpoint, writeTimer: undefined, writing: undefined, moved: undefined };
        this.progress.set(projection.name, progress);
        const subscription = this.store.subscribeToAll({ after: checkpoint, batchSize, coalesceMs: this.coalesceMs, signal });
        const batches = subscription[Symbol.asyncIterator]();
        // The next batch is asked for as soon as one arrives, and decrypted as soon as it is there:
        // while one batch's transaction waits on the database, the next one is decoded (a rebuild
        // otherwise alternates between an idle database and an idle event loop).
        const decodedAhead = new WeakMap<readonly RecordedEvent[], Promise<DecodedEvent[]>>();
        const requestNext = (): Promise<IteratorResult<readonly RecordedEvent[]>> => {
          const next = batches.next().then((result) => {
            if (result.done !== true) {
              const decoding = this.decodeWanted(projection, result.value);
              if (decoding !== undefined) {
                decoding.catch(() => undefined); // surfaced when the batch is processed
                decodedAhead.set(result.value, decoding);
              }
            }
            return result;
          });
          next.catch(() => undefined); // surfaced when awaited (not at all once the loop has ended)
          return next;
        };
        // Two-phase projections: the next batch, once it is there and decoded, is prepared while this
        // one is written (see Projection.prepare). At most one batch is prepared ahead.
        let ahead: { readonly batch: readonly RecordedEvent[]; readonly plan: Promise<PreparedBatch | undefined> } | undefined;
        let ended = false;
        let upcoming = requestNext();
        /** Whether the batch after the one in hand was asked for (see the loop). */
        let requested = true;
        const requestOnce = (): void => {
          if (requested) return;
          requested = true;
          upcoming = requestNext();
        };
        const prepareAhead = (): void => {
          const next = upcoming;
          void next.then((result) => {
            if (ended || ahead !== undefined || result.done === true) return;
            const decoding = decodedAhead.get(result.value);
            if (decoding === undefined) return;
            const plan = decoding.then((decoded) => this.prepareReadable(projection, decoded));
            plan.catch(() => undefined); // surfaced when the batch is processed
            ahead = { batch: result.value, plan };
          }, () => undefined); // a failed read surfaces where the loop awaits `upcoming`
        };
        try {
          for (;;) {
            const result = await upcoming;
            if (result.done === true) break;
            const batch = result.value;
            requested = false;
            // A two-phase projection asks for the next batch once this one's transaction writes: the
            // next batch's decoding then overlaps the write instead of holding up the transaction's
            // first statements. Others ask at once (their decoding overlaps the whole transaction).
            if (projection.prepare === undefined) requestOnce();
            if (batch.length === 0) {
              requestOnce();
              continue;
            }
            let prepared: Promise<PreparedBatch | undefined> | undefined;
            if (ahead?.batch === batch) {
              prepared = ahead.plan;
              ahead = undefined;
            }
            try {
              await this.processBatch(
                projection,
                batch,
                progress,
                decodedAhead.get(batch),
                prepared,
                projection.prepare
                  ? () => {
                      requestOnce();
                      prepareAhead();
                    }
                  : undefined,
              );
            } finally {
              requestOnce();
            }
            delayMs = this.retryInitialMs;
            if (until !== undefined && progress.applied >= until) return;
            if (signal.aborted) return;
          }
        } finally {
          ended = true;
          // A batch prepared but not written is dropped: the projection forgets what it prepared.
          const dropped = ahead;
          ahead = undefined;
          if (dropped !== undefined) this.settleQuietly(projection, await dropped.plan.catch(() => undefined), false);
          await subscription.close();
          // Write down what the skipped batches moved, so a stop or a finished rebuild leaves the row current.
          await this.settleCheckpoint(progress, true).catch((error: unknown) => {
            this.logger.warn({ projection: projection.name, err: safeError(error) }, 'checkpoint write failed; the skipped events will be read again');
          });
          if (this.progress.get(projection.name) === progress) this.progress.delete(projection.name);
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

  /** The projection's events of a batch, or everything when it names no event types. */
  private wantedOf(projection: Projection, batch: readonly RecordedEvent[]): readonly RecordedEvent[] {
    return projection.eventTypes ? batch.filter((e) => projection.eventTypes?.has(e.type)) : batch;
  }

  /** Starts decrypting the projection's events of a batch; undefined when it has none. Runs outside any transaction: key look-ups must not lengthen one. */
  private decodeWanted(projection: Projection, batch: readonly RecordedEvent[]): Promise<DecodedEvent[]> | undefined {
    const wanted = this.wantedOf(projection, batch);
    return wanted.length === 0 ? undefined : this.decodeAll(wanted);
  }

  /**
   * Decodes events in slices of DECODE_SLICE, letting the event loop run between slices. Decoding
   * runs while another batch's statements are under way: all at once it would be one long burst
   * of microtasks during which no reply of the database is handled, and the database would wait.
   */
  private async decodeAll(events: readonly RecordedEvent[]): Promise<DecodedEvent[]> {
    if (events.length <= DECODE_SLICE) return Promise.all(events.map((e) => this.codec.decode(e)));
    const decoded: DecodedEvent[] = [];
    for (let i = 0; i < events.length; i += DECODE_SLICE) {
      if (i > 0) await yieldToEventLoop();
      decoded.push(...(await Promise.all(events.slice(i, i + DECODE_SLICE).map((e) => this.codec.decode(e)))));
    }
    return decoded;
  }

  /** The events of erased subjects left out; undefined when none is left or the projection has no `prepare`. */
  private async prepareReadable(projection: Projection, decoded: readonly DecodedEvent[]): Promise<PreparedBatch | undefined> {
    const readable = decoded.filter((e): e is ReadableEvent => e.erased !== true);
    return readable.length === 0 || projection.prepare === undefined ? undefined : projection.prepare(readable, this.db);
  }

  /**
   * Decodes (unless `decoding` already is under way: see runLoop), applies and checkpoints one batch
   * (see `Progress` for batches without the projection's events). A decode started ahead runs
   * outside `traceBatch`'s span. A two-phase projection's batch is prepared here unless `prepared`
   * was started ahead; `onWriting` is called once its transaction is about to write.
   */
  private async processBatch(
    projection: Projection,
    batch: readonly RecordedEvent[],
    progress: Progress,
    decoding?: Promise<DecodedEvent[]>,
    prepared?: Promise<PreparedBatch | undefined>,
    onWriting?: () => void,
  ): Promise<void> {
    // A plan prepared ahead is this call's to settle until `run` takes it over: an error before
    // then (a failed checkpoint write, a moved checkpoint) drops it.
    let planTaken = false;
    try {
      const name = projection.name;
      const from = (batch[0] as RecordedEvent).position;
      const to = (batch[batch.length - 1] as RecordedEvent).position;
      throwIfMoved(progress);
      const wanted = this.wantedOf(projection, batch);
      if (wanted.length === 0) {
        progress.applied = to;
        this.scheduleCheckpointWrite(progress);
        this.announce({ projection: name, position: to, changes: [] }, false);
        return;
      }
      // The transaction below writes the checkpoint itself, from the row as this loop last left it.
      await this.settleCheckpoint(progress, false);
      throwIfMoved(progress);
      const expected = progress.stored;
      this.logger.debug({ projection: name, from, to, events: batch.length, applying: wanted.length }, 'applying batch');

      const run = async (): Promise<FeedChange[]> => {
        // Decrypt (and prepare) before the transaction opens: key look-ups must not lengthen it.
        const decoded = await (decoding ?? this.decodeAll(wanted));
        const readable = decoded.filter((e): e is ReadableEvent => e.erased !== true);
        if (readable.length < decoded.length) {
          this.logger.debug({ projection: name, from, to, skippedErased: decoded.length - readable.length }, 'skipped events of erased subjects');
        }
        const plan = await (prepared ?? this.prepareReadable(projection, decoded));
        planTaken = true;
        try {
          const changes = await this.db.transaction().execute(async (trx) => {
            // Read models are derived data, checkpointed with their rows: a crash may lose the last
            // batches committed, and they are then simply applied again from the event store. No batch
            // needs to wait for its WAL flush — except one that writes feed rows: clients have seen
            // their numbers, which a replay would not give again (lockFeedOrder turns it back on).
            await sql`SET LOCAL synchronous_commit = off`.execute(trx);
            await trx.insertInto('projection_checkpoints').values({ name, position: START }).onConflict((oc) => oc.column('name').doNothing()).execute();
            const current = await trx.selectFrom('projection_checkpoints').select('position').where('name', '=', name).forUpdate().executeTakeFirstOrThrow();
            if (current.position !== expected) throw new CheckpointMovedError(name, expected, current.position);
            onWriting?.();
            const written = plan !== undefined ? await plan.write(trx) : readable.length > 0 && projection.prepare === undefined ? await projection.apply(readable, trx) : [];
            await trx
              .updateTable('projection_checkpoints')
              .set({ position: to, updated_at: sql<Date>`now()` })
              .where('name', '=', name)
              .execute();
            return written;
          });
          this.settleQuietly(projection, plan, true);
          return changes;
        } catch (error) {
          this.settleQuietly(projection, plan, false);
          throw error;
        }
      };

      const changes = this.traceBatch
        ? await this.traceBatch({ projection: name, fromPosition: from, toPosition: to, eventCount: batch.length, traceparents: traceparentsOf(wanted) }, run)
        : await run();

      progress.stored = to;
      progress.applied = to;
      this.logger.debug({ projection: name, position: to, changes: changes.length }, 'batch committed');
      this.announce({ projection: name, position: to, changes }, true);
    } catch (error) {
      if (!planTaken && prepared !== undefined) {
        planTaken = true;
        this.settleQuietly(projection, await prepared.catch(() => undefined), false);
      }
      throw error;
    }
  }

  /** Settles a prepared batch; a projection's error there is logged (the batch's outcome stands). */
  private settleQuietly(projection: Projection, plan: PreparedBatch | undefined, committed: boolean): void {
    try {
      plan?.settle(committed);
    } catch (error) {
      this.logger.error({ projection: projection.name, committed, err: safeError(error) }, 'settling a prepared batch failed');
    }
  }

  /** Writes a checkpoint moved only by skipped batches after `checkpointWriteDelayMs`, unless a write is already due or running. */
  private scheduleCheckpointWrite(progress: Progress): void {
    if (progress.writeTimer !== undefined || progress.writing !== undefined) return;
    progress.writeTimer = setTimeout(() => {
      progress.writeTimer = undefined;
      progress.writing = this.writeCheckpoint(progress)
        .catch((error: unknown) => {
          // The next transactional batch (or the next delayed write) writes it; nothing is lost meanwhile.
          this.logger.warn({ projection: progress.name, err: safeError(error) }, 'checkpoint write failed');
        })
        .finally(() => {
          progress.writing = undefined;
          if (progress.applied > progress.stored && progress.moved === undefined) this.scheduleCheckpointWrite(progress);
        });
    }, this.checkpointWriteDelayMs);
    progress.writeTimer.unref?.();
  }

  /**
   * Cancels a pending delayed write and waits for one in flight, so the caller owns the checkpoint
   * row alone; with `write`, also writes what is still only in memory.
   */
  private async settleCheckpoint(progress: Progress, write: boolean): Promise<void> {
    // A write that ends schedules the next one if more is pending: cancel again after each.
    for (;;) {
      if (progress.writeTimer !== undefined) {
        clearTimeout(progress.writeTimer);
        progress.writeTimer = undefined;
      }
      if (progress.writing === undefined) break;
      await progress.writing;
    }
    if (write && progress.moved === undefined) await this.writeCheckpoint(progress);
  }

  /**
   * Moves the checkpoint row from `stored` to `applied` in one statement (no rows change with it, so
   * it needs no transaction of its own). The row is only ever moved from the value this loop last
   * saw: if someone else moved it meanwhile (another runner, a rebuild), nothing is written and the
   * loop resumes from the row. A row not there yet is created only by a loop that started at START,
   * as the transactional path does; one that vanished (a rebuild reset it) is left to the rebuild.
   */
  private async writeCheckpoint(progress: Progress): Promise<void> {
    const target = progress.applied;
    const expected = progress.stored;
    if (target <= expected) return;
    // Like the read-model transactions, this commit need not wait for its WAL flush (a lost write
    // only means re-reading skipped events). It matters beyond durability: a transaction waiting for
    // its flush still counts as running and holds back the `$all` horizon every subscriber waits on.
    // set_config(…, true) applies to the statement's own (implicit) transaction, commit included.
    const result =
      expected === START
        ? await sql`INSERT INTO projection_checkpoints (name, position)
                     SELECT ${progress.name}, ${target} FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
                     ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()
                     WHERE projection_checkpoints.position = ${expected}`.execute(this.db)
        : await sql`UPDATE projection_checkpoints SET position = ${target}, updated_at = now()
                     FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
                     WHERE name = ${progress.name} AND position = ${expected}`.execute(this.db);
    if (Number(result.numAffectedRows ?? 0n) === 1) {
      progress.stored = target;
      return;
    }
    const row = await this.db.selectFrom('projection_checkpoints').select('position').where('name', '=', progress.name).executeTakeFirst();
    progress.moved = new CheckpointMovedError(progress.name, expected, row?.position ?? '(none)');
  }

  /**
   * Tells the commit listeners (in this process) and, when a read-model transaction committed
   * (`committed`), other processes through one NOTIFY. Skipped batches are announced here only:
   * they wrote nothing another process could read.
   */
  private announce(batch: CommittedBatch, committed: boolean): void {
    // After commit, outside the transaction: a NOTIFY inside it would serialise commits on the notify queue lock.
    if (committed) {
      sql`SELECT pg_notify(${this.channel}, ${JSON.stringify({ projection: batch.projection, position: batch.position })})`
        .execute(this.db)
        .catch((error: unknown) => this.logger.warn({ projection: batch.projection, err: safeError(error) }, 'NOTIFY after commit failed'));
    }
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

/** A delayed checkpoint write found the row moved by someone else (see `Progress`): the loop resumes from the row. */
function throwIfMoved(progress: Progress): void {
  if (progress.moved !== undefined) throw progress.moved;
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

/** Lets pending I/O callbacks (database replies) run before going on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
