import { randomBytes } from 'node:crypto';
import { testDatabase } from '@fitledger/testing/vitest';
import { DEMO_PASSWORD, driveDevLogin, getDevToken, startDevOidcProvider, type DevOidcProvider, type DemoUsername } from '@fitledger/testing/oidc';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import * as oidc from 'openid-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, requireIdentity } from '../authenticate';
import { DEFAULT_MFA_POLICY } from '../mfaPolicy';
import { createTokenVerifier, type TokenVerifier } from '../tokenVerifier';
import { createBrowserLogin, type BrowserLogin } from './browserLogin';
import { browserLoginRoutes } from './browserLoginRoutes';
import { browserLoginConfigFromEnv, type BrowserLoginConfig } from './config';
import { migrateAuthSchema } from './migrations';
import { deriveSessionKeys } from './sessionKeys';

// The BFF is driven with inject(): the issuer never calls it, the browser (this test) carries the
// redirect back, so the registered callback only has to be the exact string.
const ORIGIN = 'http://127.0.0.1:39999';
const REDIRECT_URI = `${ORIGIN}/auth/callback`;
const PUBLIC_CLIENT = 'fitledger-web';
const CONFIDENTIAL_CLIENT = 'fitledger-web-confidential';
const CONFIDENTIAL_SECRET = randomBytes(24).toString('base64url');
const SESSION_SECRET = randomBytes(32);
const MINUTE_MS = 60_000;

let provider: DevOidcProvider;
let database: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let verifier: TokenVerifier;
let config: BrowserLoginConfig;
let clockMs = Date.now();
let app: FastifyInstance;
let tokenEndpoint: string;

function loginConfig(overrides: Record<string, string> = {}): BrowserLoginConfig {
  const parsed = browserLoginConfigFromEnv({
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: PUBLIC_CLIENT,
    OIDC_REDIRECT_URI: REDIRECT_URI,
    OIDC_POST_LOGOUT_REDIRECT_URI: `${ORIGIN}/`,
    FITLEDGER_SESSION_SECRET: SESSION_SECRET.toString('base64'),
    SESSION_IDLE_TIMEOUT_S: '1800',
    SESSION_ABSOLUTE_LIFETIME_S: '7200',
    ...overrides,
  });
  if (!parsed) throw new Error('browser login not configured');
  return parsed;
}

/** A BFF: the login routes plus an API scope that accepts bearer tokens and the session cookie. */
async function buildApp(login: BrowserLogin): Promise<FastifyInstance> {
  const instance = Fastify({ logger: false });
  await instance.register(browserLoginRoutes, { login });
  await instance.register((api, _opts, done) => {
    api.addHook('onRequest', authenticate(login.verifier, { sessions: login }));
    api.get('/api/me', (request) => {
      const { sub, role, tenantId } = requireIdentity(request);
      return { sub, role, tenantId, via: request.browserSession ? 'session' : 'bearer' };
    });
    api.post('/api/notes', (request, reply) => reply.code(201).send({ by: requireIdentity(request).sub }));
    done();
  });
  return instance;
}

beforeAll(async () => {
  provider = await startDevOidcProvider({
    webClients: [
      { clientId: PUBLIC_CLIENT, redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [`${ORIGIN}/`] },
      { clientId: CONFIDENTIAL_CLIENT, clientSecret: CONFIDENTIAL_SECRET, redirectUris: [REDIRECT_URI] },
    ],
  });
  database = await testDatabase('auth_sessions');
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await migrateAuthSchema(pool);
  verifier = createTokenVerifier({ issuer: provider.issuer, audience: provider.audience, mfa: DEFAULT_MFA_POLICY });
  config = loginConfig();
  app = await buildApp(createBrowserLogin(config, { pool, verifier, now: () => clockMs }));
  const metadata = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  tokenEndpoint = metadata.token_endpoint;
});

afterAll(async () => {
  await app.close();
  await pool.end();
  await database.drop();
  await provider.close();
});

interface LoggedIn {
  readonly cookie: string;
  readonly csrfToken: string;
  readonly sessionId: string;
}

function cookieValue(res: LightMyRequestResponse, name: string): string | undefined {
  return res.cookies.find((c) => c.name === name)?.value;
}

