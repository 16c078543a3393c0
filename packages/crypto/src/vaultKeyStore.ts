import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import NodeVault from 'node-vault';
import type { Pool } from 'pg';
import {
  CiphertextTamperedError,
  InvalidCipherInputError,
  KeyStoreBackendError,
  KeyStoreClosedError,
  MasterKeyUnavailableError,
  SubjectKeyDestroyedError,
  SubjectKeyNotFoundError,
} from './errors';
import type { DataKey, KeyStore } from './keyStore';
import { lengthPrefixed } from './lengthPrefix';
import { SubjectKeyCache, type KeyCacheOptions } from './subjectKeyCache';
import { writeKeyTombstone } from './keyTombstone';

/** Where and as whom to reach Vault (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_TRANSIT_MOUNT). */
export interface VaultConnection {
  /** Base URL of the Vault server, e.g. `https://vault.internal:8200`. */
  readonly address: string;
  readonly token: string;
  /** Vault Enterprise namespace, sent as X-Vault-Namespace. */
  readonly namespace?: string;
  /** Path of the Transit secrets engine (default `transit`). */
  readonly transitMount?: string;
  /** Per request (default 10 s): a hung Vault fails the call instead of holding it forever. */
  readonly requestTimeoutMs?: number;
}

export interface VaultKeyStoreOptions {
  /** Owned by the caller: `close()` leaves it open. Run `migrateCryptoSchema(pool)` first. */
  readonly pool: Pool;
  readonly vault: VaultConnection;
  readonly cache?: KeyCacheOptions;
}

/** Every Transit key of this store is named with this prefix (and the service token's policy is scoped to it). */
export const TRANSIT_KEY_PREFIX = 'fitledger-subject-';
export const DEFAULT_TRANSIT_MOUNT = 'transit';

/** Marks a row of `crypto_subject_keys` as wrapped by Vault Transit (local rows hold a master key id). */
const WRAPPING_ID_PREFIX = 'vault-transit:';
const DATA_KEY_BYTES = 32;
const CONTEXT_LABEL = 'fitledger/vault-data-key/v1';
/** Subject ids used verbatim in a key name: Vault's name rule (`\w` first and last, `[\w.@-]` between) minus `.` and `@`. */
const VERBATIM_SUBJECT_ID = /^[A-Za-z0-9_-]{0,99}[A-Za-z0-9_]$/;
const MOUNT_PATH = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

/**
 * The Transit key name of a subject: `fitledger-subject-<id>` for ids of word characters and
 * hyphens (UUIDs, ULIDs), else `fitledger-subject-sha256.<hex>`. Ids never contain `.`, so the two
 * forms cannot collide, and no subject id can reach another path of the Vault API.
 */
export function transitKeyName(subjectId: string): string {
  if (VERBATIM_SUBJECT_ID.test(subjectId)) return `${TRANSIT_KEY_PREFIX}${subjectId}`;
  return `${TRANSIT_KEY_PREFIX}sha256.${createHash('sha256').update(subjectId, 'utf8').digest('hex')}`;
}

interface KeyRow {
  subject_id: string;
  key_id: string;
  wrapped_key: Buffer | null;
  master_key_id: string | null;
  destroyed_at: Date | null;
}

/** The subset of node-vault's client this adapter uses, typed. */
interface VaultHttp {
  read(path: string): Promise<unknown>;
  write(path: string, data: Record<string, unknown>): Promise<unknown>;
  delete(path: string): Promise<unknown>;
}

/**
 * Vault Transit adapter (via node-vault): one Transit key per subject (aes256-gcm96, derived,
 * never exportable). The subject's data key is a Transit data key: Vault generates it and returns
 * it together with its wrapped form; the wrapped form is kept in PostgreSQL (`crypto_subject_keys`,
 * like the local adapter's rows) and unwrapped with `transit/decrypt` on a cache miss. The
 * derivation context binds the wrapped key to (subject, key id), as the local adapter's AAD does.
 * Destroying marks the row destroyed and deletes the Transit key, so no copy of the wrapped key
 * (a database backup included) can ever be unwrapped again.
 */
export class VaultKeyStore implements KeyStore {
  private readonly pool: Pool;
  private readonly vault: VaultHttp;
  private readonly mount: string;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly cache: SubjectKeyCache;
  private closed = false;

