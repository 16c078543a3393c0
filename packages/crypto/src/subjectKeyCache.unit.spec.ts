import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidCipherInputError } from './errors';
import type { DataKey } from './keyStore';
import { SubjectKeyCache } from './subjectKeyCache';

const dataKey = (subjectId: string): DataKey => ({ subjectId, keyId: `k-${subjectId}`, key: randomBytes(32) });

/** A load the test finishes by hand. */
function deferred(): { promise: Promise<DataKey>; resolve(k: DataKey): void } {
  let resolve!: (k: DataKey) => void;
  const promise = new Promise<DataKey>((r) => (resolve = r));
  return { promise, resolve };
}

describe('subject key cache', () => {
  it('runs one load for concurrent callers and serves later calls from memory', async () => {
    const cache = new SubjectKeyCache();
    let loads = 0;
    const pending = deferred();
    const load = async (generation: number) => {
      loads += 1;
      return cache.remember(await pending.promise, generation);
    };
    const calls = [cache.getOrLoad('s', load), cache.getOrLoad('s', load)];
    pending.resolve(dataKey('s'));
    const [a, b] = await Promise.all(calls);
    expect(a).toBe(b);
    expect(await cache.getOrLoad('s', load)).toBe(a);
    expect(loads).toBe(1);
  });

  it('does not cache a key whose load was under way when the subject was evicted', async () => {
    const cache = new SubjectKeyCache();
    const pending = deferred();
    const loading = cache.getOrLoad('s', async (generation) => cache.remember(await pending.promise, generation));
    cache.evict('s');
    pending.resolve(dataKey('s'));
    await loading;
    expect(cache.get('s')).toBeUndefined();
    expect(cache.size).toBe(0);
    // A load that starts after the eviction is cached as usual.
    const fresh = dataKey('s');
    await cache.getOrLoad('s', (generation) => Promise.resolve(cache.remember(fresh, generation)));
    expect(cache.get('s')).toBe(fresh);
  });

  it('starts a new load after an eviction instead of joining the one in flight', async () => {
    const cache = new SubjectKeyCache();
    const first = deferred();
    const stale = cache.getOrLoad('s', async (generation) => cache.remember(await first.promise, generation));
    cache.evict('s');
    let secondRan = false;
    const fresh = dataKey('s');
    const second = cache.getOrLoad('s', (generation) => {
      secondRan = true;
      return Promise.resolve(cache.remember(fresh, generation));
    });
    expect(await second).toBe(fresh);
    expect(secondRan).toBe(true);
    first.resolve(dataKey('s'));
    await stale;
    expect(cache.get('s')).toBe(fresh);
  });

  it('keeps at most maxEntries keys, dropping the least recently used, and forgets keys after the TTL', () => {
    // Not 0: lru-cache reads a start time of 0 as "no TTL".
    let now = 1_000;
    const cache = new SubjectKeyCache({ maxEntries: 2, ttlMs: 1_000, clock: { now: () => now } });
    for (const s of ['a', 'b']) cache.remember(dataKey(s), cache.generation);
    cache.get('a');
    cache.remember(dataKey('c'), cache.generation);
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map((k) => k?.subjectId)).toEqual(['a', undefined, 'c']);
    now += 1_001;
    expect(cache.get('a')).toBeUndefined();
  });

  it('caches nothing once closed', () => {
    const cache = new SubjectKeyCache();
    cache.close();
    const key = dataKey('s');
    expect(cache.remember(key, cache.generation)).toBe(key);
    expect(Object.isFrozen(key)).toBe(true);
    expect(cache.get('s')).toBeUndefined();
  });

  it('rejects settings that are not positive integers', () => {
    expect(() => new SubjectKeyCache({ maxEntries: 0 })).toThrow(InvalidCipherInputError);
    expect(() => new SubjectKeyCache({ ttlMs: 1.5 })).toThrow(InvalidCipherInputError);
  });
});
