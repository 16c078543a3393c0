import type { Position, RecordedEvent } from '@fitledger/event-store';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidLogEntryError, LEAF_KIND_TAG, accessLeaf, auditedEvent, eventLeaf, leafBytes, parseAccessRecord, parseAuditedEvent, type AccessRecord, type AuditedEvent } from './leaf';
import { leafHash } from './merkle';

const EVENT: AuditedEvent = {
  eventId: '0190f5c2-7a3b-7c4d-8e9f-0123456789ab',
  type: 'SetLogged',
  schemaVersion: 2,
  streamId: 'workout-0190f5c2',
  revision: 3,
  position: '0000000000000abc0000000000000def',
  recordedAt: '2024-07-01T10:20:30.456Z',
  data: { weightKg: 'v1.AAECAw', reps: 5 },
  metadata: { tenantId: 't1', actor: { sub: 'u1', role: 'client' } },
};

const ACCESS: AccessRecord = {
  id: '0190f5c2-7a3b-7c4d-8e9f-0123456789ac',
  at: '2024-07-01T10:20:31.000Z',
  actorSub: 'user-7',
  actorRole: 'trainer',
  actorOrganisation: 'org-1',
  clientId: 'web',
  action: 'read',
  recordType: 'workout',
  recordId: 'workout-0190f5c2',
  subjectPseudonym: 'sp-3f2a',
  ip: '203.0.113.9',
  userAgent: null,
  service: 'query-service',
  method: 'GET',
  route: '/v1/workouts/:id',
  status: 200,
  outcome: 'allowed',
  purposeOfUse: 'treatment',
  consentVersion: 4,
  breakGlassGrantId: null,
  requestId: 'req-1',
};

// Golden leaves: the bytes written out by hand, the hashes computed with Python's hashlib over
// 0x00 || bytes — a leaf format change must show up here, not only in a round trip.
const EVENT_JSON = '{"data":{"reps":5,"weightKg":"v1.AAECAw"},"eventId":"0190f5c2-7a3b-7c4d-8e9f-0123456789ab","metadata":{"actor":{"role":"client","sub":"u1"},"tenantId":"t1"},"position":"0000000000000abc0000000000000def","recordedAt":"2024-07-01T10:20:30.456Z","revision":3,"schemaVersion":2,"streamId":"workout-0190f5c2","type":"SetLogged"}';
const EVENT_LEAF_HASH = 'fb929557e863d1690b2f35018abbdbc608f7cbdec4df5e7a5f121c66bcc316e9';
const ACCESS_JSON = '{"action":"read","actorOrganisation":"org-1","actorRole":"trainer","actorSub":"user-7","at":"2024-07-01T10:20:31.000Z","breakGlassGrantId":null,"clientId":"web","consentVersion":4,"id":"0190f5c2-7a3b-7c4d-8e9f-0123456789ac","ip":"203.0.113.9","method":"GET","outcome":"allowed","purposeOfUse":"treatment","recordId":"workout-0190f5c2","recordType":"workout","requestId":"req-1","route":"/v1/workouts/:id","service":"query-service","status":200,"subjectPseudonym":"sp-3f2a","userAgent":null}';
const ACCESS_LEAF_HASH = 'cfa817a92176579a03d3f72d40c8950ca682195edd030fdce229077d0435a18e';

