/**
 * The acceptance test of the tamper-evident audit trail: a log of events and access records is
 * built through the real writers, projected and checkpointed (the checkpoints published to a
 * folder outside the database); then someone with full database access changes it — 100 times
 * each: an UPDATE, a DELETE, a reordering, and a rewrite that also recomputes the Merkle tree so
 * the database is consistent with itself. Every time, the export checked by the offline verifier
 * against the published checkpoints and keys must fail, and point at (or bracket) the first entry
 * that was changed.
 *
 * Each trial runs in a transaction that is rolled back; the export is read inside it. The tables'
 * append-only triggers are switched off the way a DBA would (`session_replication_role = replica`,
 * as the superuser the tests connect as).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePgPosition, migrateEventStore, PostgresEventStore, type Position } from '@fitledger/event-store';
import { isolatedPostgres } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAccessLog } from './accessLog/postgresAccessLog';
import type { NoteVerifierKey } from './checkpoint';
import { DirectoryCheckpointSink, type StoredCheckpoint } from './checkpointStore';
import { equalHashes } from './merkle';
import { migrateAuditSchema } from './postgres/migrations/index';
import { PostgresTreeStore, appendLeaves, auditLeaf } from './postgres/postgresAuditTree';
import { startAuditProjector } from './projector';
import { startCheckpointPublisher } from './publisher';
import { openSigningKeyring, readVerifierKeys } from './signingKeyring';
import { appendAccessRecords, appendEvents, exportLines, exportText, random, treeOfExport } from './testing/auditFixtures';
import { verifyLog, type VerifyLogResult } from './verifyLog';

const ORIGIN = 'fitledger.test/audit';
const TRIALS = 100;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let server: Awaited<ReturnType<typeof isolatedPostgres>>;
let pool: pg.Pool;
let dir: string;
let checkpointDir: string;
let publicKeysFile: string;
let checkpoints: StoredCheckpoint[];
let publicKeys: NoteVerifierKey[];
let leaves: { seq: number; kind: 'event' | 'access'; ref: string }[];

beforeAll(async () => {
  server = await isolatedPostgres();
  pool = new pg.Pool({ connectionString: server.url, max: 6 });
  await migrateEventStore(pool);
  await migrateAuditSchema(pool);
  dir = await mkdtemp(join(tmpdir(), 'fitledger-tamper-'));
  checkpointDir = join(dir, 'published', 'checkpoints');
  publicKeysFile = join(dir, 'published', 'public-keys.json');
  const keyring = await openSigningKeyring({ name: ORIGIN, signingKeyFile: join(dir, 'secret', 'signing-key.pem'), publicKeysFile, createIfMissing: true });

  const store = new PostgresEventStore({ pool });
  const accessLog = new PostgresAccessLog(pool);
  const projector = startAuditProjector({ pool, events: store, intervalMs: 3_600_000, batchSize: 100 });
  const publisher = startCheckpointPublisher({ pool, keyring, sink: new DirectoryCheckpointSink(checkpointDir), intervalMs: 3_600_000 });
  // Both loops tick once as they start: let those ticks finish on the empty store (nothing to
  // project or sign), or under load the publisher's could sign a tree the projector's first tick
  // had just begun (a checkpoint of size 1 ahead of the four below).
  await projector.catchUp();
  await publisher.publishNow();
  // Four rounds of activity, each followed by a signed checkpoint: 300 events, 160 access records.
  for (let round = 0; round < 4; round++) {
    await appendEvents(store, 75);
    await appendAccessRecords(accessLog, 40, round * 100);
    await projector.catchUp();
    await publisher.publishNow();
  }
  await projector.stop();
  await publisher.stop();
  await accessLog.close();
  await store.close();

  // What the verifier gets from outside the database.
  checkpoints = await new DirectoryCheckpointSink(checkpointDir).list();
  publicKeys = await readVerifierKeys(publicKeysFile);
  const { rows } = await pool.query<{ seq: string; kind: 'event' | 'access'; ref: string }>('SELECT seq::text AS seq, kind, ref FROM audit_leaves ORDER BY audit_leaves.seq');
  leaves = rows.map((r) => ({ seq: Number(r.seq), kind: r.kind, ref: r.ref }));
});

afterAll(async () => {
  await pool?.end();
  await server?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

type Tamper = (db: pg.PoolClient, trial: number, next: () => number) => Promise<number>;

async function verifyExport(db: pg.Pool | pg.PoolClient): Promise<VerifyLogResult> {
  const { text } = await exportText(db);
  return verifyLog({ lines: exportLines(text), checkpoints, publicKeys });
}

/** Runs a tampering in a transaction that is rolled back; returns the verifier's result and the first seq changed. */
async function trial(tamper: Tamper, index: number, next: () => number): Promise<{ result: VerifyLogResult; firstChanged: number }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    const firstChanged = await tamper(client, index, next);
    return { result: await verifyExport(client), firstChanged };
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