/** GET /auth/login, play the browser at the issuer, come back to the callback: the callback's response. */
async function callbackFor(username: string, options: { target?: FastifyInstance; userAgent?: string; returnTo?: string } = {}) {
  const target = options.target ?? app;
  const start = await target.inject({ url: `/auth/login${options.returnTo ? `?returnTo=${encodeURIComponent(options.returnTo)}` : ''}` });
  expect(start.statusCode).toBe(302);
  const loginCookie = `fitledger-login=${cookieValue(start, 'fitledger-login') ?? ''}`;
  const callbackUrl = await driveDevLogin(start.headers.location ?? '', username, DEMO_PASSWORD, REDIRECT_URI);
  const callbackPath = `${callbackUrl.pathname}${callbackUrl.search}`;
  const callback = await target.inject({ url: callbackPath, headers: { cookie: loginCookie, ...(options.userAgent ? { 'user-agent': options.userAgent } : {}) } });
  return { start, loginCookie, callbackPath, callback };
}

async function loginAs(username: DemoUsername, options: { target?: FastifyInstance; userAgent?: string } = {}): Promise<LoggedIn> {
  const { callback } = await callbackFor(username, options);
  expect(callback.statusCode).toBe(303);
  const cookie = `fitledger-session=${cookieValue(callback, 'fitledger-session') ?? ''}`;
  const session = await (options.target ?? app).inject({ url: '/auth/session', headers: { cookie } });
  expect(session.statusCode).toBe(200);
  const { csrfToken, sessionId } = session.json<{ csrfToken: string; sessionId: string }>();
  return { cookie, csrfToken, sessionId };
}

const me = (session: LoggedIn, target: FastifyInstance = app) => target.inject({ url: '/api/me', headers: { cookie: session.cookie } });

/** The refresh token the session holds right now, as the issuer knows it (decrypted from the row). */
async function storedRefreshToken(sessionId: string): Promise<string> {
  const { rows } = await pool.query<{ refresh_token: Buffer }>('SELECT refresh_token FROM auth_sessions WHERE id = $1', [sessionId]);
  const sealed = rows[0]?.refresh_token;
  if (!sealed) throw new Error('no refresh token stored');
  return deriveSessionKeys(SESSION_SECRET).open(sealed, `session:${sessionId}:refresh`);
}

