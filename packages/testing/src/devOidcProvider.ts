import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import Provider, { type Account, type InteractionDetails, type KoaContextWithOIDC, type TokenLike } from 'oidc-provider';
import * as oidcClient from 'openid-client';

/**
 * Dev OIDC provider: the real `oidc-provider` 8 on loopback HTTP with demo users, a public
 * authorization code + PKCE client, optional web (BFF) clients with rotating refresh tokens, token
 * revocation, RP-initiated logout and RFC 9068 JWT access tokens for the FitLedger API.
 * Development and tests only: plain HTTP, in-memory storage, a demo password.
 */

/** Every demo user logs in with this password (dev only; documented in the README). */
export const DEMO_PASSWORD = 'fitledger-demo';

/** The API's resource indicator (RFC 8707) and so the `aud` of every access token. */
export const DEFAULT_API_AUDIENCE = 'urn:fitledger:api';

/** The public SPA/CLI client: authorization code + PKCE (S256), no secret. */
export const DEV_CLIENT_ID = 'fitledger-dev';
/** Loopback redirect (RFC 8252 §7.3: any port is accepted for a native client's loopback URI). */
export const DEV_REDIRECT_URI = 'http://127.0.0.1/callback';

/** Scopes the API resource server defines; a token carries the ones the user consented to. */
export const API_SCOPES = ['fitledger:read', 'fitledger:write'] as const;

/** Human roles (ARCHITECTURE.md "Roles"); the fixture keeps its own list so it imports nothing it tests. */
export type DemoRole = 'client' | 'trainer' | 'org_admin' | 'auditor' | 'researcher' | 'platform_admin';

export interface DemoUser {
  readonly username: string;
  /** Opaque, stable subject id (a UUID), never an email or a name. */
  readonly sub: string;
  readonly role: DemoRole;
  readonly tenantId: string;
  /** Authentication methods (RFC 8176) the account's login stands for; `otp` marks an MFA account. */
  readonly amr: readonly string[];
  readonly name: string;
}

/** The demo gym every demo user belongs to. */
export const DEMO_TENANT_ID = '3f1e2d4c-5b6a-4798-8c0b-1a2b3c4d5e6f';

