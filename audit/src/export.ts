/**
 * The audit log export: the entries of the audit tree in tree order, as NDJSON `exportLine`s —
 * what `npm run audit:verify` checks against the published checkpoints.
 *
 * Each leaf is joined with the row it stands for *as the database holds it now* (the event in
 * `es_events` by its position, the access record in `audit_access_records` by its id), page by
 * page in `seq` order. So a row changed after it entered the log shows up as a changed entry, a
 * deleted row as a missing one (the line is left out: the verifier sees the gap), and a row that
 * no longer has the shape of its leaf format still gets a line, which the verifier reports as
 * unreadable at that place.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { canonicalJson, decodePgPosition, encodePgPosition, isPosition, type JsonObject, type JsonValue, type RecordedEvent } from '@fitledger/event-store';
import pg from 'pg';
import { ACCESS_RECORD_SELECT, accessRecordOfRow } from './accessLog/postgresAccessLog';
import { exportLine } from './exportLine';
import { auditedEvent, InvalidLogEntryError, type LeafKind, type LogEntry } from './leaf';
import type { Queryable } from './postgres/postgresAuditTree';
import { inTransaction } from './postgres/transaction';

export interface ExportOptions {
  /** First seq to export (default 0). */
  readonly fromSeq?: number;
  /** Last seq to export, inclusive (default: the last leaf when the export starts). */
  readonly toSeq?: number;
  /** Leaves per page (default 2,000). */
  readonly pageSize?: number;
}

/** A leaf whose row is gone (or whose reference cannot name a row). */
export interface MissingEntry {
  readonly seq: number;
  readonly kind: LeafKind;
  readonly ref: string;
}

export interface ExportSummary {
  /** The tree size when the export started: it covers at most the leaves below it. */
  readonly treeSize: number;
  readonly fromSeq: number;
  /** Last seq covered (inclusive); fromSeq - 1 when the range was empty. */
  readonly toSeq: number;
  /** Lines written. */
  readonly entries: number;
  /** Leaves left out because their row is gone. */
  readonly missing: readonly MissingEntry[];
  /** Seqs whose row no longer has the shape of its leaf format (written as is; the verifier refuses them). */
  readonly malformed: readonly number[];
}

const DEFAULT_PAGE_SIZE = 2_000;

// The event store's own mapping (PostgresEventStore): the same columns, the same conversions, so an
// exported event is byte for byte the one the projector hashed.
const EVENT_COLUMNS = `e.transaction_id::text AS tx, e.seq::text AS seq, e.event_id::text AS event_id, e.stream_id, e.revision::text AS revision, e.type,
  e.schema_version, e.data, e.metadata, (extract(epoch FROM e.recorded_at) * 1000)::float8 AS recorded_ms`;

interface EventRow {
  tx: string;
  seq: string;
  event_id: string;
  stream_id: string;
  revision: string;
  type: string;
  schema_version: number;
  data: JsonValue;
  metadata: JsonObject;
  recorded_ms: number;
}

/**
 * Streams the export to `out` (not ended). Given a pool, reads in one REPEATABLE READ snapshot, so
 * the export is one consistent state even while the projector appends; given a client, reads
 * within whatever transaction the caller holds.
 */