describe('event leaves', () => {
  it('are the tag 0x01 followed by the canonical JSON of the stored event', () => {
    const bytes = eventLeaf(EVENT);
    expect(bytes[0]).toBe(0x01);
    expect(bytes.subarray(1).toString('utf8')).toBe(EVENT_JSON);
    expect(Buffer.from(leafHash(bytes)).toString('hex')).toBe(EVENT_LEAF_HASH);
  });

  it('take a recorded event as the store returns it, recordedAt as ISO UTC', () => {
    const recorded: RecordedEvent = { ...EVENT, position: EVENT.position as Position, recordedAt: new Date(EVENT.recordedAt) };
    expect(eventLeaf(auditedEvent(recorded)).equals(eventLeaf(EVENT))).toBe(true);
  });

  it('cover the stored ciphertext and every envelope field', () => {
    const base = eventLeaf(EVENT);
    const changes: Partial<AuditedEvent>[] = [
      { data: { weightKg: 'v1.AAECAx', reps: 5 } },
      { metadata: { tenantId: 't2', actor: { sub: 'u1', role: 'client' } } },
      { revision: 4 },
      { schemaVersion: 3 },
      { streamId: 'workout-0190f5c3' },
      { type: 'SetCorrected' },
      { position: '0000000000000abc0000000000000df0' },
      { recordedAt: '2024-07-01T10:20:30.457Z' },
      { eventId: '0190f5c2-7a3b-7c4d-8e9f-0123456789ad' },
    ];
    for (const change of changes) expect(eventLeaf({ ...EVENT, ...change }).equals(base), JSON.stringify(change)).toBe(false);
  });

  it('do not depend on key order, and survive a JSON round trip of any data', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (data) => {
        const event = { ...EVENT, data: data as AuditedEvent['data'] };
        const reparsed = parseAuditedEvent(JSON.parse(JSON.stringify(event)));
        expect(eventLeaf(reparsed).equals(eventLeaf(event))).toBe(true);
      }),
      { numRuns: 200 },
    );
    const reordered = Object.fromEntries(Object.entries(EVENT).reverse()) as unknown as AuditedEvent;
    expect(eventLeaf(reordered).equals(eventLeaf(EVENT))).toBe(true);
  });

  it('refuse fields the leaf does not cover, missing fields and values JSON cannot carry', () => {
    expect(() => eventLeaf({ ...EVENT, note: 'x' } as AuditedEvent)).toThrow(InvalidLogEntryError);
    const { metadata: _, ...withoutMetadata } = EVENT;
    expect(() => eventLeaf(withoutMetadata as AuditedEvent)).toThrow(/metadata is missing/);
    expect(() => eventLeaf({ ...EVENT, data: { x: Number.NaN } })).toThrow(/cannot represent/);
    expect(() => eventLeaf({ ...EVENT, revision: -1 })).toThrow(/revision/);
    expect(() => eventLeaf({ ...EVENT, position: 'ABC' })).toThrow(/position/);
    expect(() => eventLeaf({ ...EVENT, recordedAt: '2024-07-01 10:20:30' })).toThrow(/recordedAt/);
  });
});

describe('access record leaves', () => {
  it('are the tag 0x02 followed by the canonical JSON of the record', () => {
    const bytes = accessLeaf(ACCESS);
    expect(bytes[0]).toBe(0x02);
    expect(bytes.subarray(1).toString('utf8')).toBe(ACCESS_JSON);
    expect(Buffer.from(leafHash(bytes)).toString('hex')).toBe(ACCESS_LEAF_HASH);
  });

  it('are told apart from events by the kind tag', () => {
    expect(LEAF_KIND_TAG.event).not.toBe(LEAF_KIND_TAG.access);
    expect(leafBytes({ kind: 'access', entry: ACCESS })[0]).toBe(LEAF_KIND_TAG.access);
    expect(leafBytes({ kind: 'event', entry: EVENT })[0]).toBe(LEAF_KIND_TAG.event);
  });

  it('change with every field', () => {
    const base = accessLeaf(ACCESS);
    for (const key of Object.keys(ACCESS) as (keyof AccessRecord)[]) {
      const value = ACCESS[key];
      const changed = typeof value === 'number' ? value + 1 : value === null ? 'set' : key === 'id' ? '0190f5c2-7a3b-7c4d-8e9f-0123456789ff' : key === 'at' ? '2024-07-01T10:20:32.000Z' : key === 'action' ? 'write' : key === 'outcome' ? 'denied' : `${value}x`;
      expect(accessLeaf({ ...ACCESS, [key]: changed }).equals(base), key).toBe(false);
    }
  });

  it('refuse a record that is not exactly an access record', () => {
    expect(() => parseAccessRecord({ ...ACCESS, extra: 1 })).toThrow(/does not cover/);
    expect(() => parseAccessRecord({ ...ACCESS, id: '0190f5c2-7a3b-4c4d-8e9f-0123456789ac' })).toThrow(/UUIDv7/);
    expect(() => parseAccessRecord({ ...ACCESS, outcome: 'ok' })).toThrow(/outcome/);
    expect(() => parseAccessRecord({ ...ACCESS, action: 'delete' })).toThrow(/action/);
    expect(() => parseAccessRecord({ ...ACCESS, status: '200' })).toThrow(/status/);
    expect(() => parseAccessRecord({ ...ACCESS, consentVersion: 1.5 })).toThrow(/consentVersion/);
    expect(() => parseAccessRecord({ ...ACCESS, actorOrganisation: undefined })).toThrow(/missing/);
    expect(() => parseAccessRecord({ ...ACCESS, ip: '' })).toThrow(/ip/);
  });
});
