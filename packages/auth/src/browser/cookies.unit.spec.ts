import { describe, expect, it } from 'vitest';
import { clearCookie, cookieNames, readCookie, setCookie } from './cookies';

describe('session cookie options', () => {
  it('over https: __Host- prefix, Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain', () => {
    const names = cookieNames(true);
    expect(names).toEqual({ session: '__Host-fitledger-session', login: '__Host-fitledger-login' });
    expect(setCookie(names.session, 'abc_-123', true, 43_200)).toBe('__Host-fitledger-session=abc_-123; Max-Age=43200; Path=/; HttpOnly; Secure; SameSite=Lax');
  });

  it('over plain http (dev): no prefix and no Secure, still HttpOnly and SameSite=Lax', () => {
    const names = cookieNames(false);
    expect(names).toEqual({ session: 'fitledger-session', login: 'fitledger-login' });
    expect(setCookie(names.login, 'state', false, 600)).toBe('fitledger-login=state; Max-Age=600; Path=/; HttpOnly; SameSite=Lax');
  });

  it('deletes with an empty value, Max-Age=0 and a past expiry, keeping the attributes the prefix needs', () => {
    expect(clearCookie('__Host-fitledger-session', true)).toBe('__Host-fitledger-session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  });

  it('refuses a value outside the RFC 6265 cookie-octets (no header injection)', () => {
    expect(() => setCookie('fitledger-session', 'a;b', false, 1)).toThrow(RangeError);
    expect(() => setCookie('fitledger-session', 'a\r\nSet-Cookie: x=y', false, 1)).toThrow(RangeError);
  });
});

describe('readCookie', () => {
  it('finds the named cookie among others', () => {
    expect(readCookie('a=1; fitledger-session=s3cr3t; b=2', 'fitledger-session')).toBe('s3cr3t');
  });

  it('does not match a cookie whose name only ends with the name', () => {
    expect(readCookie('x-fitledger-session=evil', 'fitledger-session')).toBeUndefined();
  });

  it('is undefined for no header, an absent cookie and an empty value', () => {
    expect(readCookie(undefined, 'a')).toBeUndefined();
    expect(readCookie('b=1', 'a')).toBeUndefined();
    expect(readCookie('a=; b=1', 'a')).toBeUndefined();
  });
});
