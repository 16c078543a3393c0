export type { DataKey, KeyStore } from './keyStore';
export { LocalKeyStore, type LocalKeyStoreOptions, type RewrapResult, type RewrapProgress } from './localKeyStore';
export type { KeyCacheOptions } from './subjectKeyCache';
export { VaultKeyStore, transitKeyName, TRANSIT_KEY_PREFIX, DEFAULT_TRANSIT_MOUNT, type VaultKeyStoreOptions, type VaultConnection } from './vaultKeyStore';
export {
  createKeyStore,
  loadKeyStoreConfig,
  KEY_STORE_ENV,
  VAULT_ADDR_ENV,
  VAULT_TOKEN_ENV,
  VAULT_NAMESPACE_ENV,
  VAULT_TRANSIT_MOUNT_ENV,
  type KeyStoreConfig,
} from './keyStoreConfig';
export {
  loadMasterKey,
  loadMasterKeyRing,
  PREVIOUS_MASTER_KEYS_ENV,
  PREVIOUS_MASTER_KEY_FILES_ENV,
  type MasterKeyRing,
  masterKeyFromBytes,
  masterKeyId,
  generateMasterKeyBase64,
  MASTER_KEY_ENV,
  MASTER_KEY_FILE_ENV,
  type MasterKey,
} from './masterKey';
export { encryptJson, decryptJson, tokenKeyId, CIPHER_VERSION, type Aad } from './fieldCipher';
export { PhiCodec, contentDigest, PHI_FIELD, CONTENT_DIGEST_INFO, type SealedData } from './phiCodec';
export { dedupEventId, DEDUP_ID_INFO } from './dedupId';
export { pooledRandomBytes } from './randomPool';
export { canonicalJson, type JsonValue, type JsonObject } from './json';
export { masterKeyFiles, type MasterKeyFiles } from './masterKeyRotation';
export { migrateCryptoSchema, cryptoMigrations, CRYPTO_MIGRATION_TABLE, CRYPTO_MIGRATION_LOCK_TABLE } from './migrations';
export {
  CryptoError,
  CiphertextTamperedError,
  UnsupportedCipherVersionError,
  WrongKeyError,
  SubjectKeyDestroyedError,
  SubjectKeyNotFoundError,
  MasterKeyUnavailableError,
  MasterKeyConfigError,
  PhiFieldCollisionError,
  InvalidCipherInputError,
  KeyStoreClosedError,
  KeyStoreConfigError,
  KeyStoreBackendError,
} from './errors';