export const DEMO_USERS = {
  alice: { username: 'alice', sub: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61', role: 'client', tenantId: DEMO_TENANT_ID, amr: ['pwd'], name: 'Alice (demo client)' },
  bob: { username: 'bob', sub: '5d2e9c71-3a48-4f6b-8e0d-7c9b1a2f3e84', role: 'client', tenantId: DEMO_TENANT_ID, amr: ['pwd'], name: 'Bob (demo client)' },
  coach: { username: 'coach', sub: '9a7c3e15-2b6d-4c89-b1f0-4e5d6a7b8c92', role: 'trainer', tenantId: DEMO_TENANT_ID, amr: ['pwd', 'otp'], name: 'Coach (demo trainer)' },
  // A trainer who logs in with a password only: privileged roles need MFA, so this one is refused.
  'coach-nomfa': { username: 'coach-nomfa', sub: '75f98827-3652-4f5c-986d-65a9ccbb3d3e', role: 'trainer', tenantId: DEMO_TENANT_ID, amr: ['pwd'], name: 'Coach without MFA (demo trainer)' },
  'org-admin': { username: 'org-admin', sub: 'd49da064-cdf9-45fd-979b-589c9869b68d', role: 'org_admin', tenantId: DEMO_TENANT_ID, amr: ['pwd', 'otp'], name: 'Org admin (demo)' },
  auditor: { username: 'auditor', sub: '93e9cd6e-3776-4f40-bff7-270356752cf8', role: 'auditor', tenantId: DEMO_TENANT_ID, amr: ['pwd', 'otp'], name: 'Auditor (demo)' },
  researcher: { username: 'researcher', sub: '64b4d885-64b7-427d-bcd4-94cb77d5e0a8', role: 'researcher', tenantId: DEMO_TENANT_ID, amr: ['pwd', 'otp'], name: 'Researcher (demo)' },
  'platform-admin': { username: 'platform-admin', sub: '34ab1921-1fc8-4c21-adb2-f15b48762cd2', role: 'platform_admin', tenantId: DEMO_TENANT_ID, amr: ['pwd', 'hwk'], name: 'Platform admin (demo)' },
} as const satisfies Record<string, DemoUser>;

export type DemoUsername = keyof typeof DEMO_USERS;

/** The client id `npm start` registers for query-service's browser login (BFF). */
export const DEV_WEB_CLIENT_ID = 'fitledger-web';

/**
 * A web (BFF) client: authorization code + PKCE with refresh tokens, rotated at every use.
 * Confidential (client_secret_basic) with a secret, public (PKCE only) without.
 */
export interface DevWebClient {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
}

export interface StartDevOidcProviderOptions {
  /** 0 (default) picks a free port. A fixed port keeps the issuer stable across restarts. */
  readonly port?: number;
  readonly issuerHost?: string;
  /** Resource indicator of the API; the `aud` of access tokens. */
  readonly audience?: string;
  /** A private RSA JWK to sign with; wins over `keyFile`. */
  readonly signingKey?: JWK;
  /**
   * File holding the private signing JWK: read if present, otherwise generated and written (0600),
   * so `npm start` keeps tokens valid across restarts.
   */
  readonly keyFile?: string;
  readonly accessTokenTtlS?: number;
  /** Web clients to register besides the public dev client (their exact redirect URIs). */
  readonly webClients?: readonly DevWebClient[];
}

export interface DevOidcProvider {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience: string;
  readonly port: number;
  readonly users: typeof DEMO_USERS;
  /** The provider's private signing key (dev only), so negative tests can sign with a trusted key. */
  readonly signingKey: JWK;
  /** Claims of an access token the provider would issue for `username`, for hand-made test tokens. */
  accessTokenClaims(username: DemoUsername): JWTPayload;
  close(): Promise<void>;
}

function findUser(username: string): DemoUser | undefined {
  return Object.values(DEMO_USERS).find((u) => u.username === username);
}

function findUserBySub(sub: string): DemoUser | undefined {
  return Object.values(DEMO_USERS).find((u) => u.sub === sub);
}

/** A fresh RS256 key pair as a private JWK with `kid` (RFC 7638 thumbprint), `alg` and `use`. */
export async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' };
}

async function loadOrCreateKey(keyFile: string): Promise<JWK> {
  try {
    const jwk = JSON.parse(await readFile(keyFile, 'utf8')) as JWK;
    if (jwk.kty !== 'RSA' || typeof jwk.d !== 'string') throw new Error(`${keyFile} does not hold a private RSA JWK`);
    return { ...jwk, kid: jwk.kid ?? (await calculateJwkThumbprint(jwk)), alg: 'RS256', use: 'sig' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const jwk = await generateSigningKey();
    await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
    await writeFile(keyFile, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
    return jwk;
  }
}

/** The public half of an RSA JWK (what a JWKS publishes). */
export function publicJwk(jwk: JWK): JWK {
  const { kty, n, e, kid, alg, use } = jwk;
  return { kty, n, e, kid, alg, use };
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function loginPage(uid: string, error?: string): string {
  const u = escapeHtml(uid);
  return page(
    'FitLedger dev sign-in',
    `${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${u}/login" data-prompt="login">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
<p>Demo users: ${escapeHtml(Object.values(DEMO_USERS).map((u) => `${u.username} (${u.role}${u.amr.length > 1 ? ', MFA' : ''})`).join(', '))}; password <code>${escapeHtml(DEMO_PASSWORD)}</code>.</p>`,
  );
}

function consentPage(uid: string, details: InteractionDetails): string {
  const u = escapeHtml(uid);
  const requested = [
    ...((details.prompt.details['missingOIDCScope'] as string[] | undefined) ?? []),
    ...Object.values((details.prompt.details['missingResourceScopes'] as Record<string, string[]> | undefined) ?? {}).flat(),
  ];
  return page(
    'FitLedger dev consent',
    `<p>The application <code>${escapeHtml(String(details.params['client_id']))}</code> asks for:</p>
<ul>${requested.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
<form method="post" action="/interaction/${u}/confirm" data-prompt="consent"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${u}/abort" data-prompt="abort"><button type="submit">Deny</button></form>`,
  );
}

const MAX_FORM_BYTES = 16 * 1024;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; form-action 'self'",
  });
  res.end(html);
}

