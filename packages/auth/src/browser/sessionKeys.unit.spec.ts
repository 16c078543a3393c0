import { describe, expect, it } from 'vitest';
import { deriveSessionKeys, secretHash } from './sessionKeys';

const keys = deriveSessionKeys(Buffer.alloc(32, 1));

describe('session token encryption (AES-256-GCM)', () => {
  it('opens what it sealed in the same context', () => {
    const sealed = keys.seal('eyJhbGciOi.token', 'session:1:access');
    expect(sealed.toString('utf8')).not.toContain('eyJhbGciOi');
    expect(keys.open(sealed, 'session:1:access')).toBe('eyJhbGciOi.token');
  });

  it('uses a fresh IV each time', () => {
    expect(keys.seal('t', 'c').equals(keys.seal('t', 'c'))).toBe(false);
  });

  it('refuses a ciphertext moved to another row or field', () => {
    const sealed = keys.seal('refresh-token', 'session:1:refresh');
    expect(() => keys.open(sealed, 'session:2:refresh')).toThrow();
    expect(() => keys.open(sealed, 'session:1:access')).toThrow();
  });

  it('refuses a changed ciphertext and one sealed under another secret', () => {
    const sealed = keys.seal('token', 'c');
    const flipped = Buffer.from(sealed);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    expect(() => keys.open(flipped, 'c')).toThrow();
    expect(() => deriveSessionKeys(Buffer.alloc(32, 2)).open(sealed, 'c')).toThrow();
  });

  it('refuses a secret that is not 32 bytes', () => {
    expect(() => deriveSessionKeys(Buffer.alloc(16))).toThrow(RangeError);
  });
});

describe('CSRF tokens', () => {
  it('match their own session only', () => {
    const token = keys.csrfToken('session-secret-a');
    expect(keys.csrfTokenMatches('session-secret-a', token)).toBe(true);
    expect(keys.csrfTokenMatches('session-secret-b', token)).toBe(false);
    expect(keys.csrfTokenMatches('session-secret-a', undefined)).toBe(false);
    expect(keys.csrfTokenMatches('session-secret-a', '')).toBe(false);
    expect(keys.csrfTokenMatches('session-secret-a', `${token}x`)).toBe(false);
  });

  it('are not the session secret nor its stored hash', () => {
    const token = keys.csrfToken('session-secret-a');
    expect(token).not.toContain('session-secret-a');
    expect(token).not.toBe(secretHash('session-secret-a').toString('base64url'));
  });
});
