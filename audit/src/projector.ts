/**
 * The audit projector: appends every event of `$all` and every access record to the audit Merkle
 * tree, exactly once, in a fixed order.
 *
 * Each batch is one transaction that (1) takes a transaction-scoped advisory lock, so two
 * processes never append at the same time, (2) reads the projector's positions, (3) reads what
 * follows them in both sources, (4) appends the leaves and (5) moves the positions — so a crash at
 * any point leaves either the whole batch or none of it, and a restart continues where the last
 * commit left off. The leaves' UNIQUE (kind, ref) is the backstop: an entry can never enter twice.
 *
 * Events are committed as stored (`auditedEvent`): their PHI is ciphertext, so erasing a subject
 * (destroying their key) never changes a leaf.
 *
 * Order within a batch: the batch's events (in `$all` order), then its access records (in `seq`
 * order). When both sources have more than a batch, each gets at least half of it, so neither can
 * starve the other.
 */
import type { EventStore, Position } from '@fitledger/event-store';
import type pg from 'pg';
import { readAccessRecords, type StoredAccessRecord } from './accessLog/postgresAccessLog';
import { backgroundLoop, loggableError, silentAuditLogger, type AuditLogger } from './backgroundLoop';
import { auditedEvent } from './leaf';
import { appendLeaves, auditLeaf, type AuditLeaf } from './postgres/postgresAuditTree';
import { inTransaction } from './postgres/transaction';

export const DEFAULT_PROJECTOR_BATCH_SIZE = 1_000;
const DEFAULT_BUSY_INTERVAL_MS = 100;

/**
 * The advisory lock of the audit projector (`pg_advisory_xact_lock(classid, objid)`): 'FLAU'
 * (FitLedger audit) and 1. Other features must not use this pair.
 */
export const AUDIT_PROJECTOR_LOCK = Object.freeze({ classId: 0x464c4155, objId: 1 });

/** How long the projector waits for running access-log inserts when it must prove a seq gap is permanent. */
const DEFAULT_GAP_LOCK_TIMEOUT_MS = 200;

export interface AuditProjectorOptions {
  /**
   * The database of the audit tree and the access log. Needs two connections: one holds the
   * batch's transaction while the other reads the access records.
   */
  readonly pool: pg.Pool;
  /** Where the events come from: the event store (`readAll` from the projector's own position). */
  readonly events: Pick<EventStore, 'readAll'>;
  /** Default 1 s (`AUDIT_PROJECTOR_INTERVAL_MS`). */
  readonly intervalMs?: number;
  /**
   * The wait after a round that appended something (default 100 ms, at most `intervalMs`): under
   * steady traffic the tree is extended in small batches ten times a second rather than in one
   * burst a second, which would stall the database for the requests waiting on it.
   */
  readonly busyIntervalMs?: number;
  /** Most entries per transaction (default 1,000). */
  readonly batchSize?: number;
  /**
   * Longest wait for access-log inserts still running when records appear out of `seq` order
   * (default 200 ms); the records after the gap wait for the next round when it passes.
   */
  readonly gapLockTimeoutMs?: number;
  readonly logger?: AuditLogger;
  /** Called after each committed batch (e.g. to wake a publisher). */
  readonly onBatch?: (batch: ProjectedBatch) => void;
}

/** What one committed batch appended. */
export interface ProjectedBatch {
  readonly events: number;
  readonly accessRecords: number;
  /** Seq of the batch's first leaf. */
  readonly firstSeq: number;
  /** Tree size after the batch. */
  readonly size: number;
  readonly eventPosition: string;
  readonly accessSeq: number;
}

export interface AuditProjector {
  /** Runs a round now (after the running one): e.g. after writing something that should be audited soon. */
  wake(): void;
  /**
   * Appends batches until both sources are drained, exclusively with the timer's rounds; resolves
   * with the number of leaves appended, rejects with the error that stopped it.
   */
  catchUp(): Promise<number>;
  /** No more rounds; resolves once the running batch has committed or rolled back. */
  stop(): Promise<void>;
}

