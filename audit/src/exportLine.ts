/**
 * The audit log export: NDJSON, one entry per line, in tree order —
 *
 *   {"kind":"event"|"access","seq":<n>,"leafHash":"<base64>","entry":{…}}
 *
 * `seq` is the entry's index in the tree (0, 1, 2, …). `entry` is the {@link AuditedEvent} or
 * {@link AccessRecord} the leaf commits to, in canonical JSON. `leafHash` is the leaf hash the
 * tree store recorded at append time: not trusted on its own, but when the tree of recorded hashes
 * matches a signed checkpoint and the recomputed one does not, the verifier can point at the exact
 * entry that was changed.
 */
import { canonicalJson, type JsonValue } from '@fitledger/event-store';
import { InvalidLogEntryError, parseAccessRecord, parseAuditedEvent, type LogEntry } from './leaf';
import { isHash, type Hash } from './merkle';

/** One line of an export, parsed. */
export interface ExportLine {
  readonly seq: number;
  readonly entry: LogEntry;
  /** The leaf hash recorded by the tree store, when the export carries it. */
  readonly leafHash: Hash | undefined;
}

const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

/** Formats one export line, ending in "\n". */
export function exportLine(seq: number, entry: LogEntry, recordedLeafHash: Hash): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('seq is a non-negative integer');
  if (!isHash(recordedLeafHash)) throw new TypeError('a leaf hash is 32 bytes');
  const body = entry.kind === 'event' ? parseAuditedEvent(entry.entry) : parseAccessRecord(entry.entry);
  const hash = Buffer.from(recordedLeafHash).toString('base64');
  return `{"kind":${JSON.stringify(entry.kind)},"seq":${seq},"leafHash":"${hash}","entry":${canonicalJson(body as unknown as JsonValue)}}\n`;
}

/** Parses one export line; throws InvalidLogEntryError naming what is wrong. */
export function parseExportLine(text: string): ExportLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidLogEntryError('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidLogEntryError('an export line is a JSON object');
  const line = value as Record<string, unknown>;
  for (const key of Object.keys(line)) {
    if (!['kind', 'seq', 'leafHash', 'entry'].includes(key)) throw new InvalidLogEntryError(`unknown field ${JSON.stringify(key)}`);
  }
  const seq = line.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new InvalidLogEntryError('seq must be a non-negative integer');
  let leafHash: Hash | undefined;
  if (line.leafHash !== undefined) {
    if (typeof line.leafHash !== 'string' || !BASE64_32.test(line.leafHash)) throw new InvalidLogEntryError('leafHash must be base64 of 32 bytes');
    leafHash = Buffer.from(line.leafHash, 'base64');
  }
  let entry: LogEntry;
  if (line.kind === 'event') entry = { kind: 'event', entry: parseAuditedEvent(line.entry) };
  else if (line.kind === 'access') entry = { kind: 'access', entry: parseAccessRecord(line.entry) };
  else throw new InvalidLogEntryError('kind must be "event" or "access"');
  return { seq, entry, leafHash };
}
