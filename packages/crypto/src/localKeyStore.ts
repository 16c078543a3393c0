import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import {
  CiphertextTamperedError,
  InvalidCipherInputError,
  KeyStoreClosedError,
  MasterKeyUnavailableError,
  SubjectKeyDestroyedError,
  SubjectKeyNotFoundError,
} from './errors';
import type { DataKey, KeyStore } from './keyStore';
import { lengthPrefixed } from './lengthPrefix';
import type { MasterKey } from './masterKey';
import { SubjectKeyCache, type KeyCacheOptions } from './subjectKeyCache';
import { writeKeyTombstone } from './keyTombstone';

export type { KeyCacheOptions } from './subjectKeyCache';

export interface LocalKeyStoreOptions {
  /** Owned by the caller: `close()` leaves it open. Run `migrateCryptoSchema(pool)` first. */
  readonly pool: Pool;
  /** Wraps every new data key. */
  readonly masterKey: MasterKey;
  /**
   * Unwrap-only master keys: never used to wrap. During a rotation they are the old key (rows not
   * yet re-wrapped) and, in the staging step, the next key (rows other instances already wrap
   * under it). See `loadMasterKeyRing` and the rotation CLI.
   */
  readonly previousMasterKeys?: readonly MasterKey[];
  readonly cache?: KeyCacheOptions;
}

export interface RewrapResult {
  readonly rewrapped: number;
  /** Live rows whose wrapped key failed authentication: investigate, they were not changed. */
  readonly unreadableSubjectIds: readonly string[];
}

/** Running totals after each committed batch of a re-wrap. */
export interface RewrapProgress {
  readonly rewrapped: number;
  readonly unreadable: number;
}

interface KeyRow {
  subject_id: string;
  key_id: string;
  wrapped_key: Buffer | null;
  master_key_id: string | null;
  destroyed_at: Date | null;
}

const DATA_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAP_AAD_LABEL = 'fitledger/wrapped-data-key/v1';

/**
 * Local key store adapter: data keys in PostgreSQL, wrapped with AES-256-GCM under a master key,
 * with a bounded in-memory cache in front.
 */
export class LocalKeyStore implements KeyStore {
  private readonly pool: Pool;
  private readonly masterKey: MasterKey;
  private readonly masterKeys: ReadonlyMap<string, MasterKey>;
  private readonly cache: SubjectKeyCache;
  private closed = false;

  constructor(options: LocalKeyStoreOptions) {
    this.pool = options.pool;
    this.masterKey = options.masterKey;
    this.masterKeys = new Map([...(options.previousMasterKeys ?? []), options.masterKey].map((k) => [k.id, k]));
    this.cache = new SubjectKeyCache(options.cache);
  }

  /** Number of data keys currently held in memory (for metrics). */
  get cachedKeyCount(): number {
    return this.cache.size;
  }

  async getOrCreate(subjectId: string): Promise<DataKey> {
    this.assertUsable(subjectId);
    return this.cache.getOrCreate(subjectId, (generation) => this.createOrLoad(subjectId, generation));
  }

  async get(subjectId: string): Promise<DataKey> {
    this.assertUsable(subjectId);
    return this.cache.getOrLoad(subjectId, (generation) => this.load(subjectId, generation));
  }

  async destroy(subjectId: string): Promise<void> {
    this.assertUsable(subjectId);
    this.cache.evict(subjectId);
    await writeKeyTombstone(this.pool, subjectId);
    // Again, in case a load finished while the update ran.
    this.cache.evict(subjectId);
  }

  /**
   * After a master key rotation: re-wraps every live key still wrapped under one of
   * `previousMasterKeys` with the current master key, in short transactions of `batchSize` rows.
   * Rows that fail authentication are left as they are and reported (they point at tampering);
   * rows under master keys this store does not know are not touched. Safe while services run once
   * every running instance can unwrap under the current key (the order: MASTER_KEY_ROTATION.md).
   */
  async rewrapUnderCurrentMasterKey(batchSize = 500, onBatch?: (progress: RewrapProgress) => void): Promise<RewrapResult> {
    this.assertOpen();
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new InvalidCipherInputError('batchSize must be a positive integer');
    const previousIds = [...this.masterKeys.keys()].filter((id) => id !== this.masterKey.id);
    let rewrapped = 0;
    const unreadableSubjectIds: string[] = [];
    let after: string | undefined = previousIds.length > 0 ? '' : undefined;
    while (after !== undefined) {
      const batch = await this.rewrapBatch(previousIds, after, batchSize);
      rewrapped += batch.rewrapped;
      unreadableSubjectIds.push(...batch.unreadable);
      after = batch.next;
      onBatch?.({ rewrapped, unreadable: unreadableSubjectIds.length });
    }
    return { rewrapped, unreadableSubjectIds };
  }

