import { randomBytes } from 'node:crypto';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CiphertextTamperedError, KeyStoreBackendError, MasterKeyUnavailableError, SubjectKeyDestroyedError } from './errors';
import { createKeyStore, loadKeyStoreConfig, type KeyStoreConfig } from './keyStoreConfig';
import { LocalKeyStore } from './localKeyStore';
import { masterKeyFromBytes } from './masterKey';
import { migrateCryptoSchema } from './migrations';
import { keyStoreContract } from './testing/keyStoreContract';
import { VaultKeyStore } from './vaultKeyStore';

// Runs only against a real Vault (or OpenBao) server: see packages/crypto/VAULT.md. VAULT_TOKEN
// needs no more than the service policy given there.
describe.skipIf(!process.env['VAULT_ADDR'])('VaultKeyStore against the Vault server at VAULT_ADDR', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let config: Extract<KeyStoreConfig, { kind: 'vault' }>;
  const stores: VaultKeyStore[] = [];

  function store(token?: string): VaultKeyStore {
    const s = new VaultKeyStore({ pool, vault: { ...config.vault, ...(token ? { token } : {}) } });
    stores.push(s);
    return s;
  }

  /** Vault's HTTP API directly, not through the adapter under test. */
  async function vaultApi(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { 'X-Vault-Token': config.vault.token };
    if (config.vault.namespace) headers['X-Vault-Namespace'] = config.vault.namespace;
    const response = await fetch(`${config.vault.address}/v1/${config.vault.transitMount}/${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
  }

  /** The derivation context as VAULT.md specifies it, computed here independently of the adapter. */
  function context(subjectId: string, keyId: string): string {
    const parts = ['fitledger/vault-data-key/v1', subjectId, keyId].map((p) => Buffer.from(p, 'utf8'));
    return Buffer.concat(
      parts.flatMap((p) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(p.length);
        return [length, p];
      }),
    ).toString('base64');
  }

  async function row(subjectId: string): Promise<{ key_id: string; wrapped_key: Buffer | null; master_key_id: string | null } | undefined> {
    const { rows } = await pool.query<{ key_id: string; wrapped_key: Buffer | null; master_key_id: string | null }>(
      'SELECT key_id, wrapped_key, master_key_id FROM crypto_subject_keys WHERE subject_id = $1',
      [subjectId],
    );
    return rows[0];
  }

  const subject = (): string => `vault-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    const loaded = loadKeyStoreConfig({ ...process.env, KEY_STORE: 'vault' });
    if (loaded.kind !== 'vault') throw new Error('expected a vault config');
    config = loaded;
    db = await testDatabase('cryptovault');
    pool = new pg.Pool({ connectionString: db.url, max: 10 });
    await migrateCryptoSchema(pool);
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await pool?.end();
    await db?.drop();
  });

  keyStoreContract('VaultKeyStore on Vault Transit and PostgreSQL', ({ cache }) => createKeyStore({ ...config, ...(cache ? { cache } : {}) }, pool));

  describe('VaultKeyStore', () => {
    it('gives each subject its own derived, non-exportable Transit key and keeps only the wrapped data key', async () => {
      const subjectId = subject();
      const { key, keyId } = await store().getOrCreate(subjectId);
      const name = `fitledger-subject-${subjectId}`;
      const transitKey = await vaultApi('GET', `keys/${name}`);
      expect(transitKey.status).toBe(200);
      expect(transitKey.json).toMatchObject({ data: { type: 'aes256-gcm96', derived: true, exportable: false, allow_plaintext_backup: false } });

      const stored = await row(subjectId);
      expect(stored).toMatchObject({ key_id: keyId, master_key_id: `vault-transit:${config.vault.transitMount}/${name}` });
      const wrapped = stored?.wrapped_key?.toString('utf8') ?? '';
      expect(wrapped).toMatch(/^vault:v1:/);
      for (const encoding of ['hex', 'base64', 'base64url'] as const) expect(wrapped).not.toContain(key.toString(encoding));
      // The stored ciphertext unwraps, under the subject's context, to the very key the store handed out.
      const decrypted = await vaultApi('POST', `decrypt/${name}`, { ciphertext: wrapped, context: context(subjectId, keyId) });
      expect(decrypted.status).toBe(200);
      expect((decrypted.json as { data: { plaintext: string } }).data.plaintext).toBe(key.toString('base64'));
      await store().destroy(subjectId);
    });

    it('destroy deletes the Transit key, so a saved copy of the wrapped key can never be unwrapped again', async () => {
      const subjectId = subject();
      const { keyId } = await store().getOrCreate(subjectId);
      const name = `fitledger-subject-${subjectId}`;
      const saved = (await row(subjectId))?.wrapped_key?.toString('utf8');
      expect((await vaultApi('POST', `decrypt/${name}`, { ciphertext: saved, context: context(subjectId, keyId) })).status).toBe(200);

      await store().destroy(subjectId);

      expect(await row(subjectId)).toMatchObject({ wrapped_key: null, master_key_id: null });
      expect((await vaultApi('GET', `keys/${name}`)).status).toBe(404);
      const afterwards = await vaultApi('POST', `decrypt/${name}`, { ciphertext: saved, context: context(subjectId, keyId) });
      expect(afterwards.status).toBe(400);
      expect(JSON.stringify(afterwards.json)).not.toContain('plaintext');
    });

    it('finishes the Transit key deletion when destroy is retried after the database step', async () => {
      const subjectId = subject();
      await store().getOrCreate(subjectId);
      const name = `fitledger-subject-${subjectId}`;
      // As if an earlier destroy() wrote the tombstone and then lost Vault.
      await pool.query('UPDATE crypto_subject_keys SET wrapped_key = NULL, master_key_id = NULL, destroyed_at = now() WHERE subject_id = $1', [subjectId]);
      expect((await vaultApi('GET', `keys/${name}`)).status).toBe(200);
      await expect(store().get(subjectId)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);

      await store().destroy(subjectId);

      expect((await vaultApi('GET', `keys/${name}`)).status).toBe(404);
    });

    it('detects a wrapped key moved onto another subject, or a changed key id, as tampered', async () => {
      const [victim, thief, relabelled] = [subject(), subject(), subject()];
      await store().getOrCreate(victim);
      await store().getOrCreate(thief);
      await store().getOrCreate(relabelled);
      await pool.query(
        'UPDATE crypto_subject_keys SET wrapped_key = (SELECT wrapped_key FROM crypto_subject_keys WHERE subject_id = $1) WHERE subject_id = $2',
        [victim, thief],
      );
      await pool.query('UPDATE crypto_subject_keys SET key_id = gen_random_uuid() WHERE subject_id = $1', [relabelled]);
      await expect(store().get(thief)).rejects.toBeInstanceOf(CiphertextTamperedError);
      await expect(store().get(relabelled)).rejects.toBeInstanceOf(CiphertextTamperedError);
      await expect(store().get(victim)).resolves.toMatchObject({ subjectId: victim });
      for (const s of [victim, thief, relabelled]) await store().destroy(s);
    });

    it('refuses a subject whose key the local key store holds instead of minting a second key', async () => {
      const subjectId = subject();
      const local = new LocalKeyStore({ pool, masterKey: masterKeyFromBytes(randomBytes(32)) });
      const { keyId } = await local.getOrCreate(subjectId);
      await expect(store().get(subjectId)).rejects.toBeInstanceOf(MasterKeyUnavailableError);
      await expect(store().getOrCreate(subjectId)).rejects.toBeInstanceOf(MasterKeyUnavailableError);
      expect(await row(subjectId)).toMatchObject({ key_id: keyId });
      expect((await vaultApi('GET', `keys/fitledger-subject-${subjectId}`)).status).toBe(404);
      await local.close();
    });

    it('fails with KeyStoreBackendError carrying the status, and never the token, when Vault refuses the token', async () => {
      const token = `hvs.not-a-token-${randomBytes(6).toString('hex')}`;
      const error: unknown = await store(token)
        .getOrCreate(subject())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreBackendError);
      expect(error).toMatchObject({ code: 'KEY_STORE_BACKEND', status: 403 });
      expect((error as Error).message).not.toContain(token);
      expect(JSON.stringify(error)).not.toContain(token);
    });
  });
});