async function tokenRequest(params: Record<string, string>): Promise<{ status: number; body: { error?: string; access_token?: string } }> {
  const res = await fetch(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

describe('browser login (authorization code + PKCE, server-side session)', () => {
  it('logs in through the issuer, sets only a session id cookie, and the cookie authenticates API calls', async () => {
    const { start, callback } = await callbackFor('alice', { returnTo: '/app/workouts' });
    const authorization = new URL(start.headers.location ?? '');
    expect(authorization.origin).toBe(provider.issuer);
    const params = Object.fromEntries(authorization.searchParams);
    expect(params).toMatchObject({ client_id: PUBLIC_CLIENT, response_type: 'code', redirect_uri: REDIRECT_URI, code_challenge_method: 'S256' });
    expect(params['code_challenge']).toMatch(/^[\w-]{43}$/);
    expect(params['state']).toMatch(/^[\w-]{43}$/);
    expect(params['nonce']).toMatch(/^[\w-]{43}$/);
    expect(start.cookies.find((c) => c.name === 'fitledger-login')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

    expect(callback.statusCode).toBe(303);
    expect(callback.headers.location).toBe('/app/workouts');
    const sessionCookie = callback.cookies.find((c) => c.name === 'fitledger-session');
    // Dev over http: no Secure, no __Host- prefix (the unit specs cover https).
    expect(sessionCookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', maxAge: 7200 });
    expect(sessionCookie?.secure).toBeUndefined();
    expect(sessionCookie?.value).toMatch(/^[\w-]{43}$/);
    expect(callback.cookies.find((c) => c.name === 'fitledger-login')).toMatchObject({ value: '', maxAge: 0 });

    const cookie = `fitledger-session=${sessionCookie?.value ?? ''}`;
    const session = await app.inject({ url: '/auth/session', headers: { cookie } });
    expect(session.statusCode).toBe(200);
    expect(session.headers['cache-control']).toBe('no-store');
    const current = session.json<Record<string, string>>();
    expect(Object.keys(current).sort()).toEqual(['csrfToken', 'role', 'sessionId', 'sub', 'tenantId']);
    expect(current).toMatchObject({ sub: provider.users.alice.sub, role: 'client', tenantId: provider.users.alice.tenantId });
    expect(current['csrfToken']).toMatch(/^[\w-]{43}$/);
    const api = await app.inject({ url: '/api/me', headers: { cookie } });
    expect(api.statusCode).toBe(200);
    expect(api.json()).toEqual({ sub: provider.users.alice.sub, role: 'client', tenantId: provider.users.alice.tenantId, via: 'session' });

    // At rest: ciphertexts, and only the hash of the cookie secret.
    const { rows } = await pool.query<{ access_token: Buffer; refresh_token: Buffer | null; secret_hash: Buffer }>('SELECT access_token, refresh_token, secret_hash FROM auth_sessions WHERE id = $1', [
      current['sessionId'],
    ]);
    expect(rows[0]?.access_token.toString('latin1')).not.toContain('eyJ');
    expect(rows[0]?.refresh_token).not.toBeNull();
    expect(rows[0]?.secret_hash.toString('base64url')).not.toBe(sessionCookie?.value);
  });

  it('refuses a replayed state: a second callback with the same state and login cookie gets no session', async () => {
    const { loginCookie, callbackPath, callback } = await callbackFor('bob');
    expect(callback.statusCode).toBe(303);
    const replay = await app.inject({ url: callbackPath, headers: { cookie: loginCookie } });
    expect(replay.statusCode).toBe(400);
    expect(replay.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(replay.json()).toMatchObject({ code: 'LOGIN_STATE_INVALID', detail: 'the login state is unknown, already used or expired' });
    expect(cookieValue(replay, 'fitledger-session')).toBeUndefined();
  });

  it('refuses a callback whose state was not issued to this browser (login CSRF), and keeps the state for the rightful browser', async () => {
    const start = await app.inject({ url: '/auth/login' });
    const callbackUrl = await driveDevLogin(start.headers.location ?? '', 'bob', DEMO_PASSWORD, REDIRECT_URI);
    const path = `${callbackUrl.pathname}${callbackUrl.search}`;
    const foreign = await app.inject({ url: path, headers: { cookie: 'fitledger-login=someone-elses-state' } });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json()).toMatchObject({ code: 'LOGIN_STATE_INVALID' });
    const noCookie = await app.inject({ url: path });
    expect(noCookie.statusCode).toBe(400);
    // Positive control: the browser that started the login completes it.
    const rightful = await app.inject({ url: path, headers: { cookie: `fitledger-login=${cookieValue(start, 'fitledger-login') ?? ''}` } });
    expect(rightful.statusCode).toBe(303);
  });

  it('sends the browser only to a path on this origin after login', async () => {
    const { callback } = await callbackFor('bob', { returnTo: '//evil.example/phish' });
    expect(callback.headers.location).toBe('/');
  });

  it('completes the login as a confidential client (client_secret_basic) too', async () => {
    const confidential = await buildApp(
      createBrowserLogin(loginConfig({ OIDC_CLIENT_ID: CONFIDENTIAL_CLIENT, OIDC_CLIENT_SECRET: CONFIDENTIAL_SECRET }), { pool, verifier, now: () => clockMs }),
    );
    try {
      const session = await loginAs('bob', { target: confidential });
      expect((await me(session, confidential)).json()).toMatchObject({ sub: provider.users.bob.sub });
    } finally {
      await confidential.close();
    }
  });
});

describe('the issuer enforces PKCE and the exact redirect_uri at its token endpoint', () => {
  /** An authorization code for bob, from a request made with `verifier`'s S256 challenge. */
  async function codeFor(codeVerifier: string): Promise<string> {
    const url = new URL(`${provider.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: PUBLIC_CLIENT,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid fitledger:read',
      state: oidc.randomState(),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    }).toString();
    const callback = await driveDevLogin(url, 'bob', DEMO_PASSWORD, REDIRECT_URI);
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`no code: ${callback.search}`);
    return code;
  }

  const exchange = (code: string, extra: Record<string, string>) =>
    tokenRequest({ grant_type: 'authorization_code', client_id: PUBLIC_CLIENT, code, redirect_uri: REDIRECT_URI, ...extra });

  it('refuses a code exchanged without its code_verifier', async () => {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const res = await exchange(await codeFor(codeVerifier), {});
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('refuses a code exchanged with a wrong code_verifier', async () => {
    const res = await exchange(await codeFor(oidc.randomPKCECodeVerifier()), { code_verifier: oidc.randomPKCECodeVerifier() });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('refuses a code exchanged with another redirect_uri than the authorization request', async () => {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const res = await exchange(await codeFor(codeVerifier), { code_verifier: codeVerifier, redirect_uri: `${ORIGIN}/other/callback` });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('refuses an authorization request with an unregistered redirect_uri (no redirect at all)', async () => {
    const url = new URL(`${provider.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: PUBLIC_CLIENT,
      response_type: 'code',
      redirect_uri: `${ORIGIN}/auth/callback/evil`,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    await res.body?.cancel();
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('issues tokens for the right code_verifier and redirect_uri (positive control)', async () => {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const res = await exchange(await codeFor(codeVerifier), { code_verifier: codeVerifier });
    expect(res.status).toBe(200);
    expect(res.body.access_token).toEqual(expect.any(String));
  });
});

describe('refresh with rotation', () => {
  it('replaces the stored refresh token; the issuer refuses the old one, and its reuse ends the session', async () => {
    const session = await loginAs('alice');
    const before = await storedRefreshToken(session.sessionId);

    const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json()).toMatchObject({ sub: provider.users.alice.sub, sessionId: session.sessionId });
    expect(Date.parse(refreshed.json<{ accessTokenExpiresAt: string }>().accessTokenExpiresAt)).toBeGreaterThan(clockMs);
    const after = await storedRefreshToken(session.sessionId);
    expect(after).not.toBe(before);
    expect((await me(session)).statusCode).toBe(200);

    // A thief's copy of the rotated token: refused, and the issuer revokes the whole grant (reuse detection).
    const replay = await tokenRequest({ grant_type: 'refresh_token', client_id: PUBLIC_CLIENT, refresh_token: before });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    const next = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
    expect(next.statusCode).toBe(401);
    expect(next.json()).toMatchObject({ code: 'SESSION_EXPIRED' });
    expect((await me(session)).json()).toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('needs the CSRF token', async () => {
    const session = await loginAs('alice');
    const res = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { cookie: session.cookie } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
  });

  it('refreshes an expired access token transparently on the next API call', async () => {
    const session = await loginAs('bob');
    const before = await storedRefreshToken(session.sessionId);
    clockMs += 16 * MINUTE_MS; // past the 15 min access token, within the 30 min idle timeout
    const res = await me(session);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ sub: provider.users.bob.sub, via: 'session' });
    expect(await storedRefreshToken(session.sessionId)).not.toBe(before);
  });
});

describe('MFA for privileged roles', () => {
  it('refuses a trainer without MFA at login: 401 MFA_REQUIRED, no session', async () => {
    const { callback } = await callbackFor('coach-nomfa');
    expect(callback.statusCode).toBe(401);
    expect(callback.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(callback.headers['www-authenticate']).toContain('error="insufficient_user_authentication"');
    expect(callback.json()).toMatchObject({ code: 'MFA_REQUIRED', status: 401 });
    expect(cookieValue(callback, 'fitledger-session')).toBeUndefined();
    const { rows } = await pool.query('SELECT 1 FROM auth_sessions WHERE sub = $1', [provider.users['coach-nomfa'].sub]);
    expect(rows).toHaveLength(0);
  });

  it('logs in the trainer with MFA (positive control)', async () => {
    const session = await loginAs('coach');
    expect((await me(session)).json()).toMatchObject({ sub: provider.users.coach.sub, role: 'trainer' });
  });

  it('refuses the same trainer without MFA with a bearer token, and accepts the MFA coach', async () => {
    const noMfa = await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${await getDevToken(provider.issuer, 'coach-nomfa')}` } });
    expect(noMfa.statusCode).toBe(401);
    expect(noMfa.headers['www-authenticate']).toMatch(/^Bearer realm="fitledger", error="insufficient_user_authentication"/);
    expect(noMfa.json()).toMatchObject({ code: 'MFA_REQUIRED' });
    const mfa = await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${await getDevToken(provider.issuer, 'coach')}` } });
    expect(mfa.statusCode).toBe(200);
    expect(mfa.json()).toMatchObject({ role: 'trainer', via: 'bearer' });
  });
});

describe('CSRF on cookie-authenticated state changes', () => {
  it('answers 403 problem+json to a POST with the cookie and no token, or a wrong one', async () => {
    const session = await loginAs('alice');
    const none = await app.inject({ method: 'POST', url: '/api/notes', headers: { cookie: session.cookie } });
    expect(none.statusCode).toBe(403);
    expect(none.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(none.json()).toMatchObject({ status: 403, code: 'CSRF_TOKEN_INVALID' });
    const wrong = await app.inject({ method: 'POST', url: '/api/notes', headers: { cookie: session.cookie, 'x-csrf-token': (await loginAs('alice')).csrfToken } });
    expect(wrong.statusCode).toBe(403);
  });

  it("lets the POST through with the session's CSRF token (positive control)", async () => {
    const session = await loginAs('alice');
    const res = await app.inject({ method: 'POST', url: '/api/notes', headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ by: provider.users.alice.sub });
  });

  it('does not ask bearer-authenticated requests for one', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/notes', headers: { authorization: `Bearer ${await getDevToken(provider.issuer, 'alice')}` } });
    expect(res.statusCode).toBe(201);
  });
});

describe('session lifetimes (injected clock)', () => {
  it('keeps an active session alive and refuses and deletes it after 30 idle minutes', async () => {
    const session = await loginAs('bob');
    clockMs += 20 * MINUTE_MS;
    expect((await me(session)).statusCode).toBe(200);
    clockMs += 20 * MINUTE_MS; // 40 min since login, 20 since the last request
    expect((await me(session)).statusCode).toBe(200);
    clockMs += 31 * MINUTE_MS;
    const idle = await me(session);
    expect(idle.statusCode).toBe(401);
    expect(idle.json()).toMatchObject({ code: 'SESSION_EXPIRED', detail: 'the session was idle too long' });
    expect((await pool.query('SELECT 1 FROM auth_sessions WHERE id = $1', [session.sessionId])).rows).toHaveLength(0);
    expect((await me(session)).json()).toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('refuses and deletes a session at its absolute lifetime however active it is', async () => {
    const session = await loginAs('bob');
    for (let step = 0; step < 4; step++) {
      clockMs += 25 * MINUTE_MS;
      expect((await me(session)).statusCode).toBe(200); // up to 100 of the 120 minutes
    }
    clockMs += 25 * MINUTE_MS;
    const expired = await me(session);
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ code: 'SESSION_EXPIRED', detail: 'the session reached its maximum lifetime' });
    expect((await pool.query('SELECT 1 FROM auth_sessions WHERE id = $1', [session.sessionId])).rows).toHaveLength(0);
  });
});

describe('sessions and devices', () => {
  const withCsrf = (session: LoggedIn) => ({ cookie: session.cookie, 'x-csrf-token': session.csrfToken });

  it("lists the caller's sessions with the current one marked, and no tokens", async () => {
    const laptop = await loginAs('researcher', { userAgent: 'Firefox/130' });
    const phone = await loginAs('researcher', { userAgent: 'Safari/17' });
    await loginAs('auditor');
    const res = await app.inject({ url: '/auth/sessions', headers: { cookie: laptop.cookie } });
    expect(res.statusCode).toBe(200);
    const { sessions } = res.json<{ sessions: Record<string, unknown>[] }>();
    expect(sessions.map((s) => [s.id, s.userAgent, s.current]).sort()).toEqual(
      [
        [laptop.sessionId, 'Firefox/130', true],
        [phone.sessionId, 'Safari/17', false],
      ].sort(),
    );
    for (const s of sessions) {
      expect(Object.keys(s).sort()).toEqual(['clientId', 'createdAt', 'current', 'expiresAt', 'id', 'lastSeenAt', 'userAgent']);
      expect(s.clientId).toBe(PUBLIC_CLIENT);
    }
  });

  it('revokes one of your sessions; the revoked one is refused at its next request, the others go on', async () => {
    const laptop = await loginAs('org-admin');
    const phone = await loginAs('org-admin');
    const refreshToken = await storedRefreshToken(phone.sessionId);
    const res = await app.inject({ method: 'DELETE', url: `/auth/sessions/${phone.sessionId}`, headers: withCsrf(laptop) });
    expect(res.statusCode).toBe(204);
    expect((await me(phone)).json()).toMatchObject({ code: 'SESSION_INVALID' });
    expect((await me(laptop)).statusCode).toBe(200);
    // Its refresh token was revoked at the issuer as well.
    expect((await tokenRequest({ grant_type: 'refresh_token', client_id: PUBLIC_CLIENT, refresh_token: refreshToken })).body.error).toBe('invalid_grant');
  });

  it("answers 404 to revoking another user's session and leaves it working", async () => {
    const mallory = await loginAs('alice');
    const victim = await loginAs('auditor');
    const res = await app.inject({ method: 'DELETE', url: `/auth/sessions/${victim.sessionId}`, headers: withCsrf(mallory) });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'SESSION_NOT_FOUND' });
    expect((await me(victim)).statusCode).toBe(200);
    const unknown = await app.inject({ method: 'DELETE', url: '/auth/sessions/0190f5a2-0000-7000-8000-000000000000', headers: withCsrf(mallory) });
    expect(unknown.statusCode).toBe(404);
  });

  it('needs the CSRF token to revoke with the cookie', async () => {
    const laptop = await loginAs('platform-admin');
    const phone = await loginAs('platform-admin');
    const res = await app.inject({ method: 'DELETE', url: `/auth/sessions/${phone.sessionId}`, headers: { cookie: laptop.cookie } });
    expect(res.statusCode).toBe(403);
    expect((await me(phone)).statusCode).toBe(200);
  });

  it('revokes all your sessions except the current one, then all of them', async () => {
    const current = await loginAs('platform-admin');
    const other = await loginAs('platform-admin');
    const others = await app.inject({ method: 'DELETE', url: '/auth/sessions?exceptCurrent=true', headers: withCsrf(current) });
    expect(others.statusCode).toBe(200);
    expect(others.json<{ revoked: number }>().revoked).toBeGreaterThanOrEqual(1);
    expect((await me(other)).json()).toMatchObject({ code: 'SESSION_INVALID' });
    expect((await me(current)).statusCode).toBe(200);

    const all = await app.inject({ method: 'DELETE', url: '/auth/sessions', headers: withCsrf(current) });
    expect(all.json()).toEqual({ revoked: 1 });
    expect(all.cookies.find((c) => c.name === 'fitledger-session')).toMatchObject({ value: '', maxAge: 0 });
    expect((await me(current)).json()).toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('lists and revokes with a bearer token too (no session is current)', async () => {
    const browser = await loginAs('researcher');
    const bearer = { authorization: `Bearer ${await getDevToken(provider.issuer, 'researcher')}` };
    const list = await app.inject({ url: '/auth/sessions', headers: bearer });
    const sessions = list.json<{ sessions: { id: string; current: boolean }[] }>().sessions;
    expect(sessions.find((s) => s.id === browser.sessionId)).toMatchObject({ current: false });
    expect(sessions.every((s) => !s.current)).toBe(true);
    expect((await app.inject({ method: 'DELETE', url: `/auth/sessions/${browser.sessionId}`, headers: bearer })).statusCode).toBe(204);
    expect((await me(browser)).statusCode).toBe(401);
  });
});

describe('logout', () => {
  it('ends the session, revokes its refresh token at the issuer and gives the end-session URL', async () => {
    const session = await loginAs('bob');
    const refreshToken = await storedRefreshToken(session.sessionId);
    const forged = await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie: session.cookie } });
    expect(forged.statusCode).toBe(403);
    expect((await me(session)).statusCode).toBe(200);

    const res = await app.inject({ method: 'POST', url: '/auth/logout', headers: withCsrfHeaders(session) });
    expect(res.statusCode).toBe(200);
    const endSession = new URL(res.json<{ endSessionUrl: string }>().endSessionUrl);
    expect(`${endSession.origin}${endSession.pathname}`).toBe(`${provider.issuer}/session/end`);
    expect(endSession.searchParams.get('id_token_hint')).toEqual(expect.any(String));
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${ORIGIN}/`);
    expect(res.cookies.find((c) => c.name === 'fitledger-session')).toMatchObject({ value: '', maxAge: 0 });
    expect((await me(session)).json()).toMatchObject({ code: 'SESSION_INVALID' });
    expect((await tokenRequest({ grant_type: 'refresh_token', client_id: PUBLIC_CLIENT, refresh_token: refreshToken })).body.error).toBe('invalid_grant');
  });

  it('answers a logout without a session with no end-session URL', async () => {
    const res = await app.inject({ method: 'POST', url: '/auth/logout' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ endSessionUrl: null });
  });
});

function withCsrfHeaders(session: LoggedIn): Record<string, string> {
  return { cookie: session.cookie, 'x-csrf-token': session.csrfToken };
}
