/**
 * Test fixtures of the audit trail's integration tests: a log of events and access records in a
 * real database, and the export read back as text. Not exported by the package.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { uuidv7 } from '@fitledger/domain';
import type { EventStore, NewEvent } from '@fitledger/event-store';
import type pg from 'pg';
import type { AccessLog } from '../accessLog/postgresAccessLog';
import { exportLog, type ExportSummary } from '../export';
import { parseExportLine } from '../exportLine';
import { leafBytes, type AccessRecord, type LogEntry } from '../leaf';
import { leafHash } from '../merkle';
import { MemoryMerkleTree } from '../memoryMerkleTree';
import type { Queryable } from '../postgres/postgresAuditTree';

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An event shaped like a sealed one: opaque ids in clear, the PHI as a ciphertext token. */
export function sealedEvent(i: number): NewEvent {
  return {
    eventId: randomUUID(),
    type: i % 3 === 0 ? 'WorkoutStarted' : 'SetLogged',
    schemaVersion: 1,
    data: { setId: randomUUID(), ordinal: i, reps: i % 12, phi: `fl1.${randomBytes(12).toString('base64url')}.${randomBytes(48).toString('base64url')}`, tags: ['a', i % 2 === 0 ? 'even' : 'odd'], nested: { weightKg: null, done: i % 2 === 0 } },
    metadata: { tenantId: 'tenant-audit', subjectId: `subject-${i % 7}`, actor: { sub: `subject-${i % 7}`, role: 'client' }, correlationId: randomUUID() },
  };
}

/** Appends `count` events over `streams` workout streams, a few per append. */
export async function appendEvents(store: Pick<EventStore, 'appendToStream'>, count: number, streams = 12): Promise<void> {
  const names = Array.from({ length: streams }, () => `workout-${randomUUID()}`);
  let written = 0;
  while (written < count) {
    const batch = Array.from({ length: Math.min(count - written, 1 + (written % 5)) }, (_, i) => sealedEvent(written + i));
    await store.appendToStream(names[written % streams] as string, batch);
    written += batch.length;
  }
}

/** An access record as the services write it (UUIDv7 id, pseudonymous subject). */
export function accessRecord(i: number): AccessRecord {
  const denied = i % 5 === 0;
  return {
    id: uuidv7(new Date(Date.UTC(2026, 0, 1) + i * 1_000), randomBytes(10)),
    at: new Date(Date.UTC(2026, 0, 1) + i * 1_000).toISOString(),
    actorSub: randomUUID(),
    actorRole: i % 2 === 0 ? 'trainer' : 'client',
    actorOrganisation: 'tenant-audit',
    clientId: 'fitledger-web',
    action: denied ? 'denied' : 'read',
    recordType: 'workouts',
    recordId: i % 3 === 0 ? randomUUID() : null,
    subjectPseudonym: randomBytes(16).toString('hex'),
    ip: '203.0.113.7',
    userAgent: 'vitest',
    service: 'query-service',
    method: 'GET',
    route: '/api/v1/clients/:clientId/workouts',
    status: denied ? 403 : 200,
    outcome: denied ? 'denied' : 'allowed',
    purposeOfUse: 'TREAT',
    consentVersion: denied ? null : i % 4,
    breakGlassGrantId: null,
    requestId: randomUUID(),
  };
}

/** Appends `count` access records through the access log (group commit, as the services do). */
export async function appendAccessRecords(log: AccessLog, count: number, from = 0): Promise<AccessRecord[]> {
  const records = Array.from({ length: count }, (_, i) => accessRecord(from + i));
  await Promise.all(records.map((record) => log.append(record)));
  return records;
}

class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** The export as text (`exportLog` into memory). */
export async function exportText(db: pg.Pool | Queryable): Promise<{ text: string; summary: ExportSummary }> {
  const sink = new TextSink();
  const summary = await exportLog(db, sink);
  return { text: sink.text, summary };
}

export function exportLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** The entries of an export, and the tree rebuilt from them (leaf hashes recomputed, not taken from the export). */
export function treeOfExport(text: string): { entries: LogEntry[]; tree: MemoryMerkleTree; recordedMatch: boolean } {
  const tree = new MemoryMerkleTree();
  const entries: LogEntry[] = [];
  let recordedMatch = true;
  for (const line of exportLines(text)) {
    const parsed = parseExportLine(line);
    const hash = leafHash(leafBytes(parsed.entry));
    if (parsed.leafHash === undefined || !Buffer.from(parsed.leafHash).equals(hash) || parsed.seq !== tree.length) recordedMatch = false;
    tree.append(hash);
    entries.push(parsed.entry);
  }
  return { entries, tree, recordedMatch };
}
