/**
 * The two cookies of the browser login, written and read here rather than through
 * @fastify/cookie: their values are base64url strings we generate (no encoding needed), and the
 * authenticate hook must read the session cookie in any scope, whether or not the plugin (whose
 * static parse/serialize work only once it is registered) was registered there.
 */

/** The session cookie and the short-lived cookie binding a started login to the browser that started it. */
export interface CookieNames {
  readonly session: string;
  readonly login: string;
}

/**
 * Over https the `__Host-` prefix (RFC 6265bis §4.1.3.2) makes the browser refuse the cookie unless
 * it is Secure, has Path=/ and no Domain: a sibling subdomain cannot set or shadow it.
 */
export function cookieNames(secure: boolean): CookieNames {
  return secure ? { session: '__Host-fitledger-session', login: '__Host-fitledger-login' } : { session: 'fitledger-session', login: 'fitledger-login' };
}

/**
 * Attributes of both cookies: HttpOnly (no script reads them), SameSite=Lax (sent on the top-level
 * redirect back from the issuer, not on cross-site POSTs), Path=/ and no Domain (host-only), Secure
 * over https. `maxAgeS` 0 deletes the cookie.
 */
export function cookieAttributes(secure: boolean, maxAgeS: number): string[] {
  return [`Max-Age=${maxAgeS}`, 'Path=/', 'HttpOnly', ...(secure ? ['Secure'] : []), 'SameSite=Lax'];
}

// RFC 6265 §4.1.1 cookie-octets, a subset of which (base64url) is all we ever write.
const COOKIE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

/** A `Set-Cookie` header value. */
export function setCookie(name: string, value: string, secure: boolean, maxAgeS: number): string {
  if (!COOKIE_VALUE.test(value)) throw new RangeError('cookie value outside RFC 6265 cookie-octets');
  return [`${name}=${value}`, ...cookieAttributes(secure, maxAgeS)].join('; ');
}

/** A `Set-Cookie` header value that deletes the cookie (Max-Age=0 and an expiry in the past). */
export function clearCookie(name: string, secure: boolean): string {
  return [`${name}=`, ...cookieAttributes(secure, 0), 'Expires=Thu, 01 Jan 1970 00:00:00 GMT'].join('; ');
}

/** The value of cookie `name` in a `Cookie` request header; undefined when absent or empty. The first one wins when repeated. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header === '') return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value === '' ? undefined : value;
  }
  return undefined;
}