/** Whether the verifier names the changed entry, or a range of suspects holding it. */
function locates(result: VerifyLogResult, seq: number): boolean {
  const failure = result.failure;
  if (failure?.firstDifferingSeq !== undefined) return failure.firstDifferingSeq === seq;
  return failure?.suspectRange !== undefined && failure.suspectRange.fromSeq <= seq && seq <= failure.suspectRange.toSeq;
}

/** Runs TRIALS tamperings; returns the trials the verifier did not catch or did not locate. */
async function runTrials(seed: number, tamper: Tamper): Promise<{ undetected: number[]; unlocated: string[]; codes: Set<string> }> {
  const next = random(seed);
  const undetected: number[] = [];
  const unlocated: string[] = [];
  const codes = new Set<string>();
  for (let i = 0; i < TRIALS; i++) {
    const { result, firstChanged } = await trial(tamper, i, next);
    if (result.ok) undetected.push(i);
    else {
      codes.add(result.failure?.code ?? 'none');
      if (!locates(result, firstChanged)) unlocated.push(`trial ${i}: changed seq ${firstChanged}, verifier said ${JSON.stringify(result.failure)}`);
    }
  }
  return { undetected, unlocated, codes };
}

function pick(next: () => number, kind?: 'event' | 'access'): { seq: number; kind: 'event' | 'access'; ref: string } {
  const candidates = kind === undefined ? leaves : leaves.filter((l) => l.kind === kind);
  return candidates[Math.floor(next() * candidates.length)] as (typeof leaves)[number];
}

/** Two distinct entries (of one kind when given), lower seq first. */
function pickTwo(next: () => number, kind?: 'event' | 'access'): [(typeof leaves)[number], (typeof leaves)[number]] {
  const a = pick(next, kind);
  let b = pick(next, kind);
  while (b.seq === a.seq) b = pick(next, kind);
  return a.seq < b.seq ? [a, b] : [b, a];
}

function eventKey(ref: string): [string, string] {
  const { txId, seq } = decodePgPosition(ref as Position);
  return [txId, seq];
}

async function changed(db: pg.PoolClient, text: string, values: unknown[], expectedRows = 1): Promise<void> {
  const result = await db.query(text, values);
  if (result.rowCount !== expectedRows) throw new Error(`tampering changed ${result.rowCount} rows, not ${expectedRows}: ${text}`);
}

const EVENT_WHERE = 'transaction_id = $1::text::xid8 AND seq = $2::bigint';

// Field changes an insider might make to an access record: each really changes what the record says.
const ACCESS_EDITS = [
  "outcome = CASE WHEN outcome = 'allowed' THEN 'error' ELSE 'allowed' END",
  "actor_sub = actor_sub || '-someone-else'",
  "at = at - interval '1 hour'",
  "subject_pseudonym = md5(coalesce(subject_pseudonym, '') || 'x')",
  "purpose_of_use = 'ETREAT'",
  'status = status + 1',
  "record_id = coalesce(record_id, '') || 'x'",
  "break_glass_grant_id = 'grant-planted'",
  "route = '/api/v1/profile'",
  'consent_version = coalesce(consent_version, 0) + 1',
] as const;

const updateOne: Tamper = async (db, i, next) => {
  if (i % 3 === 2) {
    const target = pick(next, 'access');
    await changed(db, `UPDATE audit_access_records SET ${ACCESS_EDITS[Math.floor(next() * ACCESS_EDITS.length)]} WHERE id = $1`, [target.ref]);
    return target.seq;
  }
  const target = pick(next, 'event');
  const edit = i % 3 === 0 ? "data = jsonb_set(data, '{reps}', to_jsonb((data->>'reps')::int + 1))" : "metadata = jsonb_set(metadata, '{actor,sub}', '\"someone-else\"')";
  await changed(db, `UPDATE es_events SET ${edit} WHERE ${EVENT_WHERE}`, eventKey(target.ref));
  return target.seq;
};

const deleteOne: Tamper = async (db, i, next) => {
  const target = pick(next, i % 3 === 0 ? 'event' : i % 3 === 1 ? 'access' : undefined);
  if (i % 3 === 2) await changed(db, 'DELETE FROM audit_leaves WHERE seq = $1', [target.seq]);
  else if (target.kind === 'event') await changed(db, `DELETE FROM es_events WHERE ${EVENT_WHERE}`, eventKey(target.ref));
  else await changed(db, 'DELETE FROM audit_access_records WHERE id = $1', [target.ref]);
  return target.seq;
};

