/**
 * The audit Merkle tree in PostgreSQL: leaves, completed perfect subtrees and the tree size, all
 * written by {@link appendLeaves} in the caller's transaction — so the audit projector can move
 * its own checkpoint in the same commit and the tree never holds an entry twice or misses one.
 *
 * Any root, audit path or consistency proof needs only O(log n) perfect subtrees, fetched by
 * primary key in one query ({@link PostgresTreeStore.nodes}), whatever the size of the log.
 */
import type pg from 'pg';
import {
  consistencyProof,
  extendFrontier,
  inclusionProof,
  isHash,
  leafHash,
  rootAt,
  rootPlan,
  type Hash,
  type NodeRef,
  type NodeSource,
  type StoredNode,
} from '../merkle';
import { entryRef, leafBytes, type LeafKind, type LogEntry } from '../leaf';

/** A pg client, pool client or pool: whatever runs parameterised queries. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** One leaf to append: the entry's kind, its reference (event position or access record id) and its leaf hash. */
export interface AuditLeaf {
  readonly kind: LeafKind;
  readonly ref: string;
  readonly leafHash: Hash;
}

/** A leaf as stored, with its sequence number (its index in the tree). */
export interface StoredLeaf extends AuditLeaf {
  readonly seq: number;
}

/** The leaf of a log entry: RFC 6962 leaf hash of its canonical bytes. */
export function auditLeaf(entry: LogEntry): AuditLeaf {
  return { kind: entry.kind, ref: entryRef(entry), leafHash: leafHash(leafBytes(entry)) };
}

/** Another appender moved the tree between our read of its size and our write (only possible outside a transaction). */
export class ConcurrentAppendError extends Error {
  readonly code = 'AUDIT_CONCURRENT_APPEND';
  constructor(expectedSize: number) {
    super(`the audit tree is no longer ${expectedSize} leaves long; append inside a transaction so the head row lock serialises appenders`);
    this.name = 'ConcurrentAppendError';
  }
}

/**
 * Appends leaves in order and returns the seq of the first and the new tree size. Three round
 * trips whatever the batch size: lock the head and read the size, read the frontier (≤ log2 n
 * subtrees), then one statement that writes leaves, completed subtrees and the new size.
 *
 * Run it inside the caller's transaction: the head row lock then serialises appenders until
 * commit. Outside one, the last statement still refuses to write when another appender got in
 * between (ConcurrentAppendError), so the tree is never corrupted, only the call fails.
 */
export async function appendLeaves(tx: Queryable, leaves: readonly AuditLeaf[]): Promise<{ firstSeq: number; size: number }> {
  for (const leaf of leaves) {
    if (!isHash(leaf.leafHash)) throw new TypeError('a leaf hash is 32 bytes');
    if (leaf.kind !== 'event' && leaf.kind !== 'access') throw new TypeError(`unknown leaf kind ${JSON.stringify(leaf.kind)}`);
  }
  const { rows } = await tx.query<{ size: string }>('SELECT size FROM audit_tree_head FOR UPDATE');
  const start = Number(rows[0]?.size ?? Number.NaN);
  if (!Number.isSafeInteger(start)) throw new Error('audit_tree_head is missing: run migrateAuditSchema first');
  if (leaves.length === 0) return { firstSeq: start, size: start };

  const plan = rootPlan(start);
  const frontierHashes = await fetchNodes(tx, plan);
  const frontier: StoredNode[] = plan.map((ref, i) => ({ ...ref, hash: frontierHashes[i] as Hash }));
  const { completed } = extendFrontier(start, frontier, leaves.map((leaf) => leaf.leafHash));
  const end = start + leaves.length;

  // The inserts run only when the head still had our starting size: all parts of one statement
  // see one snapshot, and the UPDATE re-checks its WHERE against a concurrently committed row.
  const result = await tx.query<{ size: string }>(
    `WITH head AS (
       UPDATE audit_tree_head SET size = $2 WHERE size = $1 RETURNING size
     ), new_leaves AS (
       INSERT INTO audit_leaves (seq, kind, ref, leaf_hash)
       SELECT $1::bigint + o - 1, k, r, h
         FROM unnest($3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY AS l(k, r, h, o)
        WHERE EXISTS (SELECT 1 FROM head)
     ), new_nodes AS (
       INSERT INTO audit_tree_nodes (level, index, hash)
       SELECT lv, ix, h FROM unnest($6::smallint[], $7::bigint[], $8::bytea[]) AS n(lv, ix, h)
        WHERE EXISTS (SELECT 1 FROM head)
     )
     SELECT size FROM head`,
    [
      start,
      end,
      leaves.map((leaf) => leaf.kind),
      leaves.map((leaf) => leaf.ref),
      leaves.map((leaf) => Buffer.from(leaf.leafHash)),
      completed.map((node) => node.level),
      completed.map((node) => String(node.index)),
      completed.map((node) => Buffer.from(node.hash)),
    ],
  );
  if (result.rows.length !== 1) throw new ConcurrentAppendError(start);
  return { firstSeq: start, size: end };
}

