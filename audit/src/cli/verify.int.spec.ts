import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryCheckpointSink } from '../checkpointStore';
import { exportLine } from '../exportLine';
import { leafBytes, type LogEntry } from '../leaf';
import { leafHash } from '../merkle';
import { MemoryMerkleTree } from '../memoryMerkleTree';
import { openSigningKeyring } from '../signingKeyring';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ORIGIN = 'fitledger.test/audit';
let dir: string;
let entries: LogEntry[];

function entry(i: number): LogEntry {
  return {
    kind: 'event',
    entry: {
      eventId: `0190f5c2-7a3b-7c4d-8e9f-${i.toString(16).padStart(12, '0')}`,
      type: 'SetLogged',
      schemaVersion: 1,
      streamId: `workout-${Math.floor(i / 4)}`,
      revision: i % 4,
      position: `${(500 + i).toString(16).padStart(16, '0')}${i.toString(16).padStart(16, '0')}`,
      recordedAt: new Date(Date.UTC(2024, 6, 1) + i * 1000).toISOString(),
      data: { reps: i % 10, weightKg: `v1.${Buffer.from(`ct ${i}`).toString('base64url')}` },
      metadata: { tenantId: 'tenant-1', subjectId: 'subject-1' },
    },
  };
}

function lines(of: readonly LogEntry[]): string {
  return of.map((e, seq) => exportLine(seq, e, leafHash(leafBytes(e)))).join('');
}

function runVerifier(log: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'audit/src/cli/verify.ts', '--log', log, '--checkpoints', join(dir, 'checkpoints'), '--keys', join(dir, 'keys', 'public-keys.json')],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fitledger-audit-cli-'));
  const keyring = await openSigningKeyring({ name: ORIGIN, signingKeyFile: join(dir, 'secret', 'key.pem'), publicKeysFile: join(dir, 'keys', 'public-keys.json'), createIfMissing: true });
  entries = Array.from({ length: 50 }, (_, i) => entry(i));
  const tree = new MemoryMerkleTree();
  const sink = new DirectoryCheckpointSink(join(dir, 'checkpoints'));
  for (const [i, e] of entries.entries()) {
    tree.append(leafHash(leafBytes(e)));
    if ((i + 1) % 10 === 0) await sink.publish(keyring.signCheckpoint({ size: tree.length, rootHash: tree.rootAt(), timestamp: new Date(Date.UTC(2024, 6, 2) + i * 1000) }));
  }
  const intact = lines(entries);
  await writeFile(join(dir, 'export.ndjson'), intact);
  // Someone edits one entry in the file.
  const edited = intact.split('\n');
  edited[23] = (edited[23] as string).replace('"type":"SetLogged"', '"type":"SetDeleted"');
  await writeFile(join(dir, 'edited.ndjson'), edited.join('\n'));
  // Someone with database access rewrites the log, recomputing every leaf hash.
  const rewritten = [...entries];
  rewritten[23] = { kind: 'event', entry: { ...(entries[23]?.entry as Extract<LogEntry, { kind: 'event' }>['entry']), type: 'SetDeleted' } };
  await writeFile(join(dir, 'rewritten.ndjson'), lines(rewritten));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run audit:verify', () => {
  it('exits 0 with a summary for an intact log', () => {
    const result = runVerifier(join(dir, 'export.ndjson'));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/entries:\s+50 \(50 events, 0 access records\)/);
    expect(result.stdout).toMatch(/checkpoints verified: 5, covering the first 50 entries/);
    expect(result.stdout).toMatch(/\d+ entries\/s/);
  });

  it('exits 1 naming the first failing checkpoint and the edited entry', () => {
    const result = runVerifier(join(dir, 'edited.ndjson'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('first failing checkpoint: 00000000000000000030.checkpoint (30 entries)');
    expect(result.stderr).toContain('last good checkpoint:     00000000000000000020.checkpoint (20 entries)');
    expect(result.stderr).toContain('first differing entry:    seq 23');
  });

  it('exits 1 for a log rewritten with fresh hashes, narrowing the change to the failing checkpoint\'s range', () => {
    const result = runVerifier(join(dir, 'rewritten.ndjson'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('first failing checkpoint: 00000000000000000030.checkpoint (30 entries)');
    expect(result.stderr).toContain('first difference among:  seq 20..29');
  });

  it('exits 2 when the export cannot be read', () => {
    expect(runVerifier(join(dir, 'missing.ndjson')).status).toBe(2);
  });
});