const EVENT_COLUMNS = 'event_id, stream_id, revision, type, schema_version, data, metadata, content_digest, recorded_at';
const ACCESS_COLUMNS = [
  'at', 'actor_sub', 'actor_role', 'actor_organisation', 'client_id', 'action', 'record_type', 'record_id', 'subject_pseudonym', 'ip', 'user_agent',
  'service', 'method', 'route', 'status', 'outcome', 'purpose_of_use', 'consent_version', 'break_glass_grant_id', 'request_id',
];

const reorderTwo: Tamper = async (db, i, next) => {
  if (i % 3 === 0) {
    // The tree's own order: two leaves trade places (with their recorded hashes).
    const [a, b] = pickTwo(next);
    const { rows } = await db.query<{ seq: string; h: Buffer }>('SELECT seq::text AS seq, leaf_hash AS h FROM audit_leaves WHERE seq = ANY($1::bigint[])', [[a.seq, b.seq]]);
    const hashOf = (seq: number): Buffer | undefined => rows.find((r) => Number(r.seq) === seq)?.h;
    // Through a temporary ref: (kind, ref) is unique at every statement.
    await changed(db, "UPDATE audit_leaves SET ref = ref || '#moving' WHERE seq = $1", [a.seq]);
    await changed(db, 'UPDATE audit_leaves SET kind = $2, ref = $3, leaf_hash = $4 WHERE seq = $1', [b.seq, a.kind, a.ref, hashOf(a.seq)]);
    await changed(db, 'UPDATE audit_leaves SET kind = $2, ref = $3, leaf_hash = $4 WHERE seq = $1', [a.seq, b.kind, b.ref, hashOf(b.seq)]);
    return a.seq;
  }
  if (i % 3 === 1) {
    // Two events trade places in `$all`: each row moves to the other's position.
    const [a, b] = pickTwo(next, 'event');
    const [keyA, keyB] = [eventKey(a.ref), eventKey(b.ref)];
    const { rows } = await db.query<Record<string, unknown>>(
      `SELECT transaction_id::text AS tx, seq::text AS seq, event_id::text AS event_id, stream_id, revision, type, schema_version, data::text AS data, metadata::text AS metadata, content_digest, recorded_at::text AS recorded_at
         FROM es_events WHERE (${EVENT_WHERE}) OR (transaction_id = $3::text::xid8 AND seq = $4::bigint)`,
      [...keyA, ...keyB],
    );
    if (rows.length !== 2) throw new Error('both events must exist');
    await changed(db, `DELETE FROM es_events WHERE (${EVENT_WHERE}) OR (transaction_id = $3::text::xid8 AND seq = $4::bigint)`, [...keyA, ...keyB], 2);
    for (const row of rows) {
      const [tx, seq] = row.tx === keyA[0] && row.seq === keyA[1] ? keyB : keyA;
      await changed(
        db,
        `INSERT INTO es_events (transaction_id, seq, ${EVENT_COLUMNS}) OVERRIDING SYSTEM VALUE
         VALUES ($1::text::xid8, $2::bigint, $3::uuid, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11::timestamptz)`,
        [tx, seq, row.event_id, row.stream_id, row.revision, row.type, row.schema_version, row.data, row.metadata, row.content_digest, row.recorded_at],
      );
    }
    return a.seq;
  }
  // Two access records trade contents (each keeps its id): who did what is swapped.
  const [a, b] = pickTwo(next, 'access');
  await changed(
    db,
    `UPDATE audit_access_records r SET ${ACCESS_COLUMNS.map((c) => `${c} = o.${c}`).join(', ')}
       FROM audit_access_records o WHERE (r.id = $1 AND o.id = $2) OR (r.id = $2 AND o.id = $1)`,
    [a.ref, b.ref],
    2,
  );
  return a.seq;
};

/** Changes an entry, then rebuilds the whole tree from the changed rows: leaves, recorded hashes and nodes all agree again. */
const rewriteWithRecomputedTree: Tamper = async (db, i, next) => {
  const change = [updateOne, deleteOne, reorderTwo][i % 3] as Tamper;
  // The inner tampering picks its variant from i as well: spread them by using i / 3.
  const firstChanged = await change(db, Math.floor(i / 3), next);
  const { text } = await exportText(db);
  const { entries } = treeOfExport(text);
  await db.query('DELETE FROM audit_tree_nodes');
  await db.query('DELETE FROM audit_leaves');
  await db.query('UPDATE audit_tree_head SET size = 0');
  await appendLeaves(db, entries.map(auditLeaf));
  return firstChanged;
};

