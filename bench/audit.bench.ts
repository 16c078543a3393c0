/**
 * npm run bench:audit — the tamper-evident audit trail against a durable embedded PostgreSQL
 * (fsync on, synchronous_commit on):
 *  1. a log of real entries written by the production writers (PostgresEventStore appends,
 *     PostgresAccessLog group commit), projected into the Merkle tree by the audit projector,
 *     checkpointed by the publisher, exported by exportLog and checked by verifyLog — the offline
 *     verifier's throughput (`verifyEventsPerSec`) is measured on that export;
 *  2. the tree grown to 1M leaves with appendLeaves (the projector's own append, 10k leaves per
 *     transaction, synthetic leaf hashes: proofs only read hashes), checkpointed again (the
 *     publisher checks the consistency proof from the first checkpoint);
 *  3. inclusion proofs (`proofP95Ms`, target < 10 ms) and consistency proofs through
 *     PostgresTreeStore at the full size, every proof verified against the tree's root.
 * `BENCH_QUICK=1` shrinks volumes for a smoke run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { accessRecord, random } from '../audit/src/testing/auditFixtures';
import { measureAccessLogLatency } from './lib/accessLogLatency';
import {
  DirectoryCheckpointSink,
  PostgresAccessLog,
  PostgresTreeStore,
  appendLeaves,
  exportLog,
  leafHash,
  migrateAuditSchema,
  openSigningKeyring,
  publishCheckpoint,
  readVerifierKeys,
  startAuditProjector,
  verifyConsistency,
  verifyInclusion,
  verifyLog,
  type AuditLeaf,
} from '@fitledger/audit';
import { PostgresEventStore, migrateEventStore, type NewEvent } from '@fitledger/event-store';
import { createDatabase, startPostgres } from '@fitledger/testing';
import { percentile, report, type Row } from './lib/report';

const quick = process.env.BENCH_QUICK === '1';
const TOTAL_LEAVES = quick ? 100_000 : 1_000_000;
const REAL_ENTRIES = quick ? 20_000 : 200_000;
const ACCESS_SHARE = 0.2;
const EVENTS_PER_APPEND = 500;
const BULK_BATCH = 10_000;
const PROOFS = quick ? 500 : 2_000;
const WARMUP_PROOFS = 100;
const ORIGIN = 'fitledger.bench/audit';

function sampleEvent(i: number, subjectId: string): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'SetLogged',
    schemaVersion: 1,
    // Shaped like a sealed event: opaque ids in clear, the PHI as one AES-GCM token.
    data: { workoutId: randomUUID(), setId: randomUUID(), ordinal: i, phi: `fl1.${randomUUID()}.${randomBytes(12).toString('base64url')}.${randomBytes(96).toString('base64url')}.${randomBytes(16).toString('base64url')}` },
    metadata: { tenantId: 'tenant-bench', subjectId, actor: { sub: subjectId, role: 'client' }, source: { kind: 'manual' }, correlationId: randomUUID() },
  };
}


async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}


async function main(): Promise<void> {
  const server = await startPostgres({ settings: { shared_buffers: '1GB', max_wal_size: '4GB' } });
  const db = await createDatabase(server, 'bench_audit');
  const pool = new pg.Pool({ connectionString: db.url, max: 6 });
  const settings = Object.fromEntries(
    (await pool.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes','shared_buffers','wal_level','max_wal_size','server_version')`,
    )).rows.map((r) => [r.name, r.setting]),
  );
  console.log('PostgreSQL settings:', settings);
  await migrateEventStore(pool);
  await migrateAuditSchema(pool);
  const dir = await mkdtemp(join(tmpdir(), 'fitledger-bench-audit-'));
  const publicKeysFile = join(dir, 'public-keys.json');
  const keyring = await openSigningKeyring({ name: ORIGIN, signingKeyFile: join(dir, 'secret', 'signing-key.pem'), publicKeysFile, createIfMissing: true });
  const sink = new DirectoryCheckpointSink(join(dir, 'checkpoints'));

  // 1. Real entries through the production writers ----------------------------------------------
  const accessCount = Math.round(REAL_ENTRIES * ACCESS_SHARE);
  const eventCount = REAL_ENTRIES - accessCount;
  const store = new PostgresEventStore({ pool });
  const accessLog = new PostgresAccessLog(pool);
  const fill = await timed(async () => {
    for (let written = 0; written < eventCount; ) {
      const appends = [0, 1].map((k) => {
        const n = Math.min(EVENTS_PER_APPEND, eventCount - written - k * EVENTS_PER_APPEND);
        if (n <= 0) return Promise.resolve();
        const subject = randomUUID();
        return store.appendToStream(`workout-${randomUUID()}`, Array.from({ length: n }, (_, i) => sampleEvent(written + k * EVENTS_PER_APPEND + i, subject))).then(() => undefined);
      });
      await Promise.all(appends);
      written += 2 * EVENTS_PER_APPEND;
    }
    for (let written = 0; written < accessCount; written += 5_000) {
      await Promise.all(Array.from({ length: Math.min(5_000, accessCount - written) }, (_, i) => accessLog.append(accessRecord(written + i))));
    }
  });
  console.log(`wrote ${eventCount} events and ${accessCount} access records in ${fill.seconds.toFixed(1)} s`);

  const projector = startAuditProjector({ pool, events: store, intervalMs: 3_600_000 });
  // Timed from the start: its first round begins at once, catchUp() drains what that round left.
  const projected = await timed(() => projector.catchUp());
  await projector.stop();
  const tree = new PostgresTreeStore(pool);
  const realSize = await tree.size();
  if (realSize !== REAL_ENTRIES) throw new Error(`the projector appended ${realSize} leaves, expected ${REAL_ENTRIES}`);
  const projectorEntriesPerSec = realSize / projected.seconds;
  console.log(`projected ${realSize} entries in ${projected.seconds.toFixed(2)} s`);
  await publishCheckpoint({ pool, keyring, sink });

  const exportFile = join(dir, 'export.ndjson');
  const exported = await timed(async () => {
    const out = createWriteStream(exportFile);
    const summary = await exportLog(pool, out);
    out.end();
    await finished(out);
    return summary;
  });
  if (exported.value.entries !== REAL_ENTRIES || exported.value.missing.length > 0) throw new Error('the export is incomplete');
  const exportEntriesPerSec = exported.value.entries / exported.seconds;
  console.log(`exported ${exported.value.entries} entries in ${exported.seconds.toFixed(2)} s`);

  const checkpoints = await sink.list();
  const publicKeys = await readVerifierKeys(publicKeysFile);
  const verified = await timed(() =>
    verifyLog({ lines: createInterface({ input: createReadStream(exportFile, { encoding: 'utf8' }), crlfDelay: Number.POSITIVE_INFINITY }), checkpoints, publicKeys }),
  );
  if (!verified.value.ok || verified.value.verifiedSize !== REAL_ENTRIES) throw new Error(`the export did not verify: ${JSON.stringify(verified.value.failure)}`);
  const verifyEventsPerSec = verified.value.entries / verified.seconds;
  console.log(`verified ${verified.value.entries} entries in ${verified.seconds.toFixed(2)} s (file read, parse, canonical JSON, SHA-256, tree)`);
  await accessLog.close();
  await store.close();

  // 2. Grow the tree to its full size -----------------------------------------------------------
  let counter = 0;
  const grown = await timed(async () => {
    while ((await tree.size()) < TOTAL_LEAVES) {
      const n = Math.min(BULK_BATCH, TOTAL_LEAVES - (await tree.size()));
      const leaves: AuditLeaf[] = Array.from({ length: n }, () => {
        counter += 1;
        const ref = `bench-${counter}`;
        return { kind: 'access', ref, leafHash: leafHash(Buffer.from(ref)) };
      });
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await appendLeaves(client, leaves);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    }
  });
  const bulkLeavesPerSec = counter / grown.seconds;
  console.log(`appended ${counter} more leaves in ${grown.seconds.toFixed(1)} s`);
  const second = await publishCheckpoint({ pool, keyring, sink });
  if (second?.size !== TOTAL_LEAVES) throw new Error('the second checkpoint was not published');
  // As autovacuum would have by now on a live system.
  await pool.query('VACUUM ANALYZE audit_leaves, audit_tree_nodes');

  // 3. Proofs at 1M leaves ----------------------------------------------------------------------
  const size = TOTAL_LEAVES;
  const root = await tree.rootAt(size);
  const next = random(42);
  const inclusionMs: number[] = [];
  for (let i = -WARMUP_PROOFS; i < PROOFS; i++) {
    const seq = Math.floor(next() * size);
    const t0 = performance.now();
    const path = await tree.inclusionProof(seq, size);
    const ms = performance.now() - t0;
    const [leaf] = await tree.nodes([{ level: 0, index: seq }]);
    if (leaf === undefined || !verifyInclusion(leaf, seq, size, path, root)) throw new Error(`the inclusion proof of ${seq} does not verify`);
    if (i >= 0) inclusionMs.push(ms);
  }
  const consistencyMs: number[] = [];
  for (let i = -WARMUP_PROOFS; i < PROOFS; i++) {
    const to = 2 + Math.floor(next() * (size - 1));
    const from = 1 + Math.floor(next() * (to - 1));
    const t0 = performance.now();
    const proof = await tree.consistencyProof(from, to);
    const ms = performance.now() - t0;
    if (!verifyConsistency(from, to, await tree.rootAt(from), await tree.rootAt(to), proof)) throw new Error(`the consistency proof ${from} -> ${to} does not verify`);
    if (i >= 0) consistencyMs.push(ms);
  }
  const proofP95Ms = percentile(inclusionMs, 95);
  const consistencyP95Ms = percentile(consistencyMs, 95);

  await pool.end();
  await server.stop();
  await rm(dir, { recursive: true, force: true });

  // 4. Read latency with and without the access log at an offered 500 reads/s, same run (the system
  //    as npm start starts it; two query apps over one database differing only in the log).
  const readLatency = await measureAccessLogLatency({ rate: 500, seconds: 3, rounds: quick ? 4 : 16 });
  const accessLogRows: Row[] = readLatency.rows;

  const rows: Row[] = [
    { metric: 'leaves', value: size, unit: 'leaves' },
    { metric: 'projectorEntriesPerSec', value: Math.round(projectorEntriesPerSec), unit: 'entries/s' },
    { metric: 'exportEntriesPerSec', value: Math.round(exportEntriesPerSec), unit: 'entries/s' },
    { metric: 'verifyEventsPerSec', value: Math.round(verifyEventsPerSec), unit: 'entries/s' },
    { metric: 'bulkAppendLeavesPerSec', value: Math.round(bulkLeavesPerSec), unit: 'leaves/s' },
    { metric: 'proofP50Ms', value: percentile(inclusionMs, 50), unit: 'ms' },
    { metric: 'proofP95Ms', value: proofP95Ms, unit: 'ms', target: '< 10', pass: proofP95Ms < 10 },
    { metric: 'proofP99Ms', value: percentile(inclusionMs, 99), unit: 'ms' },
    { metric: 'consistencyP50Ms', value: percentile(consistencyMs, 50), unit: 'ms' },
    { metric: 'consistencyP95Ms', value: consistencyP95Ms, unit: 'ms' },
    ...accessLogRows,
  ];
  report('audit', rows, {
    postgres: settings,
    accessLog: readLatency.details,
    volumes: {
      treeLeaves: size,
      realEntries: REAL_ENTRIES,
      realEvents: eventCount,
      realAccessRecords: accessCount,
      syntheticLeaves: counter,
      bulkBatchLeaves: BULK_BATCH,
      projectorBatch: 1_000,
      inclusionProofs: PROOFS,
      consistencyProofs: PROOFS,
      warmupProofs: WARMUP_PROOFS,
    },
    notes: [
      'verifyEventsPerSec: verifyLog over the NDJSON export of the real entries (read from a file, leaf hashes recomputed, tree rebuilt, checkpoint signature and root checked)',
      'leaves past the real entries are synthetic hashes appended with appendLeaves (the projector\'s own append), 10k per transaction; proofs read hashes only',
      'proof latencies: PostgresTreeStore (size query + one query for the O(log n) subtrees) at the full size, random indexes, each proof verified outside the timing',
      'access-log latency: open loop at 500 reads/s (GET /api/v1/workouts?limit=20 as alice, demo data) against two query apps (read models on their own pools, as query-service has them), one with the access log, 16 rounds of 3 s each alternating which goes first; medians of per-round p95; CPU per read from process.cpuUsage (this process: request thread and audit worker) and /proc (every postgres process); durableCommit*: sequential single-row INSERT commits on the same database, the floor under any durable record',
    ],
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
