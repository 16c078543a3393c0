import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidCipherInputError, KeyStoreClosedError, SubjectKeyDestroyedError, SubjectKeyNotFoundError } from '../errors';
import type { DataKey, KeyStore } from '../keyStore';
import { PhiCodec } from '../phiCodec';
import type { KeyCacheOptions } from '../subjectKeyCache';

export interface ContractStoreOptions {
  /** The adapter's cache settings (both adapters take `KeyCacheOptions`). */
  readonly cache?: KeyCacheOptions;
}

/**
 * Builds a new store instance over the same backing storage as every other instance it built: to
 * the suite, two instances are two processes. The suite closes every instance it gets.
 */
export type MakeKeyStore = (options: ContractStoreOptions) => KeyStore | Promise<KeyStore>;

/**
 * The behaviour every KeyStore adapter must show (see the port in keyStore.ts). Call it inside a
 * test file whose hooks prepare the backing storage before the first test runs: `makeStore` is only
 * called from the tests.
 */
export function keyStoreContract(name: string, makeStore: MakeKeyStore): void {
  describe(`KeyStore contract: ${name}`, () => {
    const stores: KeyStore[] = [];
    const subjects: string[] = [];

    async function store(options: ContractStoreOptions = {}): Promise<KeyStore> {
      const s = await makeStore(options);
      stores.push(s);
      return s;
    }

    function newSubject(label = 'subject'): string {
      const id = `${label}-${randomBytes(8).toString('hex')}`;
      subjects.push(id);
      return id;
    }

    function expectSameKey(actual: DataKey, expected: DataKey): void {
      expect(actual.subjectId).toBe(expected.subjectId);
      expect(actual.keyId).toBe(expected.keyId);
      expect(actual.key.equals(expected.key)).toBe(true);
    }

    afterAll(async () => {
      // Leaves nothing behind in a shared backend (a Vault dev server): destroy is idempotent.
      if (subjects.length > 0) {
        const cleaner = await makeStore({});
        stores.push(cleaner);
        for (const s of subjects) await cleaner.destroy(s);
      }
      await Promise.all(stores.map((s) => s.close()));
    });

    it('creates a 32-byte key on first use and returns that same key on every later call', async () => {
      const subjectId = newSubject();
      const keys = await store();
      const first = await keys.getOrCreate(subjectId);
      expect(first.subjectId).toBe(subjectId);
      expect(typeof first.keyId).toBe('string');
      expect(first.keyId).not.toBe('');
      expect(first.key).toBeInstanceOf(Buffer);
      expect(first.key).toHaveLength(32);
      expectSameKey(await keys.getOrCreate(subjectId), first);
      expectSameKey(await keys.get(subjectId), first);
    });

    it('keeps the key in the backing store: another instance gets the same key and opens what the first sealed', async () => {
      const subjectId = newSubject();
      const first = await store();
      const created = await first.getOrCreate(subjectId);
      const sealed = await new PhiCodec(first).seal(subjectId, 'SetLogged', 1, { workoutId: 'w-1', note: 'knee pain' }, ['workoutId']);
      const other = await store();
      expectSameKey(await other.get(subjectId), created);
      expectSameKey(await (await store()).getOrCreate(subjectId), created);
      expect(await new PhiCodec(other).open(subjectId, 'SetLogged', 1, sealed.data)).toEqual({ workoutId: 'w-1', note: 'knee pain' });
    });

    it('gives 20 concurrent callers on two instances one and the same key', async () => {
      const subjectId = newSubject();
      // Two instances stand for two processes: the backing store, not only an in-process map, decides.
      const [a, b] = [await store(), await store()];
      const keys = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).getOrCreate(subjectId)));
      const first = keys[0] as DataKey;
      for (const k of keys) expectSameKey(k, first);
      expectSameKey(await (await store()).get(subjectId), first);
    });

    it('gives every subject a key of its own', async () => {
      const keys = await store();
      const created = await Promise.all([newSubject(), newSubject(), newSubject()].map((s) => keys.getOrCreate(s)));
      expect(new Set(created.map((k) => k.keyId)).size).toBe(3);
      expect(new Set(created.map((k) => k.key.toString('hex'))).size).toBe(3);
    });

    it('keeps subject ids apart that differ only in characters with a meaning in paths or URLs', async () => {
      const base = newSubject('odd');
      const ids = [base, `${base}/x`, `${base}%2Fx`, `${base}/../x`, `${base}.x`, `${base} x`, `${base}-`, `${base}-ü`, `${base}?x=1`];
      subjects.push(...ids);
      const keys = await store();
      const created = await Promise.all(ids.map((s) => keys.getOrCreate(s)));
      expect(new Set(created.map((k) => k.key.toString('hex'))).size).toBe(ids.length);
      const other = await store();
      for (const [i, s] of ids.entries()) expectSameKey(await other.get(s), created[i] as DataKey);
      // Destroying one of them leaves the others alone.
      await keys.destroy(`${base}/x`);
      await expect((await store()).get(`${base}/x`)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
      expectSameKey(await (await store()).get(`${base}%2Fx`), created[2] as DataKey);
      expectSameKey(await (await store()).get(base), created[0] as DataKey);
    });

    it('reports a subject that never had a key as not found', async () => {
      const subjectId = newSubject();
      const error: unknown = await (await store()).get(subjectId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SubjectKeyNotFoundError);
      expect(error).toMatchObject({ code: 'SUBJECT_KEY_NOT_FOUND', subjectId });
    });

    it('after destroy, reports the key as destroyed on this and every other instance', async () => {
      const subjectId = newSubject();
      const keys = await store();
      await keys.getOrCreate(subjectId);
      await keys.destroy(subjectId);
      const error: unknown = await keys.get(subjectId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SubjectKeyDestroyedError);
      expect(error).toMatchObject({ code: 'SUBJECT_KEY_DESTROYED', subjectId });
      await expect((await store()).get(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
    });

    it('refuses to create a new key for a destroyed subject', async () => {
      const subjectId = newSubject();
      const keys = await store();
      await keys.getOrCreate(subjectId);
      await keys.destroy(subjectId);
      await expect(keys.getOrCreate(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
      await expect((await store()).getOrCreate(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
    });

    it('refuses a key to a subject destroyed before it ever had one', async () => {
      const subjectId = newSubject();
      await (await store()).destroy(subjectId);
      await expect((await store()).get(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
      await expect((await store()).getOrCreate(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
    });

    it('destroys idempotently, also when several destroys run at once', async () => {
      const subjectId = newSubject();
      const [a, b] = [await store(), await store()];
      await a.getOrCreate(subjectId);
      await Promise.all([a.destroy(subjectId), b.destroy(subjectId), a.destroy(subjectId)]);
      await a.destroy(subjectId);
      await expect(b.get(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
    });

    it('drops a cached key on destroy: data sealed before can no longer be opened', async () => {
      const subjectId = newSubject();
      const keys = await store({ cache: { ttlMs: 3_600_000 } });
      const codec = new PhiCodec(keys);
      const sealed = await codec.seal(subjectId, 'SetLogged', 1, { workoutId: 'w-1', note: 'knee pain' }, ['workoutId']);
      expect(await codec.open(subjectId, 'SetLogged', 1, sealed.data)).toEqual({ workoutId: 'w-1', note: 'knee pain' });

      await keys.destroy(subjectId);

      const error: unknown = await codec.open(subjectId, 'SetLogged', 1, sealed.data).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SubjectKeyDestroyedError);
      await expect(codec.seal(subjectId, 'SetLogged', 1, { workoutId: 'w-2', note: 'late write' }, ['workoutId'])).rejects.toBeInstanceOf(
        SubjectKeyDestroyedError,
      );
    });

    it('leaves the subject destroyed when a destroy races the creation of its key', async () => {
      const subjectId = newSubject();
      const [a, b] = [await store(), await store()];
      // b may end up holding a copy in its cache (bounded by its TTL, see below); a, which destroyed, must not.
      await Promise.allSettled([a.getOrCreate(subjectId), b.getOrCreate(subjectId), a.destroy(subjectId), a.getOrCreate(subjectId)]);
      await expect(a.get(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
      await expect(a.getOrCreate(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
      await expect((await store()).get(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
    });

    it('sees a destroy made by another instance once the cache TTL has run out', async () => {
      let now = 1_000;
      const clock = { now: () => now };
      const subjectId = newSubject();
      const elsewhere = await store({ cache: { ttlMs: 60_000, clock } });
      await elsewhere.getOrCreate(subjectId);
      await (await store()).destroy(subjectId);
      // Within the TTL the other instance may still serve its cached copy (that is what the TTL bounds).
      now += 59_000;
      await expect(elsewhere.get(subjectId)).resolves.toMatchObject({ subjectId });
      now += 2_000;
      await expect(elsewhere.get(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
      await expect(elsewhere.getOrCreate(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
    });

    it('rejects an empty subject id', async () => {
      const keys = await store();
      await expect(keys.getOrCreate('')).rejects.toBeInstanceOf(InvalidCipherInputError);
      await expect(keys.get('')).rejects.toBeInstanceOf(InvalidCipherInputError);
      await expect(keys.destroy('')).rejects.toBeInstanceOf(InvalidCipherInputError);
    });

    it('refuses every call after close, cached keys included', async () => {
      const subjectId = newSubject();
      const keys = await store();
      await keys.getOrCreate(subjectId);
      await keys.close();
      await expect(keys.get(subjectId)).rejects.toBeInstanceOf(KeyStoreClosedError);
      await expect(keys.getOrCreate(subjectId)).rejects.toBeInstanceOf(KeyStoreClosedError);
      await expect(keys.destroy(subjectId)).rejects.toBeInstanceOf(KeyStoreClosedError);
      // Closing one instance does not touch the backing store.
      await expect((await store()).get(subjectId)).resolves.toMatchObject({ subjectId });
    });
  });
}
