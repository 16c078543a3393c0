/** A subject's data key. `keyId` is not secret and is written into every ciphertext. */
export interface DataKey {
  readonly subjectId: string;
  readonly keyId: string;
  /** 32 random bytes. Shared with the store's cache: do not mutate. */
  readonly key: Buffer;
}

/** Key store port: one data key per subject; destroying it is crypto-shredding. */
export interface KeyStore {
  /** The subject's key, created on first use. Concurrent calls for one subject all return the same key. */
  getOrCreate(subjectId: string): Promise<DataKey>;
  /** Throws SubjectKeyNotFoundError if never created, SubjectKeyDestroyedError if destroyed. */
  get(subjectId: string): Promise<DataKey>;
  /** Destroys the subject's key for good. Idempotent; evicts the cache. */
  destroy(subjectId: string): Promise<void>;
  close(): Promise<void>;
}