/** Login and consent interactions (a plain HTML form POST each), in place of devInteractions. */
async function handleInteraction(provider: Provider, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(pathname);
  if (!match) return send(res, 404, page('Not found', ''));
  const [, uid = '', action] = match;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Interaction mismatch', ''));

  if (req.method === 'GET' && action === undefined) {
    if (details.prompt.name === 'login') return send(res, 200, loginPage(uid));
    if (details.prompt.name === 'consent') return send(res, 200, consentPage(uid, details));
    return send(res, 400, page('Unsupported prompt', ''));
  }
  if (req.method !== 'POST') return send(res, 405, page('Method not allowed', ''));

  if (action === 'login') {
    if (details.prompt.name !== 'login') return send(res, 400, page('Not a login prompt', ''));
    const form = await readForm(req);
    const user = findUser(form.get('username') ?? '');
    // One message for an unknown user and a wrong password: no account enumeration.
    if (!user || form.get('password') !== DEMO_PASSWORD) return send(res, 401, loginPage(uid, 'Unknown user or wrong password.'));
    return provider.interactionFinished(req, res, { login: { accountId: user.sub, amr: [...user.amr] } }, { mergeWithLastSubmission: false });
  }

  if (action === 'confirm') {
    if (details.prompt.name !== 'consent') return send(res, 400, page('Not a consent prompt', ''));
    const accountId = details.session?.accountId;
    const clientId = details.params['client_id'];
    if (!accountId || typeof clientId !== 'string') return send(res, 400, page('No session', ''));
    const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
    const d = details.prompt.details;
    const missingScope = d['missingOIDCScope'] as string[] | undefined;
    if (missingScope) grant.addOIDCScope(missingScope.join(' '));
    const missingClaims = d['missingOIDCClaims'] as string[] | undefined;
    if (missingClaims) grant.addOIDCClaims(missingClaims);
    const missingResourceScopes = d['missingResourceScopes'] as Record<string, string[]> | undefined;
    for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  if (action === 'abort') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User denied the request' }, { mergeWithLastSubmission: false });
  }
  return send(res, 404, page('Not found', ''));
}

function webClientMetadata(client: DevWebClient): Record<string, unknown> {
  return {
    client_id: client.clientId,
    ...(client.clientSecret ? { client_secret: client.clientSecret, token_endpoint_auth_method: 'client_secret_basic' } : { token_endpoint_auth_method: 'none' }),
    application_type: 'web',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [...client.redirectUris],
    post_logout_redirect_uris: [...(client.postLogoutRedirectUris ?? [])],
  };
}

/** Session-bound lifetime of a web client's login at the provider (matches the BFF's default absolute session lifetime). */
const WEB_LOGIN_TTL_S = 12 * 60 * 60;

