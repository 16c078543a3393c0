export type { DataKey, KeyStore } from './keyStore';
export { LocalKeyStore, type LocalKeyStoreOptions, type KeyCacheOptions, type RewrapResult } from './localKeyStore';
export {
  loadMasterKey,
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
export { canonicalJson, type JsonValue, type JsonObject } from './json';
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
} from './errors';
