/**
 * Offline verification of an exported audit log against published signed checkpoints: the check
 * an auditor runs without trusting FitLedger's database, servers or code paths beyond this file
 * and the hashing it imports.
 *
 * Every leaf hash is recomputed from the entry itself, the tree is rebuilt incrementally, and each
 * checkpoint must (1) carry a valid signature by a published key named like the log's origin,
 * (2) come no earlier and no smaller than the one before it, and (3) state the root that the
 * recomputed tree has at its size. A changed, deleted, inserted or reordered entry changes the
 * root of every checkpoint at or past it; a log rewritten with recomputed hashes still cannot
 * produce the old signed roots.
 */
import { performance } from 'node:perf_hooks';
import { CheckpointError, verifyCheckpoint, type NoteVerifierKey, type VerifiedCheckpoint } from './checkpoint';
import { parseExportLine } from './exportLine';
import { InvalidLogEntryError, leafBytes } from './leaf';
import { EMPTY_ROOT, equalHashes, leafHash, type Hash } from './merkle';
import { MemoryMerkleTree } from './memoryMerkleTree';

export interface VerifyLogInput {
  /** The export, one NDJSON line per entry (blank lines are skipped). */
  readonly lines: Iterable<string> | AsyncIterable<string>;
  /** Signed checkpoints in publication order (the checkpoint folder sorted by name). */
  readonly checkpoints: readonly { readonly name: string; readonly note: string }[];
  /** Published verifier keys, current and retired. */
  readonly publicKeys: readonly NoteVerifierKey[];
  /** The log origin to expect; by default the origin of the first checkpoint that verifies. */
  readonly origin?: string;
}

export type CheckpointStatus = 'verified' | 'rejected' | 'out-of-order' | 'root-mismatch' | 'beyond-log';

export interface CheckpointReport {
  readonly name: string;
  /** Tree size the checkpoint states (undefined when it could not be read). */
  readonly size: number | undefined;
  readonly status: CheckpointStatus;
  readonly reason?: string;
}

export type VerifyFailureCode = 'NO_CHECKPOINTS' | 'MALFORMED_LINE' | 'BAD_CHECKPOINT' | 'CHECKPOINT_ORDER' | 'ROOT_MISMATCH' | 'LOG_TOO_SHORT' | 'SEQ_MISMATCH' | 'LEAF_HASH_MISMATCH';

export interface VerifyFailure {
  readonly code: VerifyFailureCode;
  readonly message: string;
  /** The first checkpoint (in publication order) that does not hold. */
  readonly checkpoint?: { readonly name: string; readonly size: number | undefined };
  /** The last checkpoint before it that held: everything below its size is as signed. */
  readonly lastGoodCheckpoint?: { readonly name: string; readonly size: number };
  /** The first entry that differs from what was signed, when the evidence pins it down. */
  readonly firstDifferingSeq?: number;
  /** Otherwise the entries (inclusive) among which the first difference lies. */
  readonly suspectRange?: { readonly fromSeq: number; readonly toSeq: number };
  /** 1-based line number of an unreadable line. */
  readonly line?: number;
}

export interface VerifyLogResult {
  readonly ok: boolean;
  readonly entries: number;
  readonly events: number;
  readonly accessRecords: number;
  readonly checkpoints: readonly CheckpointReport[];
  readonly checkpointsVerified: number;
  /** Size of the largest verified checkpoint: entries below it are exactly as signed. */
  readonly verifiedSize: number;
  /** Entries past the largest verified checkpoint: no signature covers them yet. */
  readonly uncoveredEntries: number;
  readonly durationMs: number;
  readonly failure?: VerifyFailure;
}

interface PendingCheckpoint {
  readonly position: number;
  readonly checkpoint: VerifiedCheckpoint;
}

