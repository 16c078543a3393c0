import { createHmac } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import type { AccessRecord } from '../leaf';

/** Where access records go. `append` resolves once the record is durable (committed). */
export interface AccessLog {
  append(record: AccessRecord): Promise<void>;
  /** Waits for the records already handed over; later appends are refused. */
  close(): Promise<void>;
}

/** The keyed pseudonym of a subject in the access log: never the subject id itself. */
export type Pseudonymiser = (subjectId: string) => string;

/**
 * HMAC-SHA-256 of the subject id under a secret kept outside the database (128 bits, hex). The
 * auditor looks a subject up by computing the same pseudonym; without the secret the log links
 * to nobody.
 */
export function hmacPseudonymiser(secret: Buffer): Pseudonymiser {
  if (secret.length < 32) throw new Error('the pseudonym secret must be at least 32 bytes');
  // Every request computes one: the recent subjects' pseudonyms are kept (they are not secret).
  const recent = new LRUCache<string, string>({ max: 10_000 });
  return (subjectId) => {
    let pseudonym = recent.get(subjectId);
    if (pseudonym === undefined) {
      pseudonym = createHmac('sha256', secret).update('fitledger/access-log/subject/v1\n').update(subjectId).digest('hex').slice(0, 32);
      recent.set(subjectId, pseudonym);
    }
    return pseudonym;
  };
}

const COLUMNS = [
  ['id', 'uuid'],
  ['at', 'timestamptz'],
  ['actor_sub', 'text'],
  ['actor_role', 'text'],
  ['actor_organisation', 'text'],
  ['client_id', 'text'],
  ['action', 'text'],
  ['record_type', 'text'],
  ['record_id', 'text'],
  ['subject_pseudonym', 'text'],
  ['ip', 'text'],
  ['user_agent', 'text'],
  ['service', 'text'],
  ['method', 'text'],
  ['route', 'text'],
  ['status', 'int4'],
  ['outcome', 'text'],
  ['purpose_of_use', 'text'],
  ['consent_version', 'int4'],
  ['break_glass_grant_id', 'text'],
  ['request_id', 'text'],
] as const;

// One statement for a whole batch: one array parameter per column, however many records.
const INSERT = `INSERT INTO audit_access_records (${COLUMNS.map(([c]) => c).join(', ')})
  SELECT * FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})`;
// A batch of one (the common case below a few hundred requests per second): scalar parameters,
// cheaper to encode and to plan than arrays.
const INSERT_ONE = `INSERT INTO audit_access_records (${COLUMNS.map(([c]) => c).join(', ')})
  VALUES (${COLUMNS.map(([, t], i) => `$${i + 1}::${t}`).join(', ')})`;

const columnsOf = (r: AccessRecord): unknown[] => [
  r.id,
  r.at,
  r.actorSub,
  r.actorRole,
  r.actorOrganisation,
  r.clientId,
  r.action,
  r.recordType,
  r.recordId,
  r.subjectPseudonym,
  r.ip,
  r.userAgent,
  r.service,
  r.method,
  r.route,
  r.status,
  r.outcome,
  r.purposeOfUse,
  r.consentVersion,
  r.breakGlassGrantId,
  r.requestId,
];

interface Pending {
  readonly record: AccessRecord;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export interface PostgresAccessLogOptions {
  /** Most records in one INSERT (default 1,000). */
  readonly maxBatch?: number;
  /** Most INSERTs in flight at once (default 4). Each holds a connection of `pool` while it commits: keep it well below the pool's size when the pool serves requests too. */
  readonly maxInFlight?: number;
}

/**
 * The access log in PostgreSQL with group commit: up to `maxInFlight` INSERTs are in flight at
 * once (PostgreSQL flushes concurrent commits' WAL together); while all are busy, records queue and
 * the next free INSERT takes them all. At low load a record commits at once instead of waiting
 * behind another's commit; under load many requests share one statement and one fsync. Either
 * way a record is durable before `append` resolves, and so before the response that waits for it
 * leaves.
 */
export class PostgresAccessLog implements AccessLog {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly idle = new Set<() => void>();
  private closed = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly pool: pg.Pool,
    options: PostgresAccessLogOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1_000;
    this.maxInFlight = options.maxInFlight ?? 4;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
  }

