import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { KeyStoreConfigError } from './errors';
import type { KeyStore } from './keyStore';
import { LocalKeyStore } from './localKeyStore';
import { loadMasterKeyRing, type MasterKeyRing } from './masterKey';
import type { KeyCacheOptions } from './subjectKeyCache';
import { DEFAULT_TRANSIT_MOUNT, VaultKeyStore, type VaultConnection } from './vaultKeyStore';

export const KEY_STORE_ENV = 'KEY_STORE';
export const VAULT_ADDR_ENV = 'VAULT_ADDR';
export const VAULT_TOKEN_ENV = 'VAULT_TOKEN';
export const VAULT_NAMESPACE_ENV = 'VAULT_NAMESPACE';
export const VAULT_TRANSIT_MOUNT_ENV = 'VAULT_TRANSIT_MOUNT';

/** Which key store adapter a service uses, with its settings. Build it with `loadKeyStoreConfig`. */
export type KeyStoreConfig =
  | { readonly kind: 'local'; readonly masterKeys: MasterKeyRing; readonly cache?: KeyCacheOptions }
  | { readonly kind: 'vault'; readonly vault: VaultConnection; readonly cache?: KeyCacheOptions };

/**
 * Reads the key store settings once at start:
 * - `KEY_STORE`: `local` (default) or `vault`.
 * - local: `FITLEDGER_MASTER_KEY` or `FITLEDGER_MASTER_KEY_FILE`, plus the optional unwrap-only keys
 *   of a rotation, `FITLEDGER_PREVIOUS_MASTER_KEYS` / `FITLEDGER_PREVIOUS_MASTER_KEY_FILES`.
 * - vault: `VAULT_ADDR`, `VAULT_TOKEN`, optional `VAULT_TRANSIT_MOUNT` (default `transit`) and
 *   `VAULT_NAMESPACE`. The master key variables are not read.
 * A wrong setting throws KeyStoreConfigError (or MasterKeyConfigError for the master key
 * variables); both carry `variable`, the name of the setting to fix.
 */
export function loadKeyStoreConfig(
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): KeyStoreConfig {
  const kind = (env[KEY_STORE_ENV] ?? '').trim() || 'local';
  if (kind === 'local') return Object.freeze({ kind, masterKeys: loadMasterKeyRing(env, readFile) });
  if (kind !== 'vault') throw new KeyStoreConfigError(KEY_STORE_ENV, `${KEY_STORE_ENV} must be "local" or "vault"`);

  const address = (env[VAULT_ADDR_ENV] ?? '').trim();
  if (address === '') throw new KeyStoreConfigError(VAULT_ADDR_ENV, `${VAULT_ADDR_ENV} is required when ${KEY_STORE_ENV}=vault`);
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new KeyStoreConfigError(VAULT_ADDR_ENV, `${VAULT_ADDR_ENV} must be a URL such as https://vault.internal:8200`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KeyStoreConfigError(VAULT_ADDR_ENV, `${VAULT_ADDR_ENV} must be an http or https URL`);
  }
  const token = (env[VAULT_TOKEN_ENV] ?? '').trim();
  if (token === '') throw new KeyStoreConfigError(VAULT_TOKEN_ENV, `${VAULT_TOKEN_ENV} is required when ${KEY_STORE_ENV}=vault`);
  const transitMount = (env[VAULT_TRANSIT_MOUNT_ENV] ?? '').trim().replace(/^\/+|\/+$/g, '') || DEFAULT_TRANSIT_MOUNT;
  if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(transitMount)) {
    throw new KeyStoreConfigError(VAULT_TRANSIT_MOUNT_ENV, `${VAULT_TRANSIT_MOUNT_ENV} must be a mount path such as "transit"`);
  }
  const namespace = (env[VAULT_NAMESPACE_ENV] ?? '').trim().replace(/^\/+|\/+$/g, '');
  return Object.freeze({
    kind,
    vault: Object.freeze({ address: address.replace(/\/+$/, ''), token, transitMount, ...(namespace ? { namespace } : {}) }),
  });
}

/**
 * The key store a service runs on, from its config. The pool is the caller's (closing the store
 * leaves it open) and must hold the crypto schema (`migrateCryptoSchema`): both adapters keep
 * their rows in `crypto_subject_keys`.
 */
export function createKeyStore(config: KeyStoreConfig, pool: Pool): KeyStore {
  const cache = config.cache ? { cache: config.cache } : {};
  switch (config.kind) {
    case 'local':
      return new LocalKeyStore({ pool, masterKey: config.masterKeys.current, previousMasterKeys: config.masterKeys.previous, ...cache });
    case 'vault':
      return new VaultKeyStore({ pool, vault: config.vault, ...cache });
    default: {
      const unknown: never = config;
      // Only the kind: the config holds secrets.
      throw new KeyStoreConfigError(KEY_STORE_ENV, `unknown key store kind ${String((unknown as { kind?: unknown }).kind)}`);
    }
  }
}