  constructor(options: VaultKeyStoreOptions) {
    const { address, token, namespace, transitMount = DEFAULT_TRANSIT_MOUNT, requestTimeoutMs = 10_000 } = options.vault;
    if (!/^https?:\/\/[^/]/.test(address)) throw new InvalidCipherInputError('vault.address must be an http(s) URL');
    if (token === '') throw new InvalidCipherInputError('vault.token must not be empty');
    if (!MOUNT_PATH.test(transitMount)) throw new InvalidCipherInputError('vault.transitMount must be a plain path such as "transit"');
    if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs < 1) {
      throw new InvalidCipherInputError('vault.requestTimeoutMs must be a positive integer');
    }
    this.pool = options.pool;
    this.mount = transitMount;
    this.cache = new SubjectKeyCache(options.cache);
    // Our own agents: closed by close(), and they keep TLS verification on even when the
    // environment holds VAULT_SKIP_VERIFY (which node-vault would otherwise honour).
    this.agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
    const client = NodeVault({
      endpoint: address,
      token,
      ...(namespace ? { namespace } : {}),
      // node-vault logs request bodies through `debug` when DEBUG names it: never, here.
      debug: () => undefined,
      requestOptions: { timeout: requestTimeoutMs, httpAgent: this.agents.http, httpsAgent: this.agents.https },
    });
    this.vault = {
      read: (path) => client.read(path) as Promise<unknown>,
      write: (path, data) => client.write(path, data) as Promise<unknown>,
      delete: (path) => client.delete(path) as Promise<unknown>,
    };
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
    return this.cache.getOrLoad(subjectId, async (generation) => {
      const row = await this.selectRow(subjectId);
      if (row === undefined) throw new SubjectKeyNotFoundError(subjectId);
      return this.cache.remember(await this.unwrap(row), generation);
    });
  }

  async destroy(subjectId: string): Promise<void> {
    this.assertUsable(subjectId);
    this.cache.evict(subjectId);
    // The database first: from here on every instance reads the subject as destroyed, even if
    // Vault is unreachable now. A destroy() retried after a Vault failure finishes the deletion.
    await writeKeyTombstone(this.pool, subjectId);
    this.cache.evict(subjectId);
    await this.deleteTransitKey(transitKeyName(subjectId));
  }

  /** Forgets every cached key and closes the HTTP agents. The pool is the caller's and stays open. */
  close(): Promise<void> {
    this.closed = true;
    this.cache.close();
    this.agents.http.destroy();
    this.agents.https.destroy();
    return Promise.resolve();
  }

  private async createOrLoad(subjectId: string, generation: number): Promise<DataKey> {
    const existing = await this.selectRow(subjectId);
    // Known subjects (destroyed ones included) never touch Transit key creation.
    if (existing !== undefined) return this.cache.remember(await this.unwrap(existing), generation);

    const name = transitKeyName(subjectId);
    await this.ensureTransitKey(name);
    const keyId = randomUUID();
    const { key, wrapped } = await this.generateDataKey(name, subjectId, keyId);
    // DO NOTHING + a second statement: the second one runs under a new snapshot, so it sees a row
    // a concurrent creator committed.
    const inserted = await this.pool.query(
      `INSERT INTO crypto_subject_keys (subject_id, key_id, wrapped_key, master_key_id)
       VALUES ($1, $2, $3, $4) ON CONFLICT (subject_id) DO NOTHING`,
      [subjectId, keyId, Buffer.from(wrapped, 'utf8'), this.wrappingId(name)],
    );
    if (inserted.rowCount === 1) return this.cache.remember({ subjectId, keyId, key }, generation);

    key.fill(0);
    const winner = await this.selectRow(subjectId);
    if (winner === undefined || winner.destroyed_at !== null) {
      // A destroy got in between and may have deleted the Transit key before we (re)created it.
      // The key wraps nothing we stored; delete it again so no orphan stays (a failure here is
      // retried by the next destroy of this subject).
      await this.deleteTransitKey(name).catch(() => undefined);
      throw new SubjectKeyDestroyedError(subjectId);
    }
    return this.cache.remember(await this.unwrap(winner), generation);
  }

  private async selectRow(subjectId: string): Promise<KeyRow | undefined> {
    const { rows } = await this.pool.query<KeyRow>(
      `SELECT subject_id, key_id, wrapped_key, master_key_id, destroyed_at
       FROM crypto_subject_keys WHERE subject_id = $1`,
      [subjectId],
    );
    return rows[0];
  }

  private async unwrap(row: KeyRow): Promise<DataKey> {
    if (row.destroyed_at !== null || row.wrapped_key === null || row.master_key_id === null) {
      throw new SubjectKeyDestroyedError(row.subject_id);
    }
    const name = transitKeyName(row.subject_id);
    // A row of the local adapter (or of another mount) is not ours to read: fail loudly rather
    // than mint a second key for the subject.
    if (row.master_key_id !== this.wrappingId(name)) throw new MasterKeyUnavailableError(row.master_key_id);
    let body: unknown;
    try {
      body = await this.vault.write(`${this.mount}/decrypt/${name}`, {
        ciphertext: row.wrapped_key.toString('utf8'),
        context: this.context(row.subject_id, row.key_id),
      });
    } catch (error) {
      const { status, message } = vaultFailure(error);
      if (status === 400 && /encryption key not found/i.test(message)) {
        // A destroy elsewhere may have deleted the Transit key after we read the row.
        const now = await this.selectRow(row.subject_id);
        if (now === undefined || now.destroyed_at !== null) throw new SubjectKeyDestroyedError(row.subject_id);
        throw new KeyStoreBackendError(`Vault has no Transit key ${name} for a live subject key: ${message}`, status);
      }
      // Wrong context, altered or foreign ciphertext: Vault answers 400.
      if (status === 400) throw new CiphertextTamperedError(`Vault could not unwrap the data key of transit key ${name}: ${message}`);
      throw backendError(error, `decrypt with transit key ${name}`);
    }
    const key = base64Field(body, 'plaintext', `decrypt with transit key ${name}`);
    if (key.length !== DATA_KEY_BYTES) throw new CiphertextTamperedError('the unwrapped data key is not 32 bytes');
    return { subjectId: row.subject_id, keyId: row.key_id, key };
  }

  /** Creates the subject's Transit key if needed (idempotent in Vault) and refuses one with unsafe settings. */
  private async ensureTransitKey(name: string): Promise<void> {
    const path = `${this.mount}/keys/${name}`;
    let body: unknown;
    try {
      body = await this.vault.write(path, { type: 'aes256-gcm96', derived: true, exportable: false, allow_plaintext_backup: false });
    } catch (error) {
      throw backendError(error, `create transit key ${name}`);
    }
    // Creating an existing key returns it unchanged (newer servers in the response, older ones need a read).
    let settings = dataOf(body);
    if (settings?.['type'] === undefined) settings = await this.readTransitKey(name);
    if (settings === undefined) throw new KeyStoreBackendError(`transit key ${name} vanished right after its creation`);
    if (settings['type'] !== 'aes256-gcm96' || settings['derived'] !== true || settings['exportable'] !== false || settings['allow_plaintext_backup'] === true) {
      throw new KeyStoreBackendError(`transit key ${name} exists with other settings (must be aes256-gcm96, derived, not exportable): refusing to use it`);
    }
  }

  private async generateDataKey(name: string, subjectId: string, keyId: string): Promise<{ key: Buffer; wrapped: string }> {
    const action = `generate a data key with transit key ${name}`;
    let body: unknown;
    try {
      // "plaintext" returns the key and its wrapped form at once: this process needs the key now
      // to encrypt the subject's first event, so "wrapped" + decrypt would only add a round trip.
      body = await this.vault.write(`${this.mount}/datakey/plaintext/${name}`, {
        bits: DATA_KEY_BYTES * 8,
        context: this.context(subjectId, keyId),
      });
    } catch (error) {
      throw backendError(error, action);
    }
    const key = base64Field(body, 'plaintext', action);
    const wrapped = dataOf(body)?.['ciphertext'];
    if (key.length !== DATA_KEY_BYTES || typeof wrapped !== 'string' || !wrapped.startsWith('vault:v')) {
      throw new KeyStoreBackendError(`Vault answered ${action} without a 32-byte key and its ciphertext`);
    }
    return { key, wrapped };
  }

  /** Idempotent: a key that is already gone counts as deleted. */
  private async deleteTransitKey(name: string): Promise<void> {
    const settings = await this.readTransitKey(name);
    if (settings === undefined) return;
    try {
      if (settings['deletion_allowed'] !== true) await this.vault.write(`${this.mount}/keys/${name}/config`, { deletion_allowed: true });
      await this.vault.delete(`${this.mount}/keys/${name}`);
    } catch (error) {
      // A concurrent destroy may have deleted it between our read and our calls.
      if ((await this.readTransitKey(name)) === undefined) return;
      throw backendError(error, `delete transit key ${name}`);
    }
  }

  private async readTransitKey(name: string): Promise<Record<string, unknown> | undefined> {
    try {
      return dataOf(await this.vault.read(`${this.mount}/keys/${name}`)) ?? {};
    } catch (error) {
      if (vaultFailure(error).status === 404) return undefined;
      throw backendError(error, `read transit key ${name}`);
    }
  }

  private wrappingId(name: string): string {
    return `${WRAPPING_ID_PREFIX}${this.mount}/${name}`;
  }

  /** Key derivation context: binds the wrapped key to its subject and key id. */
  private context(subjectId: string, keyId: string): string {
    return lengthPrefixed([CONTEXT_LABEL, subjectId, keyId]).toString('base64');
  }

  private assertUsable(subjectId: string): void {
    if (this.closed) throw new KeyStoreClosedError();
    if (typeof subjectId !== 'string' || subjectId === '') throw new InvalidCipherInputError('subjectId must be a non-empty string');
  }
}

function dataOf(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const data = (body as { data?: unknown }).data;
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : undefined;
}

function base64Field(body: unknown, field: string, action: string): Buffer {
  const value = dataOf(body)?.[field];
  if (typeof value !== 'string') throw new KeyStoreBackendError(`Vault answered ${action} without "${field}"`);
  return Buffer.from(value, 'base64');
}

/** Status and message of a node-vault error (ApiResponseError carries `response.statusCode`), or of a network error. */
function vaultFailure(error: unknown): { status: number | undefined; message: string } {
  const response = (error as { response?: { statusCode?: unknown } } | null)?.response;
  const status = typeof response?.statusCode === 'number' ? response.statusCode : undefined;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { status, message: typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message };
}

function backendError(error: unknown, action: string): KeyStoreBackendError {
  const { status, message } = vaultFailure(error);
  return new KeyStoreBackendError(`Vault could not ${action}${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`, status);
}