  private async rewrapBatch(
    previousIds: readonly string[],
    after: string,
    batchSize: number,
  ): Promise<{ rewrapped: number; unreadable: string[]; next: string | undefined }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<KeyRow>(
        `SELECT subject_id, key_id, wrapped_key, master_key_id, destroyed_at FROM crypto_subject_keys
         WHERE master_key_id = ANY($1::text[]) AND subject_id > $2
         ORDER BY subject_id LIMIT $3 FOR UPDATE`,
        [previousIds, after, batchSize],
      );
      const unreadable: string[] = [];
      let rewrapped = 0;
      for (const row of rows) {
        let key: Buffer;
        try {
          key = this.unwrap(row);
        } catch (error) {
          if (!(error instanceof CiphertextTamperedError)) throw error;
          unreadable.push(row.subject_id);
          continue;
        }
        await client.query('UPDATE crypto_subject_keys SET wrapped_key = $2, master_key_id = $3 WHERE subject_id = $1', [
          row.subject_id,
          this.wrap(row.subject_id, row.key_id, key),
          this.masterKey.id,
        ]);
        rewrapped += 1;
      }
      await client.query('COMMIT');
      return { rewrapped, unreadable, next: rows.length === batchSize ? rows.at(-1)?.subject_id : undefined };
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  /** Forgets every cached key. The pool is the caller's and stays open. */
  close(): Promise<void> {
    this.closed = true;
    this.cache.close();
    return Promise.resolve();
  }

  private async createOrLoad(subjectId: string, generation: number): Promise<DataKey> {
    const keyId = randomUUID();
    const key = randomBytes(DATA_KEY_BYTES);
    // DO NOTHING + a second statement: the second one runs under a new snapshot, so it sees a row
    // a concurrent creator committed (a CTE in the same statement would not).
    const inserted = await this.pool.query(
      `INSERT INTO crypto_subject_keys (subject_id, key_id, wrapped_key, master_key_id)
       VALUES ($1, $2, $3, $4) ON CONFLICT (subject_id) DO NOTHING`,
      [subjectId, keyId, this.wrap(subjectId, keyId, key), this.masterKey.id],
    );
    if (inserted.rowCount !== 1) {
      key.fill(0);
      return this.load(subjectId, generation);
    }
    return this.cache.remember({ subjectId, keyId, key }, generation);
  }

  private async load(subjectId: string, generation: number): Promise<DataKey> {
    const { rows } = await this.pool.query<KeyRow>(
      `SELECT subject_id, key_id, wrapped_key, master_key_id, destroyed_at
       FROM crypto_subject_keys WHERE subject_id = $1`,
      [subjectId],
    );
    const row = rows[0];
    if (row === undefined) throw new SubjectKeyNotFoundError(subjectId);
    return this.cache.remember({ subjectId, keyId: row.key_id, key: this.unwrap(row) }, generation);
  }

  private wrap(subjectId: string, keyId: string, key: Buffer): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(wrapAad(subjectId, keyId, this.masterKey.id));
    const ciphertext = Buffer.concat([cipher.update(key), cipher.final()]);
    return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
  }

  private unwrap(row: KeyRow): Buffer {
    if (row.destroyed_at !== null || row.wrapped_key === null || row.master_key_id === null) {
      throw new SubjectKeyDestroyedError(row.subject_id);
    }
    const masterKey = this.masterKeys.get(row.master_key_id);
    if (masterKey === undefined) throw new MasterKeyUnavailableError(row.master_key_id);
    const wrapped = row.wrapped_key;
    if (wrapped.length !== IV_BYTES + DATA_KEY_BYTES + TAG_BYTES) throw new CiphertextTamperedError('wrapped data key is malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', masterKey.key, wrapped.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(wrapAad(row.subject_id, row.key_id, masterKey.id));
      decipher.setAuthTag(wrapped.subarray(IV_BYTES + DATA_KEY_BYTES));
      return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES, IV_BYTES + DATA_KEY_BYTES)), decipher.final()]);
    } catch {
      throw new CiphertextTamperedError('wrapped data key failed authentication');
    }
  }

  private assertUsable(subjectId: string): void {
    this.assertOpen();
    if (typeof subjectId !== 'string' || subjectId === '') throw new InvalidCipherInputError('subjectId must be a non-empty string');
  }

  private assertOpen(): void {
    if (this.closed) throw new KeyStoreClosedError();
  }
}

function wrapAad(subjectId: string, keyId: string, masterKeyId: string): Buffer {
  return lengthPrefixed([WRAP_AAD_LABEL, subjectId, keyId, masterKeyId]);
}
