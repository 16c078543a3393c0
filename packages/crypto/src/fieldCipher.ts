import { createCipheriv, createDecipheriv } from 'node:crypto';
import {
  CiphertextTamperedError,
  InvalidCipherInputError,
  UnsupportedCipherVersionError,
  WrongKeyError,
} from './errors';
import type { JsonValue } from './json';
import type { DataKey } from './keyStore';
import { lengthPrefixed } from './lengthPrefix';
import { pooledRandomBytes } from './randomPool';

/** Algorithm version 1: AES-256-GCM, 96-bit random IV, 128-bit tag (NIST SP 800-38D). */
export const CIPHER_VERSION = 'fl1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Associated data: authenticated, not encrypted. Callers bind the context a ciphertext belongs to. */
export type Aad = string | Uint8Array;

/**
 * Encrypts a JSON value under a data key into a self-describing token
 * `fl1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts). The version and key id are
 * authenticated too, so neither can be swapped.
 */
export function encryptJson(value: JsonValue, dataKey: DataKey, aad: Aad): string {
  assertKey(dataKey);
  const plaintext = JSON.stringify(value) as string | undefined;
  if (plaintext === undefined) throw new InvalidCipherInputError('value is not JSON');
  // A fresh random IV per token (pooled: see pooledRandomBytes); never reused under a key.
  const iv = pooledRandomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(fullAad(CIPHER_VERSION, dataKey.keyId, aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [CIPHER_VERSION, dataKey.keyId, b64url(iv), b64url(ciphertext), b64url(tag)].join('.');
}

/** Decrypts a token from `encryptJson` with the same key and AAD; typed errors on any mismatch. */
export function decryptJson(token: string, dataKey: DataKey, aad: Aad): JsonValue {
  assertKey(dataKey);
  const { keyId, iv, ciphertext, tag } = parseToken(token);
  if (keyId !== dataKey.keyId) throw new WrongKeyError(keyId, dataKey.keyId);
  let plaintext: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(fullAad(CIPHER_VERSION, keyId, aad));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new CiphertextTamperedError('ciphertext failed authentication');
  }
  try {
    return JSON.parse(plaintext) as JsonValue;
  } catch {
    // JSON.parse quotes the input in its message: never let plaintext reach an error.
    throw new CiphertextTamperedError('decrypted payload is not JSON');
  }
}

/** The key id a token was encrypted under, without decrypting it. */
export function tokenKeyId(token: string): string {
  return parseToken(token).keyId;
}

interface ParsedToken {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

function parseToken(token: string): ParsedToken {
  if (typeof token !== 'string') throw new CiphertextTamperedError('token is not a string');
  const parts = token.split('.');
  const version = parts[0] ?? '';
  if (version !== CIPHER_VERSION) {
    if (/^fl\d+$/.test(version)) throw new UnsupportedCipherVersionError(version);
    throw new CiphertextTamperedError('token is malformed');
  }
  const [, keyId, ivText, ctText, tagText] = parts;
  if (parts.length !== 5 || keyId === undefined || ivText === undefined || ctText === undefined || tagText === undefined || keyId === '') {
    throw new CiphertextTamperedError('token is malformed');
  }
  const iv = fromB64url(ivText);
  const ciphertext = fromB64url(ctText);
  const tag = fromB64url(tagText);
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new CiphertextTamperedError('token is malformed');
  return { keyId, iv, ciphertext, tag };
}

function fullAad(version: string, keyId: string, aad: Aad): Buffer {
  return lengthPrefixed([version, keyId, aad]);
}

function assertKey(dataKey: DataKey): void {
  if (dataKey.key.length !== KEY_BYTES) throw new InvalidCipherInputError('a data key is 32 bytes');
}

function b64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/**
 * Strict base64url: Node's decoder silently skips unknown characters and ignores unused trailing
 * bits, so an altered token could decode to the same bytes. Only the canonical encoding is accepted.
 */
function fromB64url(text: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new CiphertextTamperedError('token is malformed');
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw new CiphertextTamperedError('token is malformed');
  return bytes;
}
