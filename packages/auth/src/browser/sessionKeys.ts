import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The keys a browser session needs, all derived from the one configured session secret with HKDF
 * (RFC 5869), one key per purpose, so a leaked CSRF key says nothing about the token key.
 */
export interface SessionKeys {
  /** AES-256-GCM encryption of a token at rest; `context` (row id and field) is authenticated, so ciphertexts cannot be moved between rows or fields. */
  seal(plaintext: string, context: string): Buffer;
  /** Throws when the ciphertext was changed, moved, or sealed under another secret. */
  open(ciphertext: Buffer, context: string): string;
  /** The CSRF token of a session: an HMAC of its cookie secret (a synchronizer token that needs no storage). */
  csrfToken(sessionSecret: string): string;
  /** Constant-time check of a presented CSRF token. */
  csrfTokenMatches(sessionSecret: string, presented: string | undefined): boolean;
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEAL_LABEL = 'fitledger/auth/token-at-rest/v1';
const CSRF_LABEL = 'fitledger/auth/csrf/v1';

function derive(secret: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
}

function aad(context: string): Buffer {
  return Buffer.from(`${SEAL_LABEL}\0${context}`, 'utf8');
}

export function deriveSessionKeys(secret: Buffer): SessionKeys {
  if (secret.length !== 32) throw new RangeError('the session secret is 32 bytes');
  const sealKey = derive(secret, SEAL_LABEL);
  const csrfKey = derive(secret, CSRF_LABEL);
  const csrfToken = (sessionSecret: string): string => createHmac('sha256', csrfKey).update(sessionSecret, 'utf8').digest('base64url');
  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv).setAAD(aad(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]);
    },
    open(ciphertext, context) {
      if (ciphertext.length < 1 + IV_BYTES + TAG_BYTES || ciphertext[0] !== VERSION) throw new Error('not a sealed session token');
      const iv = ciphertext.subarray(1, 1 + IV_BYTES);
      const tag = ciphertext.subarray(ciphertext.length - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', sealKey, iv).setAAD(aad(context)).setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext.subarray(1 + IV_BYTES, ciphertext.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    },
    csrfToken,
    csrfTokenMatches(sessionSecret, presented) {
      if (presented === undefined || presented === '') return false;
      const expected = Buffer.from(csrfToken(sessionSecret), 'utf8');
      const given = Buffer.from(presented, 'utf8');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

/** What the database keeps of a cookie secret or a login `state`: its SHA-256, so a read of the table yields nothing usable. */
export function secretHash(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** A fresh 256-bit secret for a session cookie. */
export function newSessionSecret(): string {
  return randomBytes(32).toString('base64url');
}
