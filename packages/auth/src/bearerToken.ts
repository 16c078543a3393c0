import { AuthenticationError } from './errors';

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; b64token = 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"=". The scheme name is case-insensitive (RFC 9110 §11.1).
const SCHEME = /^bearer(?: +|$)/i;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The bearer token of an `Authorization` header value.
 * Throws TOKEN_MISSING when there is no header or another scheme (Basic, DPoP, ...), and
 * TOKEN_MALFORMED when a Bearer header does not hold exactly one b64token.
 */
export function bearerToken(authorization: string | readonly string[] | undefined): string {
  if (authorization === undefined) throw new AuthenticationError('TOKEN_MISSING', 'the request carries no bearer token');
  if (typeof authorization !== 'string') throw new AuthenticationError('TOKEN_MALFORMED', 'more than one Authorization header');
  // HTTP field values carry no leading or trailing whitespace (RFC 9110 §5.5); tolerate it anyway.
  const value = authorization.trim();
  if (value === '') throw new AuthenticationError('TOKEN_MISSING', 'the request carries no bearer token');
  const scheme = SCHEME.exec(value);
  if (!scheme) throw new AuthenticationError('TOKEN_MISSING', 'the Authorization header does not use the Bearer scheme');
  const token = value.slice(scheme[0].length);
  if (token === '') throw new AuthenticationError('TOKEN_MALFORMED', 'the Bearer credentials are empty');
  if (!B64TOKEN.test(token)) throw new AuthenticationError('TOKEN_MALFORMED', 'the Bearer credentials are not a single b64token');
  return token;
}
