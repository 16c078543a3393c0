import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bearerToken } from './bearerToken';
import { AuthenticationError } from './errors';

function codeOf(header: string | readonly string[] | undefined): string {
  try {
    bearerToken(header);
  } catch (error) {
    if (error instanceof AuthenticationError) return error.code;
    throw error;
  }
  return 'OK';
}

describe('bearerToken (RFC 6750 §2.1)', () => {
  it('returns the token of a Bearer header', () => {
    expect(bearerToken('Bearer abc.DEF-ghi_jkl~mno+pqr/stu==')).toBe('abc.DEF-ghi_jkl~mno+pqr/stu==');
  });

  it('matches the scheme name case-insensitively', () => {
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('BEARER abc')).toBe('abc');
    expect(bearerToken('bEaReR abc')).toBe('abc');
  });

  it('accepts more than one space between scheme and token (1*SP)', () => {
    expect(bearerToken('Bearer   abc')).toBe('abc');
  });

  it('reports a missing header as TOKEN_MISSING', () => {
    expect(codeOf(undefined)).toBe('TOKEN_MISSING');
    expect(codeOf('')).toBe('TOKEN_MISSING');
    expect(codeOf('   ')).toBe('TOKEN_MISSING');
  });

  it('reports another scheme as TOKEN_MISSING, not as a bad token', () => {
    expect(codeOf('Basic YWxpY2U6c2VjcmV0')).toBe('TOKEN_MISSING');
    expect(codeOf('DPoP abc')).toBe('TOKEN_MISSING');
    expect(codeOf('Bearerabc')).toBe('TOKEN_MISSING');
    expect(codeOf('abc.def.ghi')).toBe('TOKEN_MISSING');
  });

  it('rejects a Bearer header without a token as TOKEN_MALFORMED', () => {
    expect(codeOf('Bearer')).toBe('TOKEN_MALFORMED');
    expect(codeOf('Bearer ')).toBe('TOKEN_MALFORMED');
  });

  it('rejects more than one token as TOKEN_MALFORMED', () => {
    expect(codeOf('Bearer abc def')).toBe('TOKEN_MALFORMED');
    expect(codeOf('Bearer abc, Bearer def')).toBe('TOKEN_MALFORMED');
  });

  it('rejects characters outside the b64token charset as TOKEN_MALFORMED', () => {
    for (const token of ['a"b', 'a,b', 'a;b', 'a\tb', 'a\\b', 'ä', 'a%20b', '=abc', 'ab=c']) {
      expect(codeOf(`Bearer ${token}`), token).toBe('TOKEN_MALFORMED');
    }
  });

  it('rejects a tab as the separator (1*SP means spaces only)', () => {
    expect(codeOf('Bearer\tabc')).toBe('TOKEN_MISSING');
  });

  it('rejects repeated Authorization headers as TOKEN_MALFORMED', () => {
    expect(codeOf(['Bearer abc', 'Bearer def'])).toBe('TOKEN_MALFORMED');
  });

  it('returns every b64token unchanged, whatever the scheme case', () => {
    const b64char = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/');
    const b64token = fc
      .tuple(fc.array(b64char, { minLength: 1, maxLength: 200 }), fc.nat({ max: 3 }))
      .map(([chars, pad]) => chars.join('') + '='.repeat(pad));
    const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'BeArEr');
    fc.assert(fc.property(scheme, b64token, (s, token) => bearerToken(`${s} ${token}`) === token));
  });

  it('never puts the offered credentials into the error message (it does not depend on them)', () => {
    const messageOf = (header: string): string | undefined => {
      try {
        bearerToken(header);
      } catch (error) {
        return (error as Error).message;
      }
      return undefined;
    };
    const reference = messageOf('Bearer a b');
    fc.assert(fc.property(fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''), (junk) => messageOf(`Bearer x ${junk}`) === reference));
  });
});
