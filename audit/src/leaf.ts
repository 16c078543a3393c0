/**
 * What the audit tree commits to: the canonical bytes of each log entry.
 *
 * Leaf bytes are `kind tag (1 byte) || canonical JSON (UTF-8)`. The tag separates the two kinds
 * of entries (an access record can never be read as an event with the same JSON, and the reverse);
 * a new leaf format gets a new tag rather than changing an old one, so leaves hashed years ago
 * still verify. Canonical JSON is the event store's (object keys sorted recursively,
 * `JSON.stringify` scalars), so every verifier that parses the exported JSON and serialises it
 * again gets the same bytes.
 */
import { canonicalJson, isPosition, type JsonObject, type JsonValue, type RecordedEvent } from '@fitledger/event-store';

/** Kind tag byte of each leaf format. Never renumber: old leaves are hashed with these. */
export const LEAF_KIND_TAG = Object.freeze({ event: 0x01, access: 0x02 } as const);

export type LeafKind = keyof typeof LEAF_KIND_TAG;

/**
 * An event in the form the audit log commits to: the stored envelope, with `recordedAt` as an ISO
 * string. `data` is what the store holds — PHI fields are already ciphertext — so destroying a
 * subject's key (erasure) never changes a leaf, and the log still verifies after erasure.
 */
export interface AuditedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly streamId: string;
  readonly revision: number;
  /** The `$all` position (opaque, 32 hex digits for PostgreSQL). */
  readonly position: string;
  /** ISO 8601 UTC, millisecond precision, as `Date.toISOString()` writes it. */
  readonly recordedAt: string;
  readonly data: JsonValue;
  readonly metadata: JsonObject;
}

export type AccessAction = 'read' | 'write' | 'denied' | 'admin';
export type AccessOutcome = 'allowed' | 'denied' | 'error';

/**
 * One access to the record service: who, what, when, where, outcome and purpose. Flat and free
 * of PHI (pseudonymous subject, opaque record ids), so it can outlive erasure for the retention
 * period of the audit trail.
 */
export interface AccessRecord {
  /** UUIDv7: time-ordered, unique. */
  readonly id: string;
  /** ISO 8601 UTC time of the access. */
  readonly at: string;
  readonly actorSub: string;
  readonly actorRole: string;
  readonly actorOrganisation: string | null;
  readonly clientId: string | null;
  readonly action: AccessAction;
  readonly recordType: string;
  readonly recordId: string | null;
  readonly subjectPseudonym: string | null;
  readonly ip: string;
  readonly userAgent: string | null;
  readonly service: string;
  readonly method: string;
  readonly route: string;
  /** HTTP status sent. */
  readonly status: number;
  readonly outcome: AccessOutcome;
  readonly purposeOfUse: string;
  /** Version of the subject's consent stream the decision used, when one applied. */
  readonly consentVersion: number | null;
  readonly breakGlassGrantId: string | null;
  readonly requestId: string;
}

/** One entry of the audit log, tagged with its kind. */
export type LogEntry = { readonly kind: 'event'; readonly entry: AuditedEvent } | { readonly kind: 'access'; readonly entry: AccessRecord };

/** Thrown when an entry does not have the shape its leaf format requires; the message names the field. */
export class InvalidLogEntryError extends Error {
  readonly code = 'INVALID_LOG_ENTRY';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidLogEntryError';
  }
}

/** The audited form of a stored event. */
export function auditedEvent(event: RecordedEvent): AuditedEvent {
  return {
    eventId: event.eventId,
    type: event.type,
    schemaVersion: event.schemaVersion,
    streamId: event.streamId,
    revision: event.revision,
    position: event.position,
    recordedAt: event.recordedAt.toISOString(),
    data: event.data,
    metadata: event.metadata,
  };
}

/** Leaf bytes of an event: 0x01 || canonical JSON of exactly the {@link AuditedEvent} fields. */
export function eventLeaf(event: AuditedEvent): Buffer {
  return tagged('event', parseAuditedEvent(event));
}

/** Leaf bytes of an access record: 0x02 || canonical JSON of exactly the {@link AccessRecord} fields. */
export function accessLeaf(record: AccessRecord): Buffer {
  return tagged('access', parseAccessRecord(record));
}

export function leafBytes(entry: LogEntry): Buffer {
  switch (entry.kind) {
    case 'event':
      return eventLeaf(entry.entry);
    case 'access':
      return accessLeaf(entry.entry);
    default: {
      const _: never = entry;
      throw new InvalidLogEntryError(`unknown entry kind ${JSON.stringify((_ as { kind: unknown }).kind)}`);
    }
  }
}

/** The reference stored beside each leaf: the event's position, or the access record's id. */
export function entryRef(entry: LogEntry): string {
  return entry.kind === 'event' ? entry.entry.position : entry.entry.id;
}