  append(record: AccessRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the access log is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.schedule();
    });
  }

  /** Starts an INSERT for the queued records once this tick's appends have joined them, if a slot is free. */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      while (this.queue.length > 0 && this.inFlight < this.maxInFlight) void this.insert(this.queue.splice(0, this.maxBatch));
    });
  }

  private async insert(batch: Pending[]): Promise<void> {
    this.inFlight++;
    try {
      // Named: each connection plans them once.
      if (batch.length === 1) {
        await this.pool.query({ name: 'fitledger-access-log-insert-one', text: INSERT_ONE, values: columnsOf((batch[0] as Pending).record) });
      } else {
        const columns: unknown[][] = COLUMNS.map(() => []);
        for (const pending of batch) columnsOf(pending.record).forEach((value, i) => columns[i]?.push(value));
        await this.pool.query({ name: 'fitledger-access-log-insert', text: INSERT, values: columns });
      }
      for (const pending of batch) pending.resolve();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
      else if (this.inFlight === 0) for (const done of this.idle) done();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.idle.delete(done);
        resolve();
      };
      this.idle.add(done);
    });
  }
}

interface AccessRow {
  id: string;
  at: Date;
  actor_sub: string;
  actor_role: string;
  actor_organisation: string | null;
  client_id: string | null;
  action: AccessRecord['action'];
  record_type: string;
  record_id: string | null;
  subject_pseudonym: string | null;
  ip: string;
  user_agent: string | null;
  service: string;
  method: string;
  route: string;
  status: number;
  outcome: AccessRecord['outcome'];
  purpose_of_use: string;
  consent_version: number | null;
  break_glass_grant_id: string | null;
  request_id: string;
  seq: string;
}

/** A stored record and its place in the log. */
export interface StoredAccessRecord {
  readonly seq: number;
  readonly record: AccessRecord;
}

export function accessRecordOfRow(row: AccessRow): StoredAccessRecord {
  return {
    seq: Number(row.seq),
    record: {
      id: row.id,
      at: row.at.toISOString(),
      actorSub: row.actor_sub,
      actorRole: row.actor_role,
      actorOrganisation: row.actor_organisation,
      clientId: row.client_id,
      action: row.action,
      recordType: row.record_type,
      recordId: row.record_id,
      subjectPseudonym: row.subject_pseudonym,
      ip: row.ip,
      userAgent: row.user_agent,
      service: row.service,
      method: row.method,
      route: row.route,
      status: row.status,
      outcome: row.outcome,
      purposeOfUse: row.purpose_of_use,
      consentVersion: row.consent_version,
      breakGlassGrantId: row.break_glass_grant_id,
      requestId: row.request_id,
    },
  };
}

/** Every column of a record as `accessRecordOfRow` reads it, from `audit_access_records r`. `seq` comes back as text (bigint); ORDER BY must name `r.seq`, not that text. */
export const ACCESS_RECORD_SELECT = `SELECT r.seq::text AS seq, ${COLUMNS.map(([c]) => `r.${c}`).join(', ')} FROM audit_access_records r`;

/** Records after `afterSeq` in commit order (the audit projector's feed). */
export async function readAccessRecords(pool: pg.Pool, afterSeq: number, limit: number): Promise<StoredAccessRecord[]> {
  const { rows } = await pool.query<AccessRow>(`${ACCESS_RECORD_SELECT} WHERE r.seq > $1 ORDER BY r.seq LIMIT $2`, [afterSeq, limit]);
  return rows.map(accessRecordOfRow);
}

/** A subject's accounting of disclosures: records naming their pseudonym, newest first, keyset-paged by seq. */
export async function accessRecordsOfSubject(pool: pg.Pool, pseudonym: string, options: { beforeSeq?: number; limit: number; othersOnly?: string }): Promise<StoredAccessRecord[]> {
  const params: unknown[] = [pseudonym, options.beforeSeq ?? Number.MAX_SAFE_INTEGER, options.limit];
  const others = options.othersOnly === undefined ? '' : ` AND r.actor_sub <> $${params.push(options.othersOnly)}`;
  const { rows } = await pool.query<AccessRow>(`${ACCESS_RECORD_SELECT} WHERE r.subject_pseudonym = $1 AND r.seq < $2${others} ORDER BY r.seq DESC LIMIT $3`, params);
  return rows.map(accessRecordOfRow);
}
