import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ed25519NoteSigner, signCheckpoint, verifierKeyOf, type NoteVerifierKey } from './checkpoint';
import { exportLine, parseExportLine } from './exportLine';
import { leafBytes, type AccessRecord, type AuditedEvent, type LogEntry } from './leaf';
import { leafHash } from './merkle';
import { MemoryMerkleTree } from './memoryMerkleTree';
import { verifyLog, type VerifyLogResult } from './verifyLog';

const ORIGIN = 'fitledger.test/audit';
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

function event(i: number): LogEntry {
  const entry: AuditedEvent = {
    eventId: `0190f5c2-7a3b-7${hex(i % 4096, 3)}-8${hex(i % 4096, 3)}-${hex(i, 12)}`,
    type: i % 3 === 0 ? 'WorkoutStarted' : 'SetLogged',
    schemaVersion: 1,
    streamId: `workout-${hex(Math.floor(i / 5), 8)}`,
    revision: i % 5,
    position: `${hex(1000 + i, 16)}${hex(i, 16)}`,
    recordedAt: new Date(Date.UTC(2024, 6, 1) + i * 1000).toISOString(),
    data: { reps: i % 12, weightKg: `v1.${Buffer.from(`ciphertext ${i}`).toString('base64url')}` },
    metadata: { tenantId: 'tenant-1', subjectId: `subject-${i % 7}`, actor: { sub: `user-${i % 7}`, role: 'client' } },
  };
  return { kind: 'event', entry };
}

function access(i: number): LogEntry {
  const entry: AccessRecord = {
    id: `0190f5c3-0000-7${hex(i % 4096, 3)}-9${hex(i % 4096, 3)}-${hex(i, 12)}`,
    at: new Date(Date.UTC(2024, 6, 1) + i * 1000 + 500).toISOString(),
    actorSub: `user-${i % 5}`,
    actorRole: i % 2 === 0 ? 'trainer' : 'auditor',
    actorOrganisation: i % 4 === 0 ? null : 'org-1',
    clientId: 'web',
    action: i % 9 === 0 ? 'denied' : 'read',
    recordType: 'workout',
    recordId: `workout-${hex(i, 8)}`,
    subjectPseudonym: `sp-${hex(i % 7, 4)}`,
    ip: '203.0.113.9',
    userAgent: null,
    service: 'query-service',
    method: 'GET',
    route: '/v1/workouts/:id',
    status: i % 9 === 0 ? 403 : 200,
    outcome: i % 9 === 0 ? 'denied' : 'allowed',
    purposeOfUse: 'treatment',
    consentVersion: i % 3,
    breakGlassGrantId: null,
    requestId: `req-${i}`,
  };
  return { kind: 'access', entry };
}

const ENTRY_COUNT = 207;
const CHECKPOINT_SIZES = [1, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200];
const ENTRIES: LogEntry[] = Array.from({ length: ENTRY_COUNT }, (_, i) => (i % 4 === 3 ? access(i) : event(i)));

function newSigner(): { sign: (size: number, root: Uint8Array, at: number) => string; verifier: NoteVerifierKey } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = ed25519NoteSigner(ORIGIN, privateKey);
  return {
    sign: (size, rootHash, at) => signCheckpoint({ origin: ORIGIN, size, rootHash, timestamp: new Date(Date.UTC(2024, 6, 2) + at * 60_000) }, signer),
    verifier: verifierKeyOf(ORIGIN, privateKey),
  };
}

const KEY = newSigner();
const HONEST_TREE = new MemoryMerkleTree();
for (const entry of ENTRIES) HONEST_TREE.append(leafHash(leafBytes(entry)));
const CHECKPOINTS = CHECKPOINT_SIZES.map((size, i) => ({ name: `${String(size).padStart(20, '0')}.checkpoint`, note: KEY.sign(size, HONEST_TREE.rootAt(size), i) }));
const LINES: readonly string[] = ENTRIES.map((entry, seq) => exportLine(seq, entry, leafHash(leafBytes(entry))));
const COVERED = CHECKPOINT_SIZES[CHECKPOINT_SIZES.length - 1] as number;

function verify(lines: readonly string[], checkpoints = CHECKPOINTS, publicKeys = [KEY.verifier]): Promise<VerifyLogResult> {
  return verifyLog({ lines, checkpoints, publicKeys });
}

