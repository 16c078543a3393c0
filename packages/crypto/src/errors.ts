/**
 * Typed errors of the crypto package. `code` is stable and maps to problem+json. Messages carry
 * opaque ids only: never plaintext, never key material.
 */
export abstract class CryptoError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A token or wrapped key failed authentication (tag mismatch, wrong AAD) or is malformed. */
export class CiphertextTamperedError extends CryptoError {
  readonly code = 'CIPHERTEXT_TAMPERED';
}

/** The token names an algorithm version this build cannot decrypt. */
export class UnsupportedCipherVersionError extends CryptoError {
  readonly code = 'UNSUPPORTED_CIPHER_VERSION';
  constructor(readonly version: string) {
    super(`unsupported cipher version ${JSON.stringify(version.slice(0, 16))}`);
  }
}

/** The token was encrypted under another data key than the one given. */
export class WrongKeyError extends CryptoError {
  readonly code = 'WRONG_KEY';
  constructor(
    readonly tokenKeyId: string,
    readonly givenKeyId: string,
  ) {
    super(`ciphertext was encrypted under key ${tokenKeyId}, not under the given key ${givenKeyId}`);
  }
}

/** The subject's data key was destroyed (crypto-shredding): the data is erased for good. */
export class SubjectKeyDestroyedError extends CryptoError {
  readonly code = 'SUBJECT_KEY_DESTROYED';
  constructor(readonly subjectId: string) {
    super(`the data key of subject ${subjectId} was destroyed`);
  }
}

/** No data key was ever created for the subject. */
export class SubjectKeyNotFoundError extends CryptoError {
  readonly code = 'SUBJECT_KEY_NOT_FOUND';
  constructor(readonly subjectId: string) {
    super(`no data key exists for subject ${subjectId}`);
  }
}

/** A data key is wrapped under a master key this process was not given. */
export class MasterKeyUnavailableError extends CryptoError {
  readonly code = 'MASTER_KEY_UNAVAILABLE';
  constructor(readonly masterKeyId: string) {
    super(`the data key is wrapped under master key ${masterKeyId}, which is not configured`);
  }
}

/** The master key setting is absent or invalid; the message names the variable. */
export class MasterKeyConfigError extends CryptoError {
  readonly code = 'MASTER_KEY_CONFIG';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/** `plainFields` would make a readable field collide with the `phi` ciphertext field. */
export class PhiFieldCollisionError extends CryptoError {
  readonly code = 'PHI_FIELD_COLLISION';
  constructor(readonly field: string) {
    super(`field ${JSON.stringify(field)} is reserved for the encrypted payload and cannot be a plain field`);
  }
}

/** An argument is not what the operation needs (non-JSON value, bad key length, bad schema version). */
export class InvalidCipherInputError extends CryptoError {
  readonly code = 'INVALID_CIPHER_INPUT';
}

/** The key store was closed. */
export class KeyStoreClosedError extends CryptoError {
  readonly code = 'KEY_STORE_CLOSED';
  constructor() {
    super('the key store is closed');
  }
}

/** A key store setting (KEY_STORE, VAULT_*) is absent or invalid; the message names the variable. */
export class KeyStoreConfigError extends CryptoError {
  readonly code = 'KEY_STORE_CONFIG';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The key store's backend (Vault) failed, refused or could not be reached. `status` is the HTTP
 * status when there was a response. The message carries Vault's error text and opaque key names,
 * never key material; the HTTP client's error is deliberately not kept as `cause` (it holds the
 * request headers, Vault token included, and loggers serialise causes).
 */
export class KeyStoreBackendError extends CryptoError {
  readonly code = 'KEY_STORE_BACKEND';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
