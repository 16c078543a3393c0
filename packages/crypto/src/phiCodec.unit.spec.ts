import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CiphertextTamperedError,
  InvalidCipherInputError,
  PhiFieldCollisionError,
  SubjectKeyDestroyedError,
  SubjectKeyNotFoundError,
  WrongKeyError,
} from './errors';
import { canonicalJson, type JsonObject } from './json';
import type { DataKey, KeyStore } from './keyStore';
import { contentDigest, PhiCodec } from './phiCodec';

/** In-memory key store for codec specs only (production uses LocalKeyStore). */
class InMemoryKeyStore implements KeyStore {
  readonly keys = new Map<string, DataKey | 'destroyed'>();
  getOrCreate(subjectId: string): Promise<DataKey> {
    const existing = this.keys.get(subjectId);
    if (existing === 'destroyed') return Promise.reject(new SubjectKeyDestroyedError(subjectId));
    if (existing) return Promise.resolve(existing);
    const created = { subjectId, keyId: randomUUID(), key: randomBytes(32) };
    this.keys.set(subjectId, created);
    return Promise.resolve(created);
  }
  get(subjectId: string): Promise<DataKey> {
    const existing = this.keys.get(subjectId);
    if (existing === 'destroyed') return Promise.reject(new SubjectKeyDestroyedError(subjectId));
    if (!existing) return Promise.reject(new SubjectKeyNotFoundError(subjectId));
    return Promise.resolve(existing);
  }
  destroy(subjectId: string): Promise<void> {
    this.keys.set(subjectId, 'destroyed');
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const setLogged: JsonObject = { workoutId: 'w-1', exerciseId: 'ex-squat', weightKg: 102.5, reps: 5, note: 'knee pain', occurredAt: '2025-11-20T07:31:00Z' };
const plain = ['workoutId', 'exerciseId'] as const;

/** Event data with a random subset of its fields (never `phi`) declared plain. */
const dataAndPlainFields = fc
  .dictionary(fc.string(), fc.jsonValue())
  .chain((data) => fc.tuple(fc.constant(data as JsonObject), fc.subarray(Object.keys(data).filter((k) => k !== 'phi'))));

describe('PHI codec', () => {
  it('round-trips any event data whatever fields are plain (as JSON carries it: -0 comes back as 0)', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    await fc.assert(
      fc.asyncProperty(dataAndPlainFields, async ([data, plainFields]) => {
        const sealed = await codec.seal('subject-1', 'SetLogged', 1, data, plainFields);
        // The event store keeps sealed data as JSON, so compare with what JSON can carry.
        const stored = JSON.parse(JSON.stringify(sealed.data)) as JsonObject;
        expect(await codec.open('subject-1', 'SetLogged', 1, stored)).toEqual(JSON.parse(JSON.stringify(data)));
      }),
    );
  });

  it('keeps plain fields readable and moves every other field into one token at `phi`', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    const { data } = await codec.seal('subject-1', 'SetLogged', 1, setLogged, plain);
    expect(Object.keys(data).sort()).toEqual(['exerciseId', 'phi', 'workoutId']);
    expect(data).toMatchObject({ workoutId: 'w-1', exerciseId: 'ex-squat' });
    expect(data.phi).toMatch(/^fl1\./);
    const stored = JSON.stringify(data);
    for (const hidden of ['knee pain', 'weightKg', '102.5', 'occurredAt', '2025-11-20', 'note']) expect(stored).not.toContain(hidden);
  });

  it('keeps sealed data JSON that survives a store round trip (stringify, parse, reordered keys)', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    const { data } = await codec.seal('subject-1', 'SetLogged', 1, setLogged, plain);
    const reordered = Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(data)) as JsonObject).reverse());
    expect(await codec.open('subject-1', 'SetLogged', 1, reordered)).toEqual(setLogged);
  });

  it('opens a field named __proto__ as an own field, in the clear or sealed, and leaves the prototype alone', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    for (const plainFields of [['__proto__'], []]) {
      const data = JSON.parse('{"__proto__": {"polluted": true}, "reps": 5}') as JsonObject;
      const { data: sealed } = await codec.seal('subject-1', 'SetLogged', 1, data, plainFields);
      const opened = await codec.open('subject-1', 'SetLogged', 1, JSON.parse(JSON.stringify(sealed)) as JsonObject);
      expect(Object.getPrototypeOf(opened)).toBe(Object.prototype);
      expect(Object.hasOwn(opened, '__proto__')).toBe(true);
      expect(Object.keys(opened).sort()).toEqual(['__proto__', 'reps']);
      expect((opened as { polluted?: unknown }).polluted).toBeUndefined();
    }
  });

  it('refuses sealed data that repeats an encrypted field in the clear', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    const { data } = await codec.seal('subject-1', 'SetLogged', 1, setLogged, plain);
    await expect(codec.open('subject-1', 'SetLogged', 1, { ...data, reps: 5 })).rejects.toBeInstanceOf(CiphertextTamperedError);
  });

  it('gives the same digest for the same plaintext even though the ciphertexts differ', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    await fc.assert(
      fc.asyncProperty(dataAndPlainFields, async ([data, plainFields]) => {
        const first = await codec.seal('subject-1', 'SetLogged', 1, data, plainFields);
        const again = await codec.seal('subject-1', 'SetLogged', 1, structuredClone(data), plainFields);
        expect(again.contentDigest).toBe(first.contentDigest);
        expect(again.data.phi).not.toBe(first.data.phi);
      }),
    );
  });

  it('digests canonical JSON, so key order does not change the digest', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    const reversed = Object.fromEntries(Object.entries(setLogged).reverse());
    const a = await codec.seal('subject-1', 'SetLogged', 1, setLogged, plain);
    const b = await codec.seal('subject-1', 'SetLogged', 1, reversed, []);
    expect(b.contentDigest).toBe(a.contentDigest);
  });

  it('gives a different digest for another subject, event type, schema version or payload', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    const base = (await codec.seal('subject-1', 'SetLogged', 1, setLogged, plain)).contentDigest;
    const variants = [
      await codec.seal('subject-2', 'SetLogged', 1, setLogged, plain),
      await codec.seal('subject-1', 'SetCorrected', 1, setLogged, plain),
      await codec.seal('subject-1', 'SetLogged', 2, setLogged, plain),
      await codec.seal('subject-1', 'SetLogged', 1, { ...setLogged, reps: 6 }, plain),
    ];
    for (const v of variants) expect(v.contentDigest).not.toBe(base);
  });

  it('computes the digest as HMAC-SHA256 under an HKDF subkey (independently computed vector)', () => {
    // Computed with Python's hmac/hashlib and an RFC 5869 HKDF written out by hand.
    const fixed: DataKey = { subjectId: 's', keyId: 'k', key: Buffer.from(Array.from({ length: 32 }, (_, i) => i)) };
    expect(canonicalJson({ type: 'SetLogged', schemaVersion: 1, data: { weightKg: 102.5, note: 'knee pain' } })).toBe(
      '{"data":{"note":"knee pain","weightKg":102.5},"schemaVersion":1,"type":"SetLogged"}',
    );
    expect(contentDigest(fixed, 'SetLogged', 1, { weightKg: 102.5, note: 'knee pain' })).toBe('7-Jb0aLnfK8VpKWKtnCDer_2V36-w2Lg15Fx8nw4WV0');
  });

  it("refuses to open a ciphertext moved to another subject's event", async () => {
    const keys = new InMemoryKeyStore();
    const codec = new PhiCodec(keys);
    const { data } = await codec.seal('subject-1', 'SetLogged', 1, setLogged, plain);
    await keys.getOrCreate('subject-2');
    await expect(codec.open('subject-2', 'SetLogged', 1, data)).rejects.toBeInstanceOf(WrongKeyError);
  });

  it('refuses to open a ciphertext moved to another event type or schema version of the same subject', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    const { data } = await codec.seal('subject-1', 'SetLogged', 1, setLogged, plain);
    await expect(codec.open('subject-1', 'BodyMetricRecorded', 1, data)).rejects.toBeInstanceOf(CiphertextTamperedError);
    await expect(codec.open('subject-1', 'SetLogged', 2, data)).rejects.toBeInstanceOf(CiphertextTamperedError);
  });

  it('refuses to open a ciphertext even under the same key if the subject id in the AAD differs', async () => {
    // Two subjects sharing a key cannot happen in a store; this isolates the AAD binding of the subject.
    const shared: DataKey = { subjectId: 'x', keyId: randomUUID(), key: randomBytes(32) };
    const keys: KeyStore = {
      getOrCreate: () => Promise.resolve(shared),
      get: () => Promise.resolve(shared),
      destroy: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const codec = new PhiCodec(keys);
    const { data } = await codec.seal('subject-1', 'SetLogged', 1, setLogged, plain);
    await expect(codec.open('subject-2', 'SetLogged', 1, data)).rejects.toBeInstanceOf(CiphertextTamperedError);
  });

  it('cannot open sealed data once the subject key was destroyed', async () => {
    const keys = new InMemoryKeyStore();
    const codec = new PhiCodec(keys);
    const { data } = await codec.seal('subject-1', 'SetLogged', 1, setLogged, plain);
    await keys.destroy('subject-1');
    await expect(codec.open('subject-1', 'SetLogged', 1, data)).rejects.toMatchObject({ code: 'SUBJECT_KEY_DESTROYED' });
  });

  it('reports a subject that never had a key as not found', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    await expect(codec.open('nobody', 'SetLogged', 1, { phi: 'fl1.k.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA' })).rejects.toBeInstanceOf(SubjectKeyNotFoundError);
  });

  it('refuses plain fields that would collide with the `phi` token, before creating any key', async () => {
    const keys = new InMemoryKeyStore();
    const codec = new PhiCodec(keys);
    await expect(codec.seal('subject-1', 'SetLogged', 1, { phi: 'x', a: 1 }, ['phi'])).rejects.toBeInstanceOf(PhiFieldCollisionError);
    await expect(codec.seal('subject-1', 'SetLogged', 1, { a: 1 }, ['phi'])).rejects.toMatchObject({ code: 'PHI_FIELD_COLLISION' });
    expect(keys.keys.size).toBe(0);
  });

  it('encrypts a data field named `phi` like any other PHI field', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    const data = { phi: 'knee pain', workoutId: 'w-1' };
    const sealed = await codec.seal('subject-1', 'NoteAdded', 1, data, ['workoutId']);
    expect(sealed.data.phi).not.toBe('knee pain');
    expect(await codec.open('subject-1', 'NoteAdded', 1, sealed.data)).toEqual(data);
  });

  it('rejects sealed data without a token, or with an encrypted field repeated in the clear, as tampered', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    const { data } = await codec.seal('subject-1', 'SetLogged', 1, setLogged, plain);
    const { phi: _phi, ...withoutToken } = data;
    await expect(codec.open('subject-1', 'SetLogged', 1, withoutToken)).rejects.toBeInstanceOf(CiphertextTamperedError);
    await expect(codec.open('subject-1', 'SetLogged', 1, { ...data, note: 'all fine' })).rejects.toBeInstanceOf(CiphertextTamperedError);
  });

  it('refuses values JSON cannot carry and invalid schema versions', async () => {
    const codec = new PhiCodec(new InMemoryKeyStore());
    await expect(codec.seal('subject-1', 'SetLogged', 1, { hr: Number.NaN }, [])).rejects.toBeInstanceOf(InvalidCipherInputError);
    await expect(codec.seal('subject-1', 'SetLogged', 1.5, setLogged, plain)).rejects.toBeInstanceOf(InvalidCipherInputError);
  });
});