/** A changed copy of an entry: one field differs, nothing else. */
function altered(entry: LogEntry, variant: number): LogEntry {
  if (entry.kind === 'event') {
    const data = entry.entry.data as { reps: number; weightKg: string };
    return variant % 2 === 0 ? { kind: 'event', entry: { ...entry.entry, data: { ...data, reps: data.reps + 1 } } } : { kind: 'event', entry: { ...entry.entry, type: 'SetCorrected' } };
  }
  return variant % 2 === 0 ? { kind: 'access', entry: { ...entry.entry, outcome: entry.entry.outcome === 'allowed' ? 'denied' : 'allowed' } } : { kind: 'access', entry: { ...entry.entry, actorSub: 'someone-else' } };
}

/** The first checkpoint whose tree contains seq j, and the last one before it. */
function expectedCheckpoints(j: number): { failing: string; lastGood: string | undefined } {
  const failingAt = CHECKPOINT_SIZES.findIndex((size) => size > j);
  return { failing: CHECKPOINTS[failingAt]?.name ?? '', lastGood: CHECKPOINTS[failingAt - 1]?.name };
}

function expectDetectedAt(result: VerifyLogResult, j: number, exact: boolean): void {
  expect(result.ok).toBe(false);
  const { failing, lastGood } = expectedCheckpoints(j);
  expect(result.failure?.checkpoint?.name).toBe(failing);
  expect(result.failure?.lastGoodCheckpoint?.name).toBe(lastGood);
  if (exact) {
    expect(result.failure?.firstDifferingSeq).toBe(j);
  } else if (result.failure?.firstDifferingSeq !== undefined) {
    expect(result.failure.firstDifferingSeq).toBe(j);
  } else {
    const range = result.failure?.suspectRange;
    expect(range).toBeDefined();
    expect(range?.fromSeq).toBeLessThanOrEqual(j);
    expect(range?.toSeq).toBeGreaterThanOrEqual(j);
  }
}

describe('verifyLog on an intact log', () => {
  it('verifies every checkpoint and counts what it read', async () => {
    const result = await verify(LINES);
    expect(result.failure).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.entries).toBe(ENTRY_COUNT);
    expect(result.events + result.accessRecords).toBe(ENTRY_COUNT);
    expect(result.accessRecords).toBe(ENTRIES.filter((e) => e.kind === 'access').length);
    expect(result.checkpointsVerified).toBe(CHECKPOINT_SIZES.length);
    expect(result.verifiedSize).toBe(COVERED);
    expect(result.uncoveredEntries).toBe(ENTRY_COUNT - COVERED);
  });

  it('reads export lines back to the same entries', () => {
    LINES.forEach((line, seq) => {
      const parsed = parseExportLine(line);
      expect(parsed.seq).toBe(seq);
      expect(leafBytes(parsed.entry).equals(leafBytes(ENTRIES[seq] as LogEntry))).toBe(true);
    });
  });

  it('verifies across a signing key rotation when both keys are published, and not with the new key alone', async () => {
    const next = newSigner();
    const rotated = CHECKPOINTS.map((c, i) => (i < 5 ? c : { name: c.name, note: next.sign(CHECKPOINT_SIZES[i] as number, HONEST_TREE.rootAt(CHECKPOINT_SIZES[i] as number), i) }));
    expect((await verify(LINES, rotated, [KEY.verifier, next.verifier])).ok).toBe(true);
    const newOnly = await verify(LINES, rotated, [next.verifier]);
    expect(newOnly.ok).toBe(false);
    expect(newOnly.failure?.code).toBe('BAD_CHECKPOINT');
    expect(newOnly.failure?.checkpoint?.name).toBe(CHECKPOINTS[0]?.name);
  });
});