function tagged(kind: LeafKind, value: AuditedEvent | AccessRecord): Buffer {
  // Both shapes are JSON by construction (checked by the parsers).
  const json = canonicalJson(value as unknown as JsonValue);
  return Buffer.concat([Buffer.from([LEAF_KIND_TAG[kind]]), Buffer.from(json, 'utf8')]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const EVENT_FIELDS = ['eventId', 'type', 'schemaVersion', 'streamId', 'revision', 'position', 'recordedAt', 'data', 'metadata'] as const;
const ACCESS_FIELDS = [
  'id', 'at', 'actorSub', 'actorRole', 'actorOrganisation', 'clientId', 'action', 'recordType', 'recordId', 'subjectPseudonym',
  'ip', 'userAgent', 'service', 'method', 'route', 'status', 'outcome', 'purposeOfUse', 'consentVersion', 'breakGlassGrantId', 'requestId',
] as const;
const ACCESS_ACTIONS: readonly string[] = ['read', 'write', 'denied', 'admin'] satisfies readonly AccessAction[];
const ACCESS_OUTCOMES: readonly string[] = ['allowed', 'denied', 'error'] satisfies readonly AccessOutcome[];

/**
 * Checks that a value is exactly an {@link AuditedEvent} and returns a copy with only its fields.
 * Exactly: a field the leaf would not cover must not ride along in an export looking authenticated.
 */
export function parseAuditedEvent(value: unknown): AuditedEvent {
  const o = exactObject(value, EVENT_FIELDS, 'event');
  const data = o.data as JsonValue;
  assertJson(data, 'event.data');
  const metadata = o.metadata;
  if (!isPlainObject(metadata)) throw new InvalidLogEntryError('event.metadata must be a JSON object');
  assertJson(metadata, 'event.metadata');
  const eventId = str(o, 'eventId', 'event');
  if (!UUID.test(eventId)) throw new InvalidLogEntryError('event.eventId must be a lowercase UUID');
  const position = str(o, 'position', 'event');
  if (!isPosition(position)) throw new InvalidLogEntryError('event.position must be 32 lowercase hex digits');
  return {
    eventId,
    type: nonEmpty(o, 'type', 'event'),
    schemaVersion: int(o, 'schemaVersion', 'event', 1),
    streamId: nonEmpty(o, 'streamId', 'event'),
    revision: int(o, 'revision', 'event', 0),
    position,
    recordedAt: isoTime(o, 'recordedAt', 'event'),
    data,
    metadata: metadata as JsonObject,
  };
}

/** Checks that a value is exactly an {@link AccessRecord} and returns a copy with only its fields. */
export function parseAccessRecord(value: unknown): AccessRecord {
  const o = exactObject(value, ACCESS_FIELDS, 'access record');
  const at = 'access record';
  const id = str(o, 'id', at);
  if (!UUID_V7.test(id)) throw new InvalidLogEntryError('access record.id must be a lowercase UUIDv7');
  const action = str(o, 'action', at);
  if (!ACCESS_ACTIONS.includes(action)) throw new InvalidLogEntryError(`access record.action must be one of ${ACCESS_ACTIONS.join(', ')}`);
  const outcome = str(o, 'outcome', at);
  if (!ACCESS_OUTCOMES.includes(outcome)) throw new InvalidLogEntryError(`access record.outcome must be one of ${ACCESS_OUTCOMES.join(', ')}`);
  const status = int(o, 'status', at, 100);
  if (status > 599) throw new InvalidLogEntryError('access record.status must be an HTTP status (100-599)');
  const consentVersion = o.consentVersion === null ? null : int(o, 'consentVersion', at, 0);
  return {
    id,
    at: isoTime(o, 'at', at),
    actorSub: nonEmpty(o, 'actorSub', at),
    actorRole: nonEmpty(o, 'actorRole', at),
    actorOrganisation: nullableStr(o, 'actorOrganisation', at),
    clientId: nullableStr(o, 'clientId', at),
    action: action as AccessAction,
    recordType: nonEmpty(o, 'recordType', at),
    recordId: nullableStr(o, 'recordId', at),
    subjectPseudonym: nullableStr(o, 'subjectPseudonym', at),
    ip: nonEmpty(o, 'ip', at),
    userAgent: nullableStr(o, 'userAgent', at),
    service: nonEmpty(o, 'service', at),
    method: nonEmpty(o, 'method', at),
    route: nonEmpty(o, 'route', at),
    status,
    outcome: outcome as AccessOutcome,
    purposeOfUse: nonEmpty(o, 'purposeOfUse', at),
    consentVersion,
    breakGlassGrantId: nullableStr(o, 'breakGlassGrantId', at),
    requestId: nonEmpty(o, 'requestId', at),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function exactObject(value: unknown, fields: readonly string[], what: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new InvalidLogEntryError(`${what} must be a JSON object`);
  for (const key of Object.keys(value)) {
    if (!fields.includes(key)) throw new InvalidLogEntryError(`${what} has a field the audit leaf does not cover: ${JSON.stringify(key)}`);
  }
  for (const field of fields) {
    if (!(field in value) || value[field] === undefined) throw new InvalidLogEntryError(`${what}.${field} is missing`);
  }
  return value;
}

function str(o: Record<string, unknown>, field: string, what: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw new InvalidLogEntryError(`${what}.${field} must be a string`);
  return v;
}

function nonEmpty(o: Record<string, unknown>, field: string, what: string): string {
  const v = str(o, field, what);
  if (v === '') throw new InvalidLogEntryError(`${what}.${field} must not be empty`);
  return v;
}

function nullableStr(o: Record<string, unknown>, field: string, what: string): string | null {
  return o[field] === null ? null : str(o, field, what);
}

function int(o: Record<string, unknown>, field: string, what: string, min: number): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidLogEntryError(`${what}.${field} must be an integer >= ${min}`);
  return v;
}

function isoTime(o: Record<string, unknown>, field: string, what: string): string {
  const v = str(o, field, what);
  if (!ISO_UTC.test(v) || Number.isNaN(Date.parse(v))) throw new InvalidLogEntryError(`${what}.${field} must be an ISO 8601 UTC time`);
  return v;
}

/** Rejects what canonical JSON cannot carry faithfully (NaN, Infinity, undefined, functions, class instances). */
function assertJson(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidLogEntryError(`${path} holds a number JSON cannot represent`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertJson(item, `${path}[${i}]`));
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) assertJson(item, `${path}.${key}`);
    return;
  }
  throw new InvalidLogEntryError(`${path} holds a value that is not JSON`);
}
