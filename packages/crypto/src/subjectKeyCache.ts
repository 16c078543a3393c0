import { LRUCache } from 'lru-cache';
import { InvalidCipherInputError } from './errors';
import type { DataKey } from './keyStore';

export interface KeyCacheOptions {
  /** Most data keys held in memory (default 10 000). */
  readonly maxEntries?: number;
  /**
   * How long a key stays cached (default 5 minutes). A destroy in this process evicts at once; a
   * destroy by another process is seen here after at most this long.
   */
  readonly ttlMs?: number;
  /** Time source for the TTL (tests only). */
  readonly clock?: { now(): number };
}

/**
 * The in-memory side shared by the key store adapters: a bounded LRU of unwrapped data keys with a
 * TTL, single-flight per subject for creation and loading, and a destroy generation so that a load
 * which raced a destroy does not put the key back into the cache.
 */
export class SubjectKeyCache {
  private readonly cache: LRUCache<string, DataKey>;
  private readonly creating = new Map<string, Promise<DataKey>>();
  private readonly loading = new Map<string, Promise<DataKey>>();
  /** Bumped by every eviction; a key loaded under an older generation is returned but not cached. */
  private destroyGeneration = 0;
  private closed = false;

  constructor(options: KeyCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    const ttlMs = options.ttlMs ?? 5 * 60_000;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new InvalidCipherInputError('cache.maxEntries must be a positive integer');
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new InvalidCipherInputError('cache.ttlMs must be a positive integer');
    this.cache = new LRUCache<string, DataKey>({
      max: maxEntries,
      ttl: ttlMs,
      // lru-cache otherwise reuses one reading of the clock for 1 ms of real time.
      ...(options.clock ? { perf: options.clock, ttlResolution: 0 } : {}),
    });
  }

  get size(): number {
    return this.cache.size;
  }

  get(subjectId: string): DataKey | undefined {
    return this.cache.get(subjectId);
  }

  /** The cached key, else one shared run of `create` per subject (it receives the generation to pass to `remember`). */
  async getOrCreate(subjectId: string, create: (generation: number) => Promise<DataKey>): Promise<DataKey> {
    return this.cache.get(subjectId) ?? this.once(this.creating, subjectId, create);
  }

  /** The cached key, else one shared run of `load` per subject. */
  async getOrLoad(subjectId: string, load: (generation: number) => Promise<DataKey>): Promise<DataKey> {
    return this.cache.get(subjectId) ?? this.once(this.loading, subjectId, load);
  }

  /** The generation to hand to `remember` for a load that starts now. */
  get generation(): number {
    return this.destroyGeneration;
  }

  /** Freezes the key and caches it, unless a destroy happened since `generation` was read or the cache was closed. */
  remember(dataKey: DataKey, generation: number): DataKey {
    const frozen = Object.freeze(dataKey);
    if (!this.closed && generation === this.destroyGeneration) this.cache.set(dataKey.subjectId, frozen);
    return frozen;
  }

  /** Forgets the subject's key and any creation or load in flight for it. */
  evict(subjectId: string): void {
    this.destroyGeneration += 1;
    this.cache.delete(subjectId);
    this.creating.delete(subjectId);
    this.loading.delete(subjectId);
  }

  close(): void {
    this.closed = true;
    this.cache.clear();
    this.creating.clear();
    this.loading.clear();
  }

  private once(
    inflight: Map<string, Promise<DataKey>>,
    subjectId: string,
    run: (generation: number) => Promise<DataKey>,
  ): Promise<DataKey> {
    const pending = inflight.get(subjectId);
    if (pending) return pending;
    const promise = run(this.destroyGeneration).finally(() => {
      if (inflight.get(subjectId) === promise) inflight.delete(subjectId);
    });
    inflight.set(subjectId, promise);
    return promise;
  }
}