describe('verifyLog detects tampering', () => {
  it('changing one entry: names the first failing checkpoint and the changed seq', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: COVERED - 1 }), fc.nat(), async (j, variant) => {
        const lines = [...LINES];
        lines[j] = exportLine(j, altered(ENTRIES[j] as LogEntry, variant), leafHash(leafBytes(ENTRIES[j] as LogEntry)));
        const result = await verify(lines);
        expect(result.failure?.code).toBe('ROOT_MISMATCH');
        expectDetectedAt(result, j, true);
      }),
      { numRuns: 100 },
    );
  });

  it('deleting one entry', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: COVERED - 1 }), async (j) => {
        const lines = LINES.filter((_, i) => i !== j);
        expectDetectedAt(await verify(lines), j, false);
      }),
      { numRuns: 100 },
    );
  });

  it('swapping two entries (reordering)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: COVERED - 1 }), fc.integer({ min: 1, max: 30 }), async (j, distance) => {
        const k = Math.min(j + distance, ENTRY_COUNT - 1);
        fc.pre(k !== j);
        const lines = [...LINES];
        [lines[j], lines[k]] = [lines[k] as string, lines[j] as string];
        expectDetectedAt(await verify(lines), j, true);
      }),
      { numRuns: 100 },
    );
  });

  it('a log rewritten with recomputed hashes and renumbered seqs, against the old checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: COVERED - 1 }), fc.constantFrom('change', 'delete', 'insert'), fc.nat(), async (j, how, variant) => {
        const entries = [...ENTRIES];
        if (how === 'change') entries[j] = altered(entries[j] as LogEntry, variant);
        else if (how === 'delete') entries.splice(j, 1);
        else entries.splice(j, 0, access(10_000 + variant % 1000));
        // Everything an attacker with database access can recompute: every leaf hash, every seq.
        const lines = entries.map((entry, seq) => exportLine(seq, entry, leafHash(leafBytes(entry))));
        expectDetectedAt(await verify(lines), j, false);
      }),
      { numRuns: 100 },
    );
  });
});

describe('verifyLog reports', () => {
  it('a checkpoint whose signature does not verify, by name', async () => {
    const checkpoints = CHECKPOINTS.map((c, i) => (i === 3 ? { name: c.name, note: c.note.replace(/ (\S)(\S+)\n$/, (_m, first: string, rest: string) => ` ${first === 'A' ? 'B' : 'A'}${rest}\n`) } : c));
    const result = await verify(LINES, checkpoints);
    expect(result.ok).toBe(false);
    expect(result.failure?.code).toBe('BAD_CHECKPOINT');
    expect(result.failure?.checkpoint?.name).toBe(CHECKPOINTS[3]?.name);
  });

  it('checkpoints that shrink, as out of order', async () => {
    const checkpoints = [CHECKPOINTS[0], CHECKPOINTS[4], CHECKPOINTS[2]] as { name: string; note: string }[];
    const result = await verify(LINES, checkpoints);
    expect(result.failure?.code).toBe('CHECKPOINT_ORDER');
    expect(result.failure?.checkpoint?.name).toBe(CHECKPOINTS[2]?.name);
  });

  it('a log shorter than its latest checkpoint (tail deleted)', async () => {
    const result = await verify(LINES.slice(0, 190));
    expect(result.failure?.code).toBe('LOG_TOO_SHORT');
    expect(result.failure?.checkpoint?.name).toBe(CHECKPOINTS[CHECKPOINTS.length - 1]?.name);
    expect(result.failure?.suspectRange).toEqual({ fromSeq: 180, toSeq: 190 });
  });

  it('an entry past the last checkpoint that no longer matches its recorded leaf hash', async () => {
    const lines = [...LINES];
    const j = ENTRY_COUNT - 2;
    lines[j] = exportLine(j, altered(ENTRIES[j] as LogEntry, 0), leafHash(leafBytes(ENTRIES[j] as LogEntry)));
    const result = await verify(lines);
    expect(result.checkpointsVerified).toBe(CHECKPOINT_SIZES.length);
    expect(result.ok).toBe(false);
    expect(result.failure).toMatchObject({ code: 'LEAF_HASH_MISMATCH', firstDifferingSeq: j });
  });

  it('an unreadable line, with its line number', async () => {
    const lines = [...LINES];
    lines[50] = '{"kind":"event","seq":50,';
    const result = await verify(lines);
    expect(result.ok).toBe(false);
    expect(result.failure).toMatchObject({ code: 'MALFORMED_LINE', line: 51, firstDifferingSeq: 50, checkpoint: { name: CHECKPOINTS[3]?.name } });
  });

  it('no checkpoints at all as a failure: nothing was verified', async () => {
    const result = await verify(LINES, []);
    expect(result.ok).toBe(false);
    expect(result.failure?.code).toBe('NO_CHECKPOINTS');
  });
});
