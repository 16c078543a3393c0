import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { KeyStoreConfigError, MasterKeyConfigError } from './errors';
import { createKeyStore, loadKeyStoreConfig } from './keyStoreConfig';
import { LocalKeyStore } from './localKeyStore';
import { generateMasterKeyBase64 } from './masterKey';
import { VaultKeyStore } from './vaultKeyStore';

const noFiles = (path: string): string => {
  throw new Error(`no file ${path}`);
};

function configError(fn: () => unknown): KeyStoreConfigError | MasterKeyConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof KeyStoreConfigError || error instanceof MasterKeyConfigError) return error;
    throw error;
  }
  throw new Error('expected a config error');
}

const vaultEnv = { KEY_STORE: 'vault', VAULT_ADDR: 'https://vault.internal:8200/', VAULT_TOKEN: 'hvs.example-token' };

describe('key store config', () => {
  it('defaults to the local key store with the master key ring', () => {
    const key = generateMasterKeyBase64();
    const previous = generateMasterKeyBase64();
    const config = loadKeyStoreConfig({ FITLEDGER_MASTER_KEY: key, FITLEDGER_PREVIOUS_MASTER_KEYS: previous }, noFiles);
    expect(config.kind).toBe('local');
    if (config.kind !== 'local') return;
    expect(config.masterKeys.current.key.toString('base64')).toBe(key);
    expect(config.masterKeys.previous.map((k) => k.key.toString('base64'))).toEqual([previous]);
    expect(loadKeyStoreConfig({ KEY_STORE: 'local', FITLEDGER_MASTER_KEY: key }, noFiles).kind).toBe('local');
  });

  it('reads the Vault settings with the transit mount defaulting to "transit", and no master key', () => {
    expect(loadKeyStoreConfig(vaultEnv, noFiles)).toEqual({
      kind: 'vault',
      vault: { address: 'https://vault.internal:8200', token: 'hvs.example-token', transitMount: 'transit' },
    });
    expect(loadKeyStoreConfig({ ...vaultEnv, VAULT_TRANSIT_MOUNT: '/fitledger/transit/', VAULT_NAMESPACE: 'admin/health' }, noFiles)).toMatchObject({
      vault: { transitMount: 'fitledger/transit', namespace: 'admin/health' },
    });
  });

  it.each([
    ['KEY_STORE', { KEY_STORE: 'kms' }],
    ['VAULT_ADDR', { VAULT_ADDR: undefined }],
    ['VAULT_ADDR', { VAULT_ADDR: 'vault.internal:8200' }],
    ['VAULT_ADDR', { VAULT_ADDR: 'ftp://vault.internal' }],
    ['VAULT_TOKEN', { VAULT_TOKEN: ' ' }],
    ['VAULT_TRANSIT_MOUNT', { VAULT_TRANSIT_MOUNT: 'transit/../sys' }],
  ])('fails naming %s when it is wrong', (variable, change) => {
    const error = configError(() => loadKeyStoreConfig({ ...vaultEnv, ...change }, noFiles));
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).not.toContain('hvs.example-token');
  });

  it('fails naming the master key variable when the local store has no key', () => {
    expect(configError(() => loadKeyStoreConfig({}, noFiles)).variable).toBe('FITLEDGER_MASTER_KEY');
  });

  it('builds the adapter the config names, without connecting to anything', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    const local = createKeyStore(loadKeyStoreConfig({ FITLEDGER_MASTER_KEY: generateMasterKeyBase64() }, noFiles), pool);
    const vault = createKeyStore(loadKeyStoreConfig(vaultEnv, noFiles), pool);
    expect(local).toBeInstanceOf(LocalKeyStore);
    expect(vault).toBeInstanceOf(VaultKeyStore);
    await local.close();
    await vault.close();
    await pool.end();
  });
});