function buildProvider(issuer: string, audience: string, signingKey: JWK, accessTokenTtlS: number, webClients: readonly DevWebClient[]): Provider {
  const apiScopes = API_SCOPES.join(' ');
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: DEV_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [DEV_REDIRECT_URI],
      },
      ...webClients.map(webClientMetadata),
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { methods: ['S256'], required: () => true },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
    scopes: ['openid', 'profile', ...API_SCOPES],
    // Refresh tokens for every client allowed the grant (the web clients), without offline_access:
    // they live as long as the provider session (a BFF session, not offline access). Every use
    // rotates the token; replaying a used one revokes the whole grant (oidc-provider's reuse detection).
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== audience) throw new Error(`unknown resource ${resource}`);
          return { scope: apiScopes, audience, accessTokenTTL: accessTokenTtlS, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, id: string): Account | undefined => {
      const user = findUserBySub(id);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        claims: () => ({ sub: user.sub, name: user.name, preferred_username: user.username, role: user.role, tenant_id: user.tenantId, amr: [...user.amr] }),
      };
    },
    // FitLedger claims in every access token (RFC 9068 §2.2.3.1 allows roles; amr per §2.2.1).
    extraTokenClaims: (ctx: KoaContextWithOIDC, token: TokenLike) => {
      const user = token.accountId ? findUserBySub(token.accountId) : undefined;
      if (!user) return undefined;
      // The login's amr travels from the code to the refresh token and on to each rotated one.
      const grant = (ctx.oidc.entities['AuthorizationCode'] ?? ctx.oidc.entities['RefreshToken']) as { amr?: string[] } | undefined;
      return { role: user.role, tenant_id: user.tenantId, amr: grant?.amr ?? [...user.amr] };
    },
    ttl: { AccessToken: accessTokenTtlS, AuthorizationCode: 60, IdToken: 900, Interaction: 600, Session: WEB_LOGIN_TTL_S, Grant: WEB_LOGIN_TTL_S, RefreshToken: WEB_LOGIN_TTL_S },
    clientBasedCORS: () => true,
    renderError: (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<pre>${escapeHtml(JSON.stringify(out, null, 2))}</pre>`);
    },
  });
  provider.on('server_error', (_ctx: unknown, error: unknown) => {
    console.error('dev OIDC provider server_error', error);
  });
  return provider;
}

/** Start the dev OIDC provider on loopback HTTP. */
export async function startDevOidcProvider(options: StartDevOidcProviderOptions = {}): Promise<DevOidcProvider> {
  const issuerHost = options.issuerHost ?? '127.0.0.1';
  const audience = options.audience ?? DEFAULT_API_AUDIENCE;
  const accessTokenTtlS = options.accessTokenTtlS ?? 15 * 60;
  const signingKey = options.signingKey ?? (options.keyFile ? await loadOrCreateKey(options.keyFile) : await generateSigningKey());
  if (!signingKey.kid) throw new Error('signing key needs a kid');

  // The issuer names the bound port, so the provider is built after listen; requests before that get 503.
  const bound: { provider?: Provider; callback?: (req: IncomingMessage, res: ServerResponse) => void } = {};

  const server: Server = createServer((req, res) => {
    const { provider, callback } = bound;
    if (!provider || !callback) {
      res.writeHead(503).end();
      return;
    }
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname.startsWith('/interaction/')) {
      handleInteraction(provider, req, res, pathname).catch((error: unknown) => {
        if (!res.headersSent) send(res, 400, page('Interaction failed', `<p>${escapeHtml(error instanceof Error ? error.message : 'error')}</p>`));
        else res.end();
      });
      return;
    }
    callback(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, issuerHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('dev OIDC provider did not bind');
  const port = address.port;
  const issuer = `http://${issuerHost}:${port}`;
  bound.provider = buildProvider(issuer, audience, signingKey, accessTokenTtlS, options.webClients ?? []);
  bound.callback = bound.provider.callback();

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    audience,
    port,
    users: DEMO_USERS,
    signingKey,
    accessTokenClaims(username) {
      const user = DEMO_USERS[username];
      const now = Math.floor(Date.now() / 1000);
      return {
        iss: issuer,
        aud: audience,
        sub: user.sub,
        client_id: DEV_CLIENT_ID,
        scope: API_SCOPES.join(' '),
        role: user.role,
        tenant_id: user.tenantId,
        amr: [...user.amr],
        jti: randomUUID(),
        iat: now,
        exp: now + accessTokenTtlS,
      };
    },
    async close() {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Client side: a real authorization code + PKCE flow over HTTP, as a browser would run it.

export interface DevTokenOptions {
  readonly scope?: string;
  readonly clientId?: string;
  readonly redirectUri?: string;
}

export interface DevTokenSet {
  readonly accessToken: string;
  readonly idToken: string | undefined;
  readonly expiresInS: number | undefined;
}

/** Minimal cookie jar: one host, names only (the provider's cookies never collide across paths). */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => {
        const [k = '', v = ''] = a.trim().split('=');
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** Run the authorization code + PKCE flow for a demo user and return the token response. */
export async function getDevTokenSet(issuer: string, username: string, password: string = DEMO_PASSWORD, options: DevTokenOptions = {}): Promise<DevTokenSet> {
  const redirectUri = options.redirectUri ?? DEV_REDIRECT_URI;
  const issuerUrl = new URL(issuer);
  const execute = issuerUrl.protocol === 'http:' ? [oidcClient.allowInsecureRequests] : [];
  const config = await oidcClient.discovery(issuerUrl, options.clientId ?? DEV_CLIENT_ID, undefined, oidcClient.None(), { execute });
  const pkceCodeVerifier = oidcClient.randomPKCECodeVerifier();
  const state = oidcClient.randomState();
  const url = oidcClient.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: options.scope ?? `openid profile ${API_SCOPES.join(' ')}`,
    code_challenge: await oidcClient.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
  });

  const callback = await driveDevLogin(url, username, password, redirectUri);
  const tokens = await oidcClient.authorizationCodeGrant(config, callback, { pkceCodeVerifier, expectedState: state });
  return { accessToken: tokens.access_token, idToken: tokens.id_token, expiresInS: tokens.expires_in };
}

/**
 * Play the browser's part from an authorization request to the redirect back to the client: follow
 * the provider's redirects, fill in the login form for `username` and allow the consent. Returns
 * the URL the provider redirects to (starting with `redirectUri`, carrying `code` and `state`, or
 * `error`), without requesting it. Throws when the login is rejected.
 */
export async function driveDevLogin(authorizationUrl: URL | string, username: string, password: string = DEMO_PASSWORD, redirectUri: string = DEV_REDIRECT_URI): Promise<URL> {
  let url = new URL(authorizationUrl);
  const jar = new CookieJar();
  let init: RequestInit = { method: 'GET' };
  for (let step = 0; step < 20; step++) {
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header() } });
    jar.store(response);
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (!location) throw new Error('redirect without location');
      url = new URL(location, url);
      if (url.href.startsWith(redirectUri)) return url;
      init = { method: 'GET' };
      continue;
    }
    const html = await response.text();
    if (response.status === 401) throw new Error(`dev login rejected for user "${username}"`);
    if (response.status !== 200) throw new Error(`dev OIDC flow: unexpected ${response.status} at ${url.pathname}`);
    const form = /<form method="post" action="([^"]+)" data-prompt="(login|consent)">/.exec(html);
    if (!form) throw new Error(`dev OIDC flow: no form at ${url.pathname}`);
    const [, action = '', prompt] = form;
    url = new URL(action.replaceAll('&amp;', '&'), url);
    const body = prompt === 'login' ? new URLSearchParams({ username, password }) : new URLSearchParams();
    init = { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  throw new Error('dev OIDC flow: too many steps');
}

