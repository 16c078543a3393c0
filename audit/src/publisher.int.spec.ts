import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyCheckpoint } from './checkpoint';
import { DirectoryCheckpointSink } from './checkpointStore';
import { leafHash, verifyConsistency } from './merkle';
import { migrateAuditSchema } from './postgres/migrations/index';
import { PostgresTreeStore, appendLeaves, type AuditLeaf } from './postgres/postgresAuditTree';
import { AuditTreeForkError, publishCheckpoint, startCheckpointPublisher } from './publisher';
import { openSigningKeyring, type SigningKeyring } from './signingKeyring';

const ORIGIN = 'fitledger.test/audit';
let dir: string;
let keyring: SigningKeyring;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fitledger-publisher-'));
  keyring = await openSigningKeyring({ name: ORIGIN, signingKeyFile: join(dir, 'secret', 'key.pem'), publicKeysFile: join(dir, 'keys.json'), createIfMissing: true });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A database and a checkpoint folder of the test's own. */
async function fresh(): Promise<{ pool: pg.Pool; sink: DirectoryCheckpointSink; tree: PostgresTreeStore }> {
  const db = await testDatabase('audit_publisher');
  const pool = new pg.Pool({ connectionString: db.url, max: 3 });
  cleanups.push(async () => {
    await pool.end();
    await db.drop();
  });
  await migrateAuditSchema(pool);
  const sink = new DirectoryCheckpointSink(await mkdtemp(join(dir, 'checkpoints-')));
  return { pool, sink, tree: new PostgresTreeStore(pool) };
}

let counter = 0;
function leaves(count: number, tag = 'entry'): AuditLeaf[] {
  return Array.from({ length: count }, () => {
    counter += 1;
    return { kind: 'event', ref: `${tag}-${counter}`, leafHash: leafHash(Buffer.from(`${tag}-${counter}`)) };
  });
}

async function append(pool: pg.Pool, batch: readonly AuditLeaf[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await appendLeaves(client, batch);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

/** Replaces the whole tree with other leaves, as someone with superuser access could (triggers off). */
async function rewriteTree(pool: pg.Pool, replacement: readonly AuditLeaf[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query('DELETE FROM audit_tree_nodes');
    await client.query('DELETE FROM audit_leaves');
    await client.query('UPDATE audit_tree_head SET size = 0');
    await appendLeaves(client, replacement);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

async function storedSizes(pool: pg.Pool): Promise<number[]> {
  const { rows } = await pool.query<{ size: string }>('SELECT size::text AS size FROM audit_checkpoints ORDER BY audit_checkpoints.size');
  return rows.map((r) => Number(r.size));
}

describe('the checkpoint publisher', () => {
  it('signs and publishes the tree head when the tree grew, keeps a copy in the database, and signs nothing when it did not grow', async () => {
    const { pool, sink, tree } = await fresh();
    expect(await publishCheckpoint({ pool, keyring, sink })).toBeUndefined();

    await append(pool, leaves(10));
    const first = await publishCheckpoint({ pool, keyring, sink });
    expect(first?.size).toBe(10);
    const verified = verifyCheckpoint(first?.note ?? '', keyring.verifierKeys(), ORIGIN);
    expect(Buffer.from(verified.rootHash).equals(await tree.rootAt(10))).toBe(true);
    expect(await publishCheckpoint({ pool, keyring, sink })).toBeUndefined();

    await append(pool, leaves(7));
    const second = await publishCheckpoint({ pool, keyring, sink });
    expect(second?.size).toBe(17);
    const published = await sink.list();
    expect(published.map((c) => c.size)).toEqual([10, 17]);
    expect(await storedSizes(pool)).toEqual([10, 17]);
    const [older, newer] = published.map((c) => verifyCheckpoint(c.note, keyring.verifierKeys(), ORIGIN));
    expect(verifyConsistency(10, 17, older?.rootHash ?? Buffer.alloc(0), newer?.rootHash ?? Buffer.alloc(0), await tree.consistencyProof(10, 17))).toBe(true);
  });

  it('refuses to sign a tree that no longer extends the last published checkpoint', async () => {
    const { pool, sink } = await fresh();
    await append(pool, leaves(12));
    await publishCheckpoint({ pool, keyring, sink });

    // Same size, other entries: the root no longer matches the signed one.
    await rewriteTree(pool, leaves(12, 'forged'));
    await expect(publishCheckpoint({ pool, keyring, sink })).rejects.toBeInstanceOf(AuditTreeForkError);
    // Grown, but not from the signed tree.
    await append(pool, leaves(5, 'forged'));
    await expect(publishCheckpoint({ pool, keyring, sink })).rejects.toThrow('does not extend the last published checkpoint of 12 leaves');
    // Shrunk.
    await rewriteTree(pool, leaves(3, 'forged'));
    await expect(publishCheckpoint({ pool, keyring, sink })).rejects.toThrow('fewer than the 12 of the last published checkpoint');
    expect((await sink.list()).map((c) => c.size)).toEqual([12]);
    expect(await storedSizes(pool)).toEqual([12]);
  });

  it('copies into the database a checkpoint that reached the sink when the process died before recording it', async () => {
    const { pool, sink, tree } = await fresh();
    await append(pool, leaves(9));
    await sink.publish(keyring.signCheckpoint({ size: 9, rootHash: await tree.rootAt(9), timestamp: new Date() }));
    expect(await storedSizes(pool)).toEqual([]);
    expect(await publishCheckpoint({ pool, keyring, sink })).toBeUndefined();
    expect(await storedSizes(pool)).toEqual([9]);
  });

  it('never dates a checkpoint before the previous one, whatever the clock says', async () => {
    const { pool, sink } = await fresh();
    await append(pool, leaves(4));
    const first = await publishCheckpoint({ pool, keyring, sink, now: () => new Date('2026-03-01T12:00:00.000Z') });
    await append(pool, leaves(4));
    const second = await publishCheckpoint({ pool, keyring, sink, now: () => new Date('2026-02-01T12:00:00.000Z') });
    expect(second?.timestamp.toISOString()).toBe(first?.timestamp.toISOString());
  });

  it('publishes at start, and once more when stopped so the last entries are covered', async () => {
    const { pool, sink } = await fresh();
    await append(pool, leaves(6));
    const publisher = startCheckpointPublisher({ pool, keyring, sink, intervalMs: 3_600_000 });
    // publishNow runs after the round the start began: by then that round has published size 6.
    expect(await publisher.publishNow()).toBeUndefined();
    expect((await readdir(sink.dir)).filter((n) => n.endsWith('.checkpoint'))).toHaveLength(1);
    await append(pool, leaves(3));
    await publisher.stop();
    expect((await sink.list()).map((c) => c.size)).toEqual([6, 9]);
  });
});
