/** A subject's data key. `keyId` is not secret and is written into every ciphertext. */
export interface DataKey {
  readonly subjectId: string;
  readonly keyId: string;
  /** 32 random bytes. Shared with the store's cache: do not mutate. */
  readonly key: Buffer;
}

/**
 * Key store port: one data key per subject; destroying it is crypto-shredding. Every adapter passes
 * the contract suite in `testing/keyStoreContract.ts`.
 *
 * Destruction is final: a destroyed subject never gets a key again, not even from `getOrCreate`
 * (otherwise a late write would store readable data about an erased person under a fresh key).
 */
export interface KeyStore {
  /**
   * The subject's key, created on first use. Concurrent calls for one subject, in this process or
   * others sharing the store, all return the same key. Throws SubjectKeyDestroyedError once the
   * subject was destroyed.
   */
  getOrCreate(subjectId: string): Promise<DataKey>;
  /** Throws SubjectKeyNotFoundError if never created, SubjectKeyDestroyedError if destroyed. */
  get(subjectId: string): Promise<DataKey>;
  /**
   * Destroys the subject's key for good. Idempotent; evicts this process's cache (other processes
   * drop their cached copy within their cache TTL). A subject destroyed before it ever had a key
   * is recorded as destroyed all the same, so no key can be created for it later.
   */
  destroy(subjectId: string): Promise<void>;
  /** Forgets cached keys; later calls throw KeyStoreClosedError. Resources passed in by the caller stay open. */
  close(): Promise<void>;
}
