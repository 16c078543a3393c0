import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidCipherInputError, MasterKeyConfigError } from './errors';

/**
 * The key that wraps data keys in the local key store. `id` is stored next to each wrapped key so
 * that a rotation can tell which master key unwraps a row and re-wrap it under the new one.
 */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

export const MASTER_KEY_ENV = 'FITLEDGER_MASTER_KEY';
export const MASTER_KEY_FILE_ENV = 'FITLEDGER_MASTER_KEY_FILE';

/** The first 16 hex digits of a domain-separated SHA-256 of the key: names the key, reveals nothing. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update('fitledger/master-key-id/v1\0').update(key).digest('hex').slice(0, 16);
}

export function masterKeyFromBytes(key: Buffer): MasterKey {
  if (key.length !== 32) throw new InvalidCipherInputError('a master key is 32 bytes');
  const copy = Buffer.from(key);
  return Object.freeze({ id: masterKeyId(copy), key: copy });
}

/** A fresh random master key, base64-encoded as `FITLEDGER_MASTER_KEY` expects (for dev setups and tests). */
export function generateMasterKeyBase64(): string {
  return randomBytes(32).toString('base64');
}

const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Reads the master key from `FITLEDGER_MASTER_KEY` (base64 of 32 bytes) or from the file named by
 * `FITLEDGER_MASTER_KEY_FILE` (holding the same base64 text). Fails with a message naming the
 * variable when neither or both are set, or the value is not 32 bytes of base64.
 */
export function loadMasterKey(
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): MasterKey {
  const inline = env[MASTER_KEY_ENV];
  const file = env[MASTER_KEY_FILE_ENV];
  const hasInline = inline !== undefined && inline !== '';
  const hasFile = file !== undefined && file !== '';
  if (hasInline && hasFile) {
    throw new MasterKeyConfigError(MASTER_KEY_ENV, `set only one of ${MASTER_KEY_ENV} and ${MASTER_KEY_FILE_ENV}`);
  }
  if (hasFile) {
    let text: string;
    try {
      text = readFile(file);
    } catch {
      throw new MasterKeyConfigError(MASTER_KEY_FILE_ENV, `${MASTER_KEY_FILE_ENV}: cannot read the file it names`);
    }
    return parseBase64Key(text.trim(), MASTER_KEY_FILE_ENV);
  }
  if (hasInline) return parseBase64Key(inline.trim(), MASTER_KEY_ENV);
  throw new MasterKeyConfigError(
    MASTER_KEY_ENV,
    `${MASTER_KEY_ENV} is not set: give base64 of 32 random bytes (or a file holding it in ${MASTER_KEY_FILE_ENV})`,
  );
}

function parseBase64Key(text: string, variable: string, what: string = variable): MasterKey {
  // Buffer.from(…, 'base64') skips characters it does not know, so check the shape first.
  if (!BASE64_32_BYTES.test(text)) {
    throw new MasterKeyConfigError(variable, `${what} must be base64 of exactly 32 bytes (44 characters ending in "=")`);
  }
  return masterKeyFromBytes(Buffer.from(text, 'base64'));
}

export const PREVIOUS_MASTER_KEYS_ENV = 'FITLEDGER_PREVIOUS_MASTER_KEYS';
export const PREVIOUS_MASTER_KEY_FILES_ENV = 'FITLEDGER_PREVIOUS_MASTER_KEY_FILES';

/** The master key that wraps, plus unwrap-only keys (the old key during a rotation, or the staged next one). */
export interface MasterKeyRing {
  readonly current: MasterKey;
  /** Never used to wrap; deduplicated, without `current`. */
  readonly previous: readonly MasterKey[];
}

/**
 * `loadMasterKey` plus the unwrap-only keys of a rotation: `FITLEDGER_PREVIOUS_MASTER_KEYS`
 * (comma-separated base64 keys) and `FITLEDGER_PREVIOUS_MASTER_KEY_FILES` (comma-separated paths of
 * files holding one each); both are optional and may be combined. A bad entry fails naming the
 * variable and the entry's position, never echoing a key.
 */
export function loadMasterKeyRing(
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): MasterKeyRing {
  const current = loadMasterKey(env, readFile);
  const previous = new Map<string, MasterKey>();
  const add = (key: MasterKey): void => {
    if (key.id !== current.id) previous.set(key.id, key);
  };
  for (const [i, text] of listEntries(env[PREVIOUS_MASTER_KEYS_ENV]).entries()) {
    add(parseBase64Key(text, PREVIOUS_MASTER_KEYS_ENV, `entry ${i + 1} of ${PREVIOUS_MASTER_KEYS_ENV}`));
  }
  for (const [i, path] of listEntries(env[PREVIOUS_MASTER_KEY_FILES_ENV]).entries()) {
    const where = `file ${i + 1} of ${PREVIOUS_MASTER_KEY_FILES_ENV}`;
    let text: string;
    try {
      text = readFile(path);
    } catch {
      throw new MasterKeyConfigError(PREVIOUS_MASTER_KEY_FILES_ENV, `${where}: cannot read the file it names`);
    }
    add(parseBase64Key(text.trim(), PREVIOUS_MASTER_KEY_FILES_ENV, where));
  }
  return Object.freeze({ current, previous: Object.freeze([...previous.values()]) });
}

function listEntries(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}
