import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CiphertextTamperedError,
  CryptoError,
  InvalidCipherInputError,
  UnsupportedCipherVersionError,
  WrongKeyError,
} from './errors';
import { decryptJson, encryptJson, tokenKeyId } from './fieldCipher';
import type { JsonValue } from './json';
import type { DataKey } from './keyStore';
import { lengthPrefixed } from './lengthPrefix';

function newKey(subjectId = 'subject-1'): DataKey {
  return { subjectId, keyId: randomUUID(), key: randomBytes(32) };
}

// fast-check types object members as optional; the values it generates have none undefined.
const jsonValue = fc.jsonValue() as fc.Arbitrary<JsonValue>;

const IV = 2;
const CIPHERTEXT = 3;
const TAG = 4;

/** Flips one bit in the decoded bytes of one token part and re-encodes it canonically. */
function flipBit(token: string, part: number, byte = 0): string {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[part] ?? '', 'base64url');
  bytes[byte] = (bytes[byte] ?? 0) ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('field cipher', () => {
  const key = newKey();
  const aad = 'subject-1|SetLogged|1';

  it('round-trips every JSON value (as JSON carries it: -0 comes back as 0)', () => {
    fc.assert(
      fc.property(jsonValue, fc.string(), (value, context) => {
        expect(decryptJson(encryptJson(value, key, context), key, context)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('round-trips with binary associated data', () => {
    const binaryAad = randomBytes(20);
    expect(decryptJson(encryptJson({ a: [1, 'b'] }, key, binaryAad), key, binaryAad)).toEqual({ a: [1, 'b'] });
  });

  it('writes a self-describing token: version, key id, iv, ciphertext, tag', () => {
    const token = encryptJson({ weightKg: 80 }, key, aad);
    const parts = token.split('.');
    expect(parts).toHaveLength(5);
    expect(parts[0]).toBe('fl1');
    expect(parts[1]).toBe(key.keyId);
    expect(Buffer.from(parts[IV] ?? '', 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[TAG] ?? '', 'base64url')).toHaveLength(16);
    expect(tokenKeyId(token)).toBe(key.keyId);
  });

  it('uses a fresh random IV, so the same value never encrypts to the same token', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => encryptJson('same', key, aad)));
    expect(tokens.size).toBe(50);
  });

  it.each([
    ['iv', IV],
    ['ciphertext', CIPHERTEXT],
    ['tag', TAG],
  ])('rejects a token whose %s was altered as tampered', (_name, part) => {
    const token = encryptJson({ note: 'knee pain' }, key, aad);
    expect(() => decryptJson(flipBit(token, part), key, aad)).toThrow(CiphertextTamperedError);
  });

  it('rejects any single-character change to a token with a typed error', () => {
    const token = encryptJson({ note: 'knee pain', hr: [61, 62] }, key, aad);
    fc.assert(
      fc.property(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...'abcXYZ019-_.=+/'.split('')),
        (index, replacement) => {
          fc.pre(token[index] !== replacement);
          const altered = token.slice(0, index) + replacement + token.slice(index + 1);
          expect(() => decryptJson(altered, key, aad)).toThrow(CryptoError);
        },
      ),
    );
  });

  it('rejects a token decrypted with other associated data as tampered', () => {
    const token = encryptJson({ note: 'knee pain' }, key, 'subject-1|SetLogged|1');
    expect(() => decryptJson(token, key, 'subject-2|SetLogged|1')).toThrow(CiphertextTamperedError);
  });

  it("rejects a token encrypted under another subject's key as the wrong key", () => {
    const other = newKey('subject-2');
    const token = encryptJson({ note: 'knee pain' }, key, aad);
    const error = thrown(() => decryptJson(token, other, aad));
    expect(error).toBeInstanceOf(WrongKeyError);
    expect(error).toMatchObject({ code: 'WRONG_KEY', tokenKeyId: key.keyId, givenKeyId: other.keyId });
  });

  it('rejects a key that claims the right key id but holds other bytes as tampered', () => {
    const impostor: DataKey = { ...key, key: randomBytes(32) };
    const token = encryptJson({ note: 'knee pain' }, key, aad);
    expect(() => decryptJson(token, impostor, aad)).toThrow(CiphertextTamperedError);
  });

  it('rejects a key id swapped in the token even when the key matches the new id', () => {
    const token = encryptJson({ note: 'knee pain' }, key, aad);
    const relabelled: DataKey = { ...key, keyId: randomUUID() };
    const swapped = token.replace(key.keyId, relabelled.keyId);
    expect(() => decryptJson(swapped, relabelled, aad)).toThrow(CiphertextTamperedError);
  });

  it('rejects an unknown algorithm version with a typed error', () => {
    const token = encryptJson({ note: 'knee pain' }, key, aad).replace(/^fl1\./, 'fl2.');
    const error = thrown(() => decryptJson(token, key, aad));
    expect(error).toBeInstanceOf(UnsupportedCipherVersionError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_CIPHER_VERSION', version: 'fl2' });
  });

  it.each([
    ['an empty string', ''],
    ['plain text', 'knee pain'],
    ['too few parts', 'fl1.abc.def'],
    ['too many parts', 'fl1.k.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA.x'],
    ['an empty key id', 'fl1..AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['a short iv', 'fl1.k.AAAA.AA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['a truncated tag', 'fl1.k.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAA'],
    ['non-base64url characters', 'fl1.k.AAAAAAAAAAAAAAA+.AA.AAAAAAAAAAAAAAAAAAAAAA'],
  ])('rejects a malformed token (%s) as tampered', (_name, token) => {
    expect(() => decryptJson(token, { ...key, keyId: 'k' }, aad)).toThrow(CiphertextTamperedError);
  });

  it('rejects a tag that decodes to the same bytes but is not canonically encoded', () => {
    const token = encryptJson({ note: 'knee pain' }, key, aad);
    const parts = token.split('.');
    const tag = parts[TAG] ?? '';
    // 16 bytes = 22 base64url characters; the last one carries 4 unused bits.
    const last = tag.at(-1) ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 0x01] ?? 'A';
    parts[TAG] = tag.slice(0, -1) + sibling;
    expect(Buffer.from(parts[TAG], 'base64url').equals(Buffer.from(tag, 'base64url'))).toBe(true);
    expect(() => decryptJson(parts.join('.'), key, aad)).toThrow(CiphertextTamperedError);
  });

  it('puts neither plaintext nor key material in error messages', () => {
    const secret = 'diagnosis: stress fracture';
    const token = encryptJson({ secret }, key, aad);
    const failures = [
      thrown(() => decryptJson(flipBit(token, CIPHERTEXT), key, aad)),
      thrown(() => decryptJson(token, newKey(), aad)),
      thrown(() => decryptJson(token, { ...key, key: randomBytes(32) }, aad)),
      thrown(() => decryptJson(token.replace(/^fl1/, 'fl9'), key, aad)),
    ];
    for (const error of failures) {
      const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack ?? ''}`;
      expect(text).not.toContain('stress fracture');
      expect(text).not.toContain(key.key.toString('hex'));
      expect(text).not.toContain(key.key.toString('base64'));
      expect(text).not.toContain(key.key.toString('base64url'));
    }
  });

  it('refuses a data key that is not 32 bytes', () => {
    expect(() => encryptJson(1, { ...key, key: randomBytes(16) }, aad)).toThrow(InvalidCipherInputError);
  });
});

describe('field cipher payload checks', () => {
  it('reports an authentic payload that is not JSON as tampered, without quoting it', () => {
    // Only a key holder can produce this; built with node:crypto directly, as a foreign writer would.
    const key = newKey();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.key, iv);
    cipher.setAAD(lengthPrefixed(['fl1', key.keyId, 'ctx']));
    const ciphertext = Buffer.concat([cipher.update('knee pain', 'utf8'), cipher.final()]);
    const token = ['fl1', key.keyId, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    const error = thrown(() => decryptJson(token, key, 'ctx'));
    expect(error).toBeInstanceOf(CiphertextTamperedError);
    expect(String(error)).not.toContain('knee');
  });
});