/** Starts the projector loop: a round at once, then every `intervalMs` and whenever woken. */
export function startAuditProjector(options: AuditProjectorOptions): AuditProjector {
  const logger = options.logger ?? silentAuditLogger;
  const batchSize = options.batchSize ?? DEFAULT_PROJECTOR_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 2) throw new RangeError('batchSize must be an integer >= 2');
  const intervalMs = options.intervalMs ?? 1_000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new RangeError('intervalMs must be positive');

  // Timer rounds give an access-log gap one round to fill before settling it under a table lock
  // (see AccessSeqGaps); catchUp settles at once, it must drain everything.
  const gaps = new AccessSeqGaps();
  const drain = async (graceful: boolean): Promise<number> => {
    // One round may take several batches (a backlog of events): the grace lasts until the next round.
    if (graceful) gaps.beginRound();
    let appended = 0;
    while (!loop.stopped) {
      const outcome = await projectAuditBatch({ ...options, batchSize, ...(graceful ? { gaps } : {}) });
      if (outcome.batch !== undefined) {
        appended += outcome.batch.events + outcome.batch.accessRecords;
        logger.debug({ ...outcome.batch }, 'audit batch appended');
        options.onBatch?.(outcome.batch);
      }
      if (!outcome.more) break;
    }
    return appended;
  };

  const busyIntervalMs = options.busyIntervalMs ?? DEFAULT_BUSY_INTERVAL_MS;
  if (!Number.isFinite(busyIntervalMs) || busyIntervalMs <= 0) throw new RangeError('busyIntervalMs must be positive');
  const loop = backgroundLoop({
    intervalMs,
    busyIntervalMs,
    tick: async () => (await drain(true)) > 0,
    onError: (error) => logger.error({ err: loggableError(error) }, 'audit projector round failed; retrying at the next round'),
  });

  return {
    wake: () => loop.wake(),
    catchUp: () => loop.exclusive(() => drain(false)),
    stop: () => loop.stop(),
  };
}

/** The outcome of one batch: what it appended (undefined: nothing new) and whether more is waiting. */
export interface BatchOutcome {
  readonly batch: ProjectedBatch | undefined;
  readonly more: boolean;
}

/**
 * The access-log seq gap seen by the last round, if any. With several inserts in flight (the
 * access log's `maxInFlight`) records routinely commit a moment out of seq order; such a gap fills
 * within milliseconds. A round that meets a gap for the first time takes the records before it and
 * leaves the rest to the next round; only a gap still open then (a rolled-back insert, or one
 * still running) is settled under `LOCK TABLE … IN SHARE MODE`, which holds up new inserts while
 * it waits for the running ones.
 */
export class AccessSeqGaps {
  private round = 0;
  private open: { readonly seq: number; readonly round: number } | undefined;

  /** A new round: a gap remembered from an earlier one is now settled when met again. */
  beginRound(): void {
    this.round++;
  }

  /** True when `seq` was already missing in an earlier round; remembers it otherwise. */
  seenBefore(seq: number): boolean {
    if (this.open?.seq === seq) return this.open.round < this.round;
    this.open = { seq, round: this.round };
    return false;
  }

  clear(): void {
    this.open = undefined;
  }
}

/**
 * Appends one batch (at most `batchSize` entries) in one transaction. With `gaps`, a seq gap in the
 * access log is settled only when the previous call met it too; without, at once.
 */
