import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inclusionProof, leafHash, verifyConsistency, verifyInclusion, type Hash } from '../merkle';
import { MemoryMerkleTree } from '../memoryMerkleTree';
import { random } from '../testing/auditFixtures';
import { auditMigrations, migrateAuditSchema } from './migrations/index';
import { ConcurrentAppendError, PostgresTreeStore, appendLeaves, auditLeaf, type AuditLeaf, type Queryable } from './postgresAuditTree';

let db: { url: string; drop(): Promise<void> };
let pool: pg.Pool;

beforeAll(async () => {
  db = await testDatabase('audit');
  pool = new pg.Pool({ connectionString: db.url, max: 6 });
  await migrateAuditSchema(pool);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const hex = (h: Uint8Array): string => Buffer.from(h).toString('hex');


let refCounter = 0;
function leaves(count: number): AuditLeaf[] {
  return Array.from({ length: count }, () => {
    refCounter += 1;
    const ref = `ref-${refCounter}`;
    return { kind: refCounter % 3 === 0 ? 'access' : 'event', ref, leafHash: leafHash(Buffer.from(ref)) };
  });
}

async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** Counts the statements a store sends, to hold proofs to a constant number of queries. */
function counting(db: Queryable): Queryable & { count: number } {
  const wrapper = {
    count: 0,
    query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
      wrapper.count += 1;
      return db.query<R>(text, values);
    },
  };
  return wrapper;
}

/** Rebuilds the reference tree from the leaves PostgreSQL holds, in seq order. */
async function memoryCopy(store: PostgresTreeStore): Promise<MemoryMerkleTree> {
  const tree = new MemoryMerkleTree();
  const size = await store.size();
  for (let from = 0; from < size; from += 5000) {
    for (const leaf of await store.leaves(from, 5000)) {
      expect(leaf.seq).toBe(tree.length);
      tree.append(leaf.leafHash);
    }
  }
  return tree;
}

async function expectProofsAgree(store: PostgresTreeStore, memory: MemoryMerkleTree, sizes: readonly number[], next: () => number): Promise<void> {
  for (const size of sizes) {
    const root = await store.rootAt(size);
    expect(hex(root), `root at ${size}`).toBe(hex(memory.rootAt(size)));
    for (let i = 0; i < 5 && size > 0; i += 1) {
      const seq = Math.floor(next() * size);
      const proof = await store.inclusionProof(seq, size);
      expect(proof.map(hex)).toEqual((await inclusionProof(memory, seq, size)).map(hex));
      expect(verifyInclusion(memory.node(0, seq), seq, size, proof, memory.rootAt(size)), `leaf ${seq} of ${size}`).toBe(true);
      const size1 = Math.floor(next() * (size + 1));
      const consistency = await store.consistencyProof(size1, size);
      expect(verifyConsistency(size1, size, memory.rootAt(size1), memory.rootAt(size), consistency), `${size1} -> ${size}`).toBe(true);
    }
  }
}

describe('audit schema migrations', () => {
  it('are idempotent and keep their own migration table', async () => {
    await migrateAuditSchema(pool);
    const { rows } = await pool.query<{ name: string }>('SELECT name FROM audit_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(Object.keys(auditMigrations).sort());
    expect(rows.map((r) => r.name)).toContain('0001_audit_tree');
    const { rows: tables } = await pool.query<{ t: string | null }>("SELECT to_regclass('kysely_migration') AS t");
    expect(tables[0]?.t).toBeNull();
  });
});

describe('PostgreSQL audit tree', () => {
  const store = (): PostgresTreeStore => new PostgresTreeStore(pool);

  it('appends 10 000 leaves in batches and answers roots and proofs that verify against the in-memory tree', async () => {
    const next = random(7);
    const memory = new MemoryMerkleTree();
    const checkedSizes: number[] = [];
    while (memory.length < 10_000) {
      const batch = leaves(Math.min(10_000 - memory.length, 1 + Math.floor(next() * 900)));
      const { firstSeq, size } = await inTransaction((tx) => appendLeaves(tx, batch));
      expect(firstSeq).toBe(memory.length);
      memory.appendAll(batch.map((leaf) => leaf.leafHash));
      expect(size).toBe(memory.length);
      if (checkedSizes.length < 4) checkedSizes.push(size);
    }
    expect(await store().size()).toBe(10_000);
    // Every stored leaf is the one appended at that seq.
    expect(hex((await memoryCopy(store())).rootAt())).toBe(hex(memory.rootAt()));
    await expectProofsAgree(store(), memory, [...checkedSizes, 1, 2, 3, 1023, 1024, 1025, 4097, 9999, 10_000], next);
  });

  it('answers any proof with two statements: the size, then every subtree at once', async () => {
    const size = await store().size();
    const db = counting(pool);
    const counted = new PostgresTreeStore(db);
    await counted.inclusionProof(size - 3, size);
    expect(db.count).toBe(2);
    db.count = 0;
    await counted.consistencyProof(777, size);
    expect(db.count).toBe(2);
  });

  it('hashes log entries into leaves keyed by event position or access record id', () => {
    const leaf = auditLeaf({
      kind: 'event',
      entry: { eventId: '0190f5c2-7a3b-7c4d-8e9f-0123456789ab', type: 'SetLogged', schemaVersion: 1, streamId: 'workout-1', revision: 0, position: '0000000000000abc0000000000000def', recordedAt: '2024-07-01T10:20:30.456Z', data: {}, metadata: {} },
    });
    expect(leaf.ref).toBe('0000000000000abc0000000000000def');
    expect(leaf.kind).toBe('event');
  });

  it('writes nothing when the transaction rolls back', async () => {
    const before = await store().size();
    await expect(inTransaction(async (tx) => {
      await appendLeaves(tx, leaves(10));
      throw new Error('projector failed after appending');
    })).rejects.toThrow('projector failed');
    expect(await store().size()).toBe(before);
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM audit_leaves WHERE seq >= $1', [before]);
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('serialises concurrent appenders: both commit and the tree is the one their leaves make in seq order', async () => {
    const before = await store().size();
    await Promise.all([0, 1].map(() => (async () => {
      for (let i = 0; i < 5; i += 1) await inTransaction((tx) => appendLeaves(tx, leaves(40)));
    })()));
    const pgStore = store();
    expect(await pgStore.size()).toBe(before + 400);
    const memory = await memoryCopy(pgStore);
    expect(hex(await pgStore.rootAt())).toBe(hex(memory.rootAt()));
    await expectProofsAgree(pgStore, memory, [before + 1, before + 200, before + 400], random(11));
  });

  it('refuses, without writing, an append that lost a race outside a transaction', async () => {
    const before = await store().size();
    let raced = false;
    const racing: Queryable = {
      async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
        if (text.trimStart().startsWith('WITH head') && !raced) {
          raced = true;
          await appendLeaves(pool, leaves(3)); // another writer commits in between
        }
        return pool.query<R>(text, values);
      },
    };
    await expect(appendLeaves(racing, leaves(5))).rejects.toThrow(ConcurrentAppendError);
    expect(await store().size()).toBe(before + 3);
    const memory = await memoryCopy(store());
    expect(hex(await store().rootAt())).toBe(hex(memory.rootAt()));
  });

  it('refuses to enter the same event or access record twice', async () => {
    const [leaf] = leaves(1) as [AuditLeaf];
    await inTransaction((tx) => appendLeaves(tx, [leaf]));
    await expect(inTransaction((tx) => appendLeaves(tx, [{ ...leaf, leafHash: leafHash(Buffer.from('other')) }]))).rejects.toThrow(/audit_leaves_entry/);
  });

  it('is append-only: updates, deletes and truncation of the tree are refused', async () => {
    for (const statement of [
      'UPDATE audit_leaves SET leaf_hash = leaf_hash WHERE seq = 0',
      'DELETE FROM audit_leaves WHERE seq = 0',
      'UPDATE audit_tree_nodes SET hash = hash WHERE level = 1 AND index = 0',
      'DELETE FROM audit_tree_nodes WHERE level = 1',
      'TRUNCATE audit_leaves CASCADE',
      'TRUNCATE audit_tree_nodes',
      'UPDATE audit_tree_head SET size = size - 1',
      'DELETE FROM audit_tree_head',
    ]) {
      await expect(pool.query(statement), statement).rejects.toThrow(/append-only|cannot shrink/);
    }
  });

  it('refuses proofs beyond the tree', async () => {
    const size = await store().size();
    await expect(store().inclusionProof(size, size)).rejects.toThrow(RangeError);
    await expect(store().consistencyProof(1, size + 1)).rejects.toThrow(RangeError);
    const hashes: Hash[] = await store().nodes([{ level: 0, index: 0 }]);
    expect(hashes).toHaveLength(1);
    await expect(store().nodes([{ level: 40, index: 0 }])).rejects.toThrow(/not stored/);
  });
});