/** The perfect subtrees asked for, in order, in one query; throws when one is missing. */
async function fetchNodes(db: Queryable, refs: readonly NodeRef[]): Promise<Hash[]> {
  if (refs.length === 0) return [];
  const leafSeqs = refs.filter((ref) => ref.level === 0).map((ref) => String(ref.index));
  const inner = refs.filter((ref) => ref.level > 0);
  const { rows } = await db.query<{ level: number; index: string; hash: Buffer }>(
    `SELECT 0 AS level, seq AS index, leaf_hash AS hash FROM audit_leaves WHERE seq = ANY($1::bigint[])
     UNION ALL
     SELECT n.level, n.index, n.hash
       FROM unnest($2::smallint[], $3::bigint[]) AS want(level, index)
       JOIN audit_tree_nodes n ON n.level = want.level AND n.index = want.index`,
    [leafSeqs, inner.map((ref) => ref.level), inner.map((ref) => String(ref.index))],
  );
  const found = new Map(rows.map((row) => [`${row.level}:${row.index}`, row.hash]));
  return refs.map((ref) => {
    const hash = found.get(`${ref.level}:${ref.index}`);
    if (hash === undefined) throw new RangeError(`audit tree subtree (${ref.level}, ${ref.index}) is not stored`);
    return hash;
  });
}

/**
 * Read side of the PostgreSQL tree: a {@link NodeSource}, so roots and proofs come from the
 * generic RFC 6962 planning in merkle.ts. Reads see committed appends only.
 */
export class PostgresTreeStore implements NodeSource {
  constructor(private readonly db: Queryable) {}

  async size(): Promise<number> {
    const { rows } = await this.db.query<{ size: string }>('SELECT size FROM audit_tree_head');
    const size = Number(rows[0]?.size ?? Number.NaN);
    if (!Number.isSafeInteger(size)) throw new Error('audit_tree_head is missing: run migrateAuditSchema first');
    return size;
  }

  nodes(refs: readonly NodeRef[]): Promise<Hash[]> {
    return fetchNodes(this.db, refs);
  }

  /** MTH of the first `size` leaves (default: all). */
  rootAt(size?: number): Promise<Hash> {
    return rootAt(this, size);
  }

  /** Audit path of leaf `seq` in the tree of `size` leaves (default: all). */
  inclusionProof(seq: number, size?: number): Promise<Hash[]> {
    return inclusionProof(this, seq, size);
  }

  /** Consistency proof from the tree of `size1` leaves to that of `size2` (default: all). */
  consistencyProof(size1: number, size2?: number): Promise<Hash[]> {
    return consistencyProof(this, size1, size2);
  }

  /** Leaves from `fromSeq` on, in order — what an export walks. */
  async leaves(fromSeq: number, limit: number): Promise<StoredLeaf[]> {
    const { rows } = await this.db.query<{ seq: string; kind: LeafKind; ref: string; leaf_hash: Buffer }>(
      'SELECT seq, kind, ref, leaf_hash FROM audit_leaves WHERE seq >= $1 ORDER BY seq LIMIT $2',
      [fromSeq, limit],
    );
    return rows.map((row) => ({ seq: Number(row.seq), kind: row.kind, ref: row.ref, leafHash: row.leaf_hash }));
  }
}