/** Verifies an exported log against signed checkpoints; never throws for bad input, reports it. */
export async function verifyLog(input: VerifyLogInput): Promise<VerifyLogResult> {
  const started = performance.now();
  const reports: CheckpointReport[] = [];
  const bySize = new Map<number, PendingCheckpoint[]>();
  let origin = input.origin;
  let previous: VerifiedCheckpoint | undefined;

  input.checkpoints.forEach(({ name, note }, position) => {
    let checkpoint: VerifiedCheckpoint;
    try {
      checkpoint = verifyCheckpoint(note, input.publicKeys, origin);
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      reports.push({ name, size: sizeStated(note), status: 'rejected', reason: error.message });
      return;
    }
    origin ??= checkpoint.origin;
    if (previous !== undefined && (checkpoint.size < previous.size || checkpoint.timestamp < previous.timestamp)) {
      reports.push({ name, size: checkpoint.size, status: 'out-of-order', reason: `follows a checkpoint of ${previous.size} leaves at ${previous.timestamp.toISOString()} with ${checkpoint.size} leaves at ${checkpoint.timestamp.toISOString()}` });
      return;
    }
    previous = checkpoint;
    reports.push({ name, size: checkpoint.size, status: 'verified' });
    const list = bySize.get(checkpoint.size) ?? [];
    list.push({ position, checkpoint });
    bySize.set(checkpoint.size, list);
  });

  const tree = new MemoryMerkleTree();
  const recorded = new MemoryMerkleTree();
  let events = 0;
  let accessRecords = 0;
  let firstSeqMismatch: number | undefined;
  let firstLeafHashMismatch: number | undefined;
  let malformed: { line: number; seq: number; message: string } | undefined;

  const checkAt = (size: number, root: Hash): void => {
    for (const { position, checkpoint } of bySize.get(size) ?? []) {
      if (!equalHashes(root, checkpoint.rootHash)) {
        reports[position] = { name: reports[position]?.name ?? '', size, status: 'root-mismatch', reason: `the log's root at ${size} leaves differs from the signed one` };
      }
    }
  };
  checkAt(0, EMPTY_ROOT);

  let lineNumber = 0;
  for await (const raw of input.lines) {
    lineNumber += 1;
    const text = raw.trim();
    if (text === '') continue;
    const seq = tree.length;
    let hash: Hash;
    try {
      const line = parseExportLine(text);
      hash = leafHash(leafBytes(line.entry));
      if (line.seq !== seq) firstSeqMismatch ??= seq;
      if (line.leafHash !== undefined && !equalHashes(line.leafHash, hash)) firstLeafHashMismatch ??= seq;
      recorded.append(line.leafHash ?? hash);
      if (line.entry.kind === 'event') events += 1;
      else accessRecords += 1;
    } catch (error) {
      if (!(error instanceof InvalidLogEntryError)) throw error;
      malformed = { line: lineNumber, seq, message: error.message };
      break;
    }
    tree.append(hash);
    if (bySize.has(tree.length)) checkAt(tree.length, tree.rootAt());
  }

  const entries = tree.length;
  for (const [size, list] of bySize) {
    if (size <= entries) continue;
    for (const { position } of list) {
      reports[position] = { name: reports[position]?.name ?? '', size, status: 'beyond-log', reason: `states ${size} leaves; the export holds ${entries}${malformed ? ' readable ones' : ''}` };
    }
  }

  const verified = reports.filter((r) => r.status === 'verified');
  const verifiedSize = verified.reduce((max, r) => Math.max(max, r.size ?? 0), 0);
  const durationMs = performance.now() - started;
  const summary = {
    entries,
    events,
    accessRecords,
    checkpoints: reports,
    checkpointsVerified: verified.length,
    verifiedSize,
    uncoveredEntries: Math.max(0, entries - verifiedSize),
    durationMs,
  };
  const failure = diagnose({ reports, tree, recorded, bySize, malformed, firstSeqMismatch, firstLeafHashMismatch, checkpointCount: input.checkpoints.length });
  return failure === undefined ? { ok: true, ...summary } : { ok: false, ...summary, failure };
}

