import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { validate as isUuid, version as uuidVersion } from 'uuid';
import { describe, expect, it } from 'vitest';
import { dedupEventId } from './dedupId';
import type { DataKey } from './keyStore';

function newKey(subjectId: string): DataKey {
  return { subjectId, keyId: randomUUID(), key: randomBytes(32) };
}

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('dedup event ids', () => {
  const key = newKey('subject-1');

  it('gives the same id for the same provider record', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (provider, externalId, version) => {
        expect(dedupEventId(key, provider, externalId, version)).toBe(dedupEventId(key, provider, externalId, version));
      }),
    );
  });

  it('lays the id out as an RFC 9562 version 8 UUID', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (provider, externalId, version) => {
        const id = dedupEventId(key, provider, externalId, version);
        expect(id).toMatch(UUID_V8);
        expect(isUuid(id)).toBe(true);
        expect(uuidVersion(id)).toBe(8);
      }),
    );
  });

  it('matches an independently computed vector (Python hmac/hashlib, RFC 5869 HKDF)', () => {
    const fixed: DataKey = { subjectId: 's', keyId: 'k', key: Buffer.from(Array.from({ length: 32 }, (_, i) => i)) };
    expect(dedupEventId(fixed, 'strava', '12345', '2')).toBe('b23b40e1-af5d-8e39-b9e3-067188b42c1d');
  });

  it('gives different subjects different ids for the same provider record', () => {
    expect(dedupEventId(key, 'strava', '12345', '2')).not.toBe(dedupEventId(newKey('subject-2'), 'strava', '12345', '2'));
  });

  it('gives a new version of a record a new id', () => {
    expect(dedupEventId(key, 'strava', '12345', '2')).not.toBe(dedupEventId(key, 'strava', '12345', '3'));
  });

  it('never confuses where one part ends and the next begins', () => {
    expect(dedupEventId(key, 'a', 'bc', 'd')).not.toBe(dedupEventId(key, 'ab', 'c', 'd'));
    expect(dedupEventId(key, 'p', 'a', 'bc')).not.toBe(dedupEventId(key, 'p', 'ab', 'c'));
    expect(dedupEventId(key, 'p', '', 'x')).not.toBe(dedupEventId(key, 'p', 'x', ''));
    fc.assert(
      fc.property(fc.tuple(fc.string(), fc.string(), fc.string()), fc.tuple(fc.string(), fc.string(), fc.string()), (a, b) => {
        fc.pre(a.join('\u0000') !== b.join('\u0000'));
        expect(dedupEventId(key, ...a)).not.toBe(dedupEventId(key, ...b));
      }),
    );
  });
});