describe('tampering with the audit log behind its back', () => {
  it('verifies the log as it was written (the control)', async () => {
    expect(checkpoints.map((c) => c.size)).toEqual([115, 230, 345, 460]);
    const result = await verifyExport(pool);
    expect(result).toMatchObject({ ok: true, entries: 460, events: 300, accessRecords: 160, checkpointsVerified: 4, verifiedSize: 460 });
  });

  it('catches 100 of 100 direct UPDATEs of an event or an access record, naming the entry', async () => {
    const { undetected, unlocated, codes } = await runTrials(1, updateOne);
    expect(undetected).toEqual([]);
    expect(unlocated).toEqual([]);
    expect([...codes]).toEqual(['ROOT_MISMATCH']);
  });

  it('catches 100 of 100 DELETEs of an event, an access record or a leaf, naming the entry', async () => {
    const { undetected, unlocated } = await runTrials(2, deleteOne);
    expect(undetected).toEqual([]);
    expect(unlocated).toEqual([]);
  });

  it('catches 100 of 100 reorderings of two entries', async () => {
    const { undetected, unlocated } = await runTrials(3, reorderTwo);
    expect(undetected).toEqual([]);
    expect(unlocated).toEqual([]);
  });

  it('catches 100 of 100 rewrites that recompute the whole tree, bracketing the change between two checkpoints', async () => {
    const forger = await openSigningKeyring({ name: ORIGIN, signingKeyFile: join(dir, 'forger', 'key.pem'), publicKeysFile: join(dir, 'forger', 'keys.json'), createIfMissing: true });
    let selfConsistent = 0;
    const checkSelfConsistency: Tamper = async (db, i, next) => {
      const firstChanged = await rewriteWithRecomputedTree(db, i, next);
      // The rewritten database agrees with itself: recorded hashes, stored root and export all match,
      // and a checkpoint signed over it by the forger's key verifies. Only the published checkpoints tell.
      const { text } = await exportText(db);
      const rebuilt = treeOfExport(text);
      const tree = new PostgresTreeStore(db);
      const size = await tree.size();
      const forged = forger.signCheckpoint({ size, rootHash: await tree.rootAt(size), timestamp: new Date() });
      const withForgedKey = await verifyLog({ lines: exportLines(text), checkpoints: [{ name: 'forged', note: forged }], publicKeys: forger.verifierKeys() });
      if (rebuilt.recordedMatch && equalHashes(await tree.rootAt(size), rebuilt.tree.rootAt()) && withForgedKey.ok) selfConsistent += 1;
      return firstChanged;
    };
    const { undetected, unlocated } = await runTrials(4, checkSelfConsistency);
    expect(selfConsistent).toBe(TRIALS);
    expect(undetected).toEqual([]);
    expect(unlocated).toEqual([]);
  });

  it('still verifies the log once every trial was rolled back', async () => {
    expect((await verifyExport(pool)).ok).toBe(true);
  });
});

describe('npm run audit:export, then npm run audit:verify', () => {
  function run(script: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, DATABASE_URL: server.url } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }
  const verify = (log: string) => run('audit/src/cli/verify.ts', ['--log', log, '--checkpoints', checkpointDir, '--keys', publicKeysFile]);

  it('exports the log from the database and verifies it offline', () => {
    const log = join(dir, `export-${randomUUID()}.ndjson`);
    const exported = run('audit/src/cli/export.ts', ['--out', log]);
    expect(exported.stderr).toContain('exported 460 entries (seq 0..459 of a tree of 460)');
    expect(exported.status).toBe(0);
    const verified = verify(log);
    expect(verified.stdout).toContain('audit log verified');
    expect(verified.status).toBe(0);
  });

  it('exports a tampered database as it is, and the verifier names the changed entry', async () => {
    const target = leaves.find((l) => l.kind === 'access' && l.seq > 300) as (typeof leaves)[number];
    await pool.query(`BEGIN; SET LOCAL session_replication_role = replica; UPDATE audit_access_records SET actor_sub = 'nobody' WHERE id = '${target.ref}'; COMMIT`);
    const log = join(dir, `export-${randomUUID()}.ndjson`);
    expect(run('audit/src/cli/export.ts', ['--out', log]).status).toBe(0);
    const verified = verify(log);
    expect(verified.status).toBe(1);
    expect(verified.stderr).toContain(`first differing entry:    seq ${target.seq}`);
  });
});