/** Names the first checkpoint that fails and, where the evidence allows, the first entry that differs. */
function diagnose(state: {
  reports: readonly CheckpointReport[];
  tree: MemoryMerkleTree;
  recorded: MemoryMerkleTree;
  bySize: ReadonlyMap<number, readonly PendingCheckpoint[]>;
  malformed: { line: number; seq: number; message: string } | undefined;
  firstSeqMismatch: number | undefined;
  firstLeafHashMismatch: number | undefined;
  checkpointCount: number;
}): VerifyFailure | undefined {
  const { reports, tree, recorded, malformed } = state;
  if (state.checkpointCount === 0) return { code: 'NO_CHECKPOINTS', message: 'no checkpoint given: nothing to verify the log against' };

  const failedAt = reports.findIndex((r) => r.status !== 'verified');
  if (failedAt < 0) {
    // Every checkpoint holds. What is left is evidence about entries no checkpoint covers yet,
    // or an export whose own bookkeeping (seq, recorded hash) was edited.
    if (malformed !== undefined) return { code: 'MALFORMED_LINE', message: `line ${malformed.line}: ${malformed.message}`, line: malformed.line, firstDifferingSeq: malformed.seq };
    if (state.firstSeqMismatch !== undefined) return { code: 'SEQ_MISMATCH', message: `the entry at position ${state.firstSeqMismatch} carries another seq`, firstDifferingSeq: state.firstSeqMismatch };
    if (state.firstLeafHashMismatch !== undefined) return { code: 'LEAF_HASH_MISMATCH', message: `entry ${state.firstLeafHashMismatch} does not match the leaf hash recorded for it`, firstDifferingSeq: state.firstLeafHashMismatch };
    return undefined;
  }

  const failed = reports[failedAt] as CheckpointReport;
  const lastGood = reports.slice(0, failedAt).filter((r) => r.status === 'verified').at(-1);
  const lastGoodCheckpoint = lastGood === undefined ? undefined : { name: lastGood.name, size: lastGood.size ?? 0 };
  const checkpoint = { name: failed.name, size: failed.size };
  const base = { checkpoint, ...(lastGoodCheckpoint ? { lastGoodCheckpoint } : {}) };

  if (failed.status === 'rejected') {
    return { code: 'BAD_CHECKPOINT', message: `checkpoint ${failed.name} does not verify: ${failed.reason ?? ''}`, ...base };
  }
  if (failed.status === 'out-of-order') {
    return { code: 'CHECKPOINT_ORDER', message: `checkpoint ${failed.name} ${failed.reason ?? 'is out of order'}`, ...base };
  }

  // The log differs from what was signed somewhere in [last good size, failed size).
  const fromSeq = lastGoodCheckpoint?.size ?? 0;
  const signedSize = failed.size ?? 0;
  const toSeq = Math.min(signedSize, tree.length + 1) - 1;
  const locate = (): number | undefined => {
    if (malformed !== undefined && malformed.seq >= fromSeq && malformed.seq <= toSeq) return malformed.seq;
    // Seq numbers out of step pin a deletion, insertion or reordering exactly.
    if (state.firstSeqMismatch !== undefined && state.firstSeqMismatch >= fromSeq && state.firstSeqMismatch <= toSeq) return state.firstSeqMismatch;
    const bisected = bisectAgainstRecorded(tree, recorded, state.bySize, failed, fromSeq);
    if (bisected !== undefined) return bisected;
    if (fromSeq === toSeq) return fromSeq;
    return undefined;
  };
  const firstDifferingSeq = locate();
  const where = firstDifferingSeq !== undefined ? { firstDifferingSeq } : toSeq >= fromSeq ? { suspectRange: { fromSeq, toSeq } } : {};
  const at = firstDifferingSeq !== undefined ? `; first differing entry: seq ${firstDifferingSeq}` : toSeq >= fromSeq ? `; the first difference is among seq ${fromSeq}..${toSeq}` : '';
  if (failed.status === 'beyond-log') {
    const why = malformed !== undefined ? `line ${malformed.line} is unreadable (${malformed.message})` : `the export ends after ${tree.length} entries`;
    return { code: malformed !== undefined ? 'MALFORMED_LINE' : 'LOG_TOO_SHORT', message: `checkpoint ${failed.name} states ${signedSize} entries but ${why}${at}`, ...base, ...where, ...(malformed ? { line: malformed.line } : {}) };
  }
  return { code: 'ROOT_MISMATCH', message: `checkpoint ${failed.name}: the log's root at ${signedSize} entries is not the signed root${at}`, ...base, ...where };
}

/**
 * When the leaf hashes recorded in the export rebuild the signed root but the recomputed ones do
 * not, the recorded hashes are authenticated by the signature, and a bisection on prefix roots
 * (O(log n) roots, each O(log n)) finds the first entry whose content no longer matches them.
 * Without that authentication (the whole log was rewritten with fresh hashes) it gives up.
 */
function bisectAgainstRecorded(tree: MemoryMerkleTree, recorded: MemoryMerkleTree, bySize: ReadonlyMap<number, readonly PendingCheckpoint[]>, failed: CheckpointReport, fromSeq: number): number | undefined {
  const size = failed.size;
  if (size === undefined || size > recorded.length || size > tree.length) return undefined;
  const signed = (bySize.get(size) ?? [])[0]?.checkpoint.rootHash;
  if (signed === undefined || !equalHashes(recorded.rootAt(size), signed)) return undefined;
  // Invariant: the prefixes of length lo agree, those of length hi differ.
  let lo = fromSeq;
  let hi = size;
  if (!equalHashes(tree.rootAt(lo), recorded.rootAt(lo))) return undefined;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (equalHashes(tree.rootAt(mid), recorded.rootAt(mid))) lo = mid;
    else hi = mid;
  }
  return hi - 1;
}

/** The size line of a checkpoint whose signature did not verify, for the report only. */
function sizeStated(note: string): number | undefined {
  const size = note.split('\n')[1];
  return size !== undefined && /^(0|[1-9][0-9]*)$/.test(size) ? Number(size) : undefined;
}