export async function projectAuditBatch(options: Pick<AuditProjectorOptions, 'pool' | 'events' | 'batchSize' | 'gapLockTimeoutMs'> & { readonly gaps?: AccessSeqGaps }): Promise<BatchOutcome> {
  const batchSize = options.batchSize ?? DEFAULT_PROJECTOR_BATCH_SIZE;
  return inTransaction(options.pool, 'BEGIN', async (client) => {
    // Before any write: this transaction gets no transaction id until appendLeaves, so it does
    // not hold back the event store's visibility horizon while it reads.
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [AUDIT_PROJECTOR_LOCK.classId, AUDIT_PROJECTOR_LOCK.objId]);
    const { rows } = await client.query<{ event_position: string; access_seq: string }>('SELECT event_position, access_seq FROM audit_projector_position');
    const position = rows[0];
    if (position === undefined) throw new Error('audit_projector_position is missing: run migrateAuditSchema first');
    const afterSeq = Number(position.access_seq);

    const events = await options.events.readAll({ after: position.event_position as Position, maxCount: batchSize });
    const access = await readSettledAccessRecords(options.pool, afterSeq, batchSize, options.gapLockTimeoutMs ?? DEFAULT_GAP_LOCK_TIMEOUT_MS, options.gaps);

    // Each source gets at least half of a full batch; what one leaves unused goes to the other.
    const half = Math.floor(batchSize / 2);
    const eventCount = Math.min(events.length, batchSize - Math.min(access.records.length, half));
    const accessCount = Math.min(access.records.length, batchSize - eventCount);
    const takenEvents = events.slice(0, eventCount);
    const takenAccess = access.records.slice(0, accessCount);
    const more = events.length === batchSize || access.records.length === batchSize || eventCount < events.length || accessCount < access.records.length || access.more;

    // Nothing to append: the transaction wrote nothing, committing it ends it.
    if (takenEvents.length + takenAccess.length === 0) return { batch: undefined, more: false };
    const leaves: AuditLeaf[] = [
      ...takenEvents.map((event) => auditLeaf({ kind: 'event', entry: auditedEvent(event) })),
      ...takenAccess.map((stored) => auditLeaf({ kind: 'access', entry: stored.record })),
    ];
    const eventPosition = takenEvents.at(-1)?.position ?? position.event_position;
    const accessSeq = takenAccess.at(-1)?.seq ?? afterSeq;
    const { firstSeq, size } = await appendLeaves(client, leaves);
    await client.query('UPDATE audit_projector_position SET event_position = $1, access_seq = $2, updated_at = now()', [eventPosition, accessSeq]);
    return { batch: { events: takenEvents.length, accessRecords: takenAccess.length, firstSeq, size, eventPosition, accessSeq }, more };
  });
}

/**
 * Access records after `afterSeq` whose place in `seq` order is final.
 *
 * `seq` is a sequence: taken when a row is inserted, visible when its transaction commits. Two
 * writers (query- and command-service) can commit out of order, so seq 7 may be visible while seq
 * 6 is still being inserted; taking 7 and moving past it would lose 6 for good. Records are taken
 * while their seqs run without a gap. At a gap, the projector locks the table in SHARE mode
 * (waiting for the inserts in progress — INSERT holds ROW EXCLUSIVE from before it draws a seq
 * until commit) and reads the highest committed seq: every missing seq below it was rolled back
 * or lost to a crash and will never appear, so the records up to it are taken too.
 */
async function readSettledAccessRecords(pool: pg.Pool, afterSeq: number, limit: number, lockTimeoutMs: number, gaps?: AccessSeqGaps): Promise<{ records: StoredAccessRecord[]; more: boolean }> {
  const first = await readAccessRecords(pool, afterSeq, limit);
  const contiguous = settledPrefix(first, afterSeq, afterSeq);
  if (contiguous.length === first.length) {
    gaps?.clear();
    return { records: first, more: false };
  }
  // A gap met for the first time: the records before it now, the rest next round.
  if (gaps !== undefined && !gaps.seenBefore((contiguous.at(-1)?.seq ?? afterSeq) + 1)) return { records: contiguous, more: false };

  const horizon = await committedAccessSeq(pool, lockTimeoutMs);
  if (horizon === undefined) return { records: contiguous, more: false };
  const again = await readAccessRecords(pool, afterSeq, limit);
  const settled = settledPrefix(again, afterSeq, horizon);
  return { records: settled, more: settled.length < again.length && settled.length > 0 };
}

/** The longest prefix whose missing seqs are all at or below `settledUpTo` (known to be gone). */
function settledPrefix(records: readonly StoredAccessRecord[], afterSeq: number, settledUpTo: number): StoredAccessRecord[] {
  const out: StoredAccessRecord[] = [];
  let expected = afterSeq + 1;
  for (const record of records) {
    if (record.seq !== expected && record.seq - 1 > settledUpTo) break;
    out.push(record);
    expected = record.seq + 1;
  }
  return out;
}

/** The highest seq committed once no insert is running; undefined when inserts did not finish within the timeout. */
async function committedAccessSeq(pool: pg.Pool, lockTimeoutMs: number): Promise<number | undefined> {
  try {
    return await inTransaction(pool, 'BEGIN', async (client) => {
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
      await client.query('LOCK TABLE audit_access_records IN SHARE MODE');
      const { rows } = await client.query<{ max: string | null }>('SELECT max(seq)::text AS max FROM audit_access_records');
      return Number(rows[0]?.max ?? 0);
    });
  } catch (error) {
    // 55P03 lock_not_available: an insert is still running; the records after the gap wait.
    if ((error as { code?: string }).code === '55P03') return undefined;
    throw error;
  }
}