export async function exportLog(db: pg.Pool | Queryable, out: Writable, options: ExportOptions = {}): Promise<ExportSummary> {
  if (!(db instanceof pg.Pool)) return exportWith(db, out, options);
  return inTransaction(db, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', (client) => exportWith(client, out, options));
}

async function exportWith(db: Queryable, out: Writable, options: ExportOptions): Promise<ExportSummary> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
  const fromSeq = options.fromSeq ?? 0;
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 0) throw new RangeError('fromSeq must be a non-negative integer');
  const { rows: head } = await db.query<{ size: string }>('SELECT size::text AS size FROM audit_tree_head');
  const treeSize = Number(head[0]?.size ?? Number.NaN);
  if (!Number.isSafeInteger(treeSize)) throw new Error('audit_tree_head is missing: run migrateAuditSchema first');
  const toSeq = Math.min(options.toSeq ?? treeSize - 1, treeSize - 1);
  if (!Number.isSafeInteger(toSeq)) throw new RangeError('toSeq must be an integer');

  const missing: MissingEntry[] = [];
  const malformed: number[] = [];
  let entries = 0;
  let next = fromSeq;
  while (next <= toSeq) {
    const { rows: leaves } = await db.query<{ seq: string; kind: LeafKind; ref: string; leaf_hash: Buffer }>(
      'SELECT seq::text AS seq, kind, ref, leaf_hash FROM audit_leaves WHERE seq >= $1 AND seq <= $2 ORDER BY audit_leaves.seq LIMIT $3',
      [next, toSeq, pageSize],
    );
    if (leaves.length === 0) break;
    const entriesOf = await loadEntries(db, leaves);
    let chunk = '';
    for (const leaf of leaves) {
      const seq = Number(leaf.seq);
      const entry = entriesOf.get(`${leaf.kind}:${leaf.ref}`);
      if (entry === undefined) {
        missing.push({ seq, kind: leaf.kind, ref: leaf.ref });
        continue;
      }
      chunk += lineOf(seq, entry, leaf.leaf_hash, malformed);
      entries += 1;
    }
    if (chunk !== '' && !out.write(chunk)) await once(out, 'drain');
    next = Number(leaves[leaves.length - 1]?.seq) + 1;
  }
  return { treeSize, fromSeq, toSeq: Math.max(toSeq, fromSeq - 1), entries, missing, malformed };
}

/** The export line; an entry that no longer parses is written as it is, for the verifier to refuse at its place. */
function lineOf(seq: number, entry: LogEntry, leafHash: Buffer, malformed: number[]): string {
  try {
    return exportLine(seq, entry, leafHash);
  } catch (error) {
    if (!(error instanceof InvalidLogEntryError)) throw error;
    malformed.push(seq);
    return `{"kind":${JSON.stringify(entry.kind)},"seq":${seq},"leafHash":"${leafHash.toString('base64')}","entry":${canonicalJson(entry.entry as unknown as JsonValue)}}\n`;
  }
}

/** The rows of one page of leaves, keyed `kind:ref`, in two primary-key lookups. */
async function loadEntries(db: Queryable, leaves: readonly { kind: LeafKind; ref: string }[]): Promise<Map<string, LogEntry>> {
  const found = new Map<string, LogEntry>();
  const positions = leaves.filter((leaf) => leaf.kind === 'event' && isPosition(leaf.ref)).map((leaf) => decodePgPosition(leaf.ref as RecordedEvent['position']));
  if (positions.length > 0) {
    const { rows } = await db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM unnest($1::text[]::xid8[], $2::bigint[]) AS w(tx, seq)
         JOIN es_events e ON e.transaction_id = w.tx AND e.seq = w.seq`,
      [positions.map((p) => p.txId), positions.map((p) => p.seq)],
    );
    for (const row of rows) {
      const event = auditedEvent(recordedEventOf(row));
      found.set(`event:${event.position}`, { kind: 'event', entry: event });
    }
  }
  const ids = leaves.filter((leaf) => leaf.kind === 'access' && UUID.test(leaf.ref)).map((leaf) => leaf.ref);
  if (ids.length > 0) {
    const { rows } = await db.query(`${ACCESS_RECORD_SELECT} WHERE r.id = ANY($1::uuid[])`, [ids]);
    for (const row of rows) {
      const { record } = accessRecordOfRow(row as Parameters<typeof accessRecordOfRow>[0]);
      found.set(`access:${record.id}`, { kind: 'access', entry: record });
    }
  }
  return found;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function recordedEventOf(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    streamId: row.stream_id,
    revision: Number(row.revision),
    position: encodePgPosition(row.tx, row.seq),
    recordedAt: new Date(Math.floor(row.recorded_ms)),
    data: row.data,
    metadata: row.metadata,
  };
}
