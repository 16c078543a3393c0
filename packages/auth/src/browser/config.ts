/** A browser-login setting that is missing or wrong; names the variable. */
export class BrowserLoginConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'BrowserLoginConfigError';
  }
}

/** Browser login (BFF) against one OIDC issuer, with server-side sessions. */
export interface BrowserLoginConfig {
  /** Issuer URL; its discovery document gives the endpoints. */
  readonly issuer: string;
  readonly clientId: string;
  /** Confidential client (client_secret_basic); without one the client is public and relies on PKCE. */
  readonly clientSecret?: string;
  /** The callback registered with the issuer, sent exactly (no query, no fragment). */
  readonly redirectUri: string;
  /** Space-separated scopes requested at login; always includes `openid`. */
  readonly scope: string;
  /** RFC 8707 resource indicator sent at login, for issuers that need it to pick the token audience. */
  readonly resource?: string;
  /** Where the issuer sends the browser after RP-initiated logout (must be registered there). */
  readonly postLogoutRedirectUri?: string;
  /** 32 bytes: keys the encryption of tokens at rest and the CSRF tokens (HKDF-derived, one key per use). */
  readonly sessionSecret: Buffer;
  /** A session unused this long is refused and deleted. */
  readonly idleTimeoutS: number;
  /** A session is refused and deleted this long after login, however active. */
  readonly absoluteLifetimeS: number;
  /** `Secure` cookies with the `__Host-` prefix (https); plain cookies for http dev setups. */
  readonly cookieSecure: boolean;
  /** How long a started login may take to come back to the callback. */
  readonly loginTimeoutS: number;
  /** The issuer is plain HTTP on a loopback address (the dev provider): allow insecure requests to it. */
  readonly allowInsecureIssuer: boolean;
}

export const SESSION_SECRET_ENV = 'FITLEDGER_SESSION_SECRET';
export const DEFAULT_IDLE_TIMEOUT_S = 30 * 60;
export const DEFAULT_ABSOLUTE_LIFETIME_S = 12 * 60 * 60;
export const DEFAULT_LOGIN_SCOPE = 'openid offline_access fitledger:read fitledger:write';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;

type Env = Readonly<Record<string, string | undefined>>;

function value(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

function required(env: Env, name: string, hint: string): string {
  const raw = value(env, name);
  if (raw === undefined) throw new BrowserLoginConfigError(name, `${name} is not set: ${hint}`);
  return raw;
}

function parseUrl(name: string, raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new BrowserLoginConfigError(name, `${name} is not a URL`);
  }
}

/** https, or http on a loopback address (dev setups: the dev provider, query-service on 127.0.0.1). */
function httpUrl(name: string, raw: string): URL {
  const url = parseUrl(name, raw);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return url;
  throw new BrowserLoginConfigError(name, `${name} must be an https URL (http only on a loopback address)`);
}

function seconds(env: Env, name: string, fallback: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const parsed = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(parsed) || parsed < 1) throw new BrowserLoginConfigError(name, `${name} must be a positive whole number of seconds`);
  return parsed;
}

/** `FITLEDGER_SESSION_SECRET`: base64 of 32 random bytes, the same shape as the master key. */
export function parseSessionSecret(raw: string | undefined): Buffer {
  if (raw === undefined || raw.trim() === '') throw new BrowserLoginConfigError(SESSION_SECRET_ENV, `${SESSION_SECRET_ENV} is not set: give base64 of 32 random bytes`);
  // Buffer.from(…, 'base64') skips characters it does not know, so check the shape first.
  if (!BASE64_32_BYTES.test(raw.trim())) throw new BrowserLoginConfigError(SESSION_SECRET_ENV, `${SESSION_SECRET_ENV} must be base64 of exactly 32 bytes (44 characters ending in "=")`);
  return Buffer.from(raw.trim(), 'base64');
}

/**
 * Browser login settings from the environment, or undefined when `OIDC_REDIRECT_URI` is not set
 * (browser login off: bearer tokens only). Reads OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET
 * (optional: public client with PKCE), OIDC_REDIRECT_URI, OIDC_SCOPES, OIDC_RESOURCE,
 * OIDC_POST_LOGOUT_REDIRECT_URI, FITLEDGER_SESSION_SECRET, SESSION_IDLE_TIMEOUT_S (default 1800),
 * SESSION_ABSOLUTE_LIFETIME_S (default 43200) and SESSION_COOKIE_SECURE (auto | true | false;
 * auto: Secure when the redirect URI is https). A wrong setting throws naming the variable.
 */
export function browserLoginConfigFromEnv(env: Env): BrowserLoginConfig | undefined {
  const rawRedirect = value(env, 'OIDC_REDIRECT_URI');
  if (rawRedirect === undefined) return undefined;
  const redirect = httpUrl('OIDC_REDIRECT_URI', rawRedirect);
  if (redirect.search !== '' || redirect.hash !== '') throw new BrowserLoginConfigError('OIDC_REDIRECT_URI', 'OIDC_REDIRECT_URI must have no query or fragment (it is compared exactly)');
  const rawIssuer = required(env, 'OIDC_ISSUER', 'give the OIDC issuer URL');
  const issuer = httpUrl('OIDC_ISSUER', rawIssuer);
  const clientId = required(env, 'OIDC_CLIENT_ID', 'give the client id registered with the issuer for the browser login');
  const clientSecret = value(env, 'OIDC_CLIENT_SECRET');

  const scope = value(env, 'OIDC_SCOPES') ?? DEFAULT_LOGIN_SCOPE;
  if (!scope.split(/\s+/).includes('openid')) throw new BrowserLoginConfigError('OIDC_SCOPES', 'OIDC_SCOPES must include openid');
  const resource = value(env, 'OIDC_RESOURCE');
  if (resource !== undefined) parseUrl('OIDC_RESOURCE', resource);
  const postLogout = value(env, 'OIDC_POST_LOGOUT_REDIRECT_URI');
  if (postLogout !== undefined) httpUrl('OIDC_POST_LOGOUT_REDIRECT_URI', postLogout);

  const sessionSecret = parseSessionSecret(env[SESSION_SECRET_ENV]);
  const idleTimeoutS = seconds(env, 'SESSION_IDLE_TIMEOUT_S', DEFAULT_IDLE_TIMEOUT_S);
  const absoluteLifetimeS = seconds(env, 'SESSION_ABSOLUTE_LIFETIME_S', DEFAULT_ABSOLUTE_LIFETIME_S);
  if (idleTimeoutS > absoluteLifetimeS) throw new BrowserLoginConfigError('SESSION_IDLE_TIMEOUT_S', 'SESSION_IDLE_TIMEOUT_S must not exceed SESSION_ABSOLUTE_LIFETIME_S');

  const secureSetting = value(env, 'SESSION_COOKIE_SECURE') ?? 'auto';
  if (!['auto', 'true', 'false'].includes(secureSetting)) throw new BrowserLoginConfigError('SESSION_COOKIE_SECURE', 'SESSION_COOKIE_SECURE must be auto, true or false');
  const cookieSecure = secureSetting === 'auto' ? redirect.protocol === 'https:' : secureSetting === 'true';

  return Object.freeze({
    issuer: rawIssuer,
    clientId,
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    redirectUri: rawRedirect,
    scope,
    ...(resource !== undefined ? { resource } : {}),
    ...(postLogout !== undefined ? { postLogoutRedirectUri: postLogout } : {}),
    sessionSecret,
    idleTimeoutS,
    absoluteLifetimeS,
    cookieSecure,
    loginTimeoutS: 10 * 60,
    allowInsecureIssuer: issuer.protocol === 'http:',
  });
}