/** A real access token for a demo user, through authorization code + PKCE (used by `npm run token`, e2e tests, benchmarks). */
export async function getDevToken(issuer: string, username: string, password: string = DEMO_PASSWORD, options: DevTokenOptions = {}): Promise<string> {
  return (await getDevTokenSet(issuer, username, password, options)).accessToken;
}

// ---------------------------------------------------------------------------------------------
// Hand-made tokens for negative tests.

export interface SignTestTokenOptions {
  /** Private JWK to sign with; default: a process-wide key that no issuer publishes. */
  readonly privateKey?: JWK;
  /** `kid` header; default: the key's `kid`. `null` omits it. */
  readonly kid?: string | null;
  /** `typ` header; default `at+jwt`. `null` omits it. */
  readonly typ?: string | null;
  /** Only RS-family algorithms: alg confusion tokens are built by hand in the tests. */
  readonly alg?: 'RS256' | 'RS384' | 'RS512' | 'PS256';
}

let otherKey: Promise<JWK> | undefined;

/** The key `signTestToken` uses by default: an RSA key no provider trusts. */
export function untrustedSigningKey(): Promise<JWK> {
  otherKey ??= generateSigningKey();
  return otherKey;
}

/** Sign `claims` verbatim (no defaults added), for expired / wrong-key / wrong-aud / wrong-typ tokens. */
export async function signTestToken(claims: JWTPayload, options: SignTestTokenOptions = {}): Promise<string> {
  const jwk = options.privateKey ?? (await untrustedSigningKey());
  const alg = options.alg ?? 'RS256';
  const key = await importJWK({ ...jwk, alg }, alg);
  const kid = options.kid === undefined ? jwk.kid : options.kid;
  const typ = options.typ === undefined ? 'at+jwt' : options.typ;
  return new SignJWT(claims)
    .setProtectedHeader({ alg, ...(kid === null || kid === undefined ? {} : { kid }), ...(typ === null ? {} : { typ }) })
    .sign(key);
}

