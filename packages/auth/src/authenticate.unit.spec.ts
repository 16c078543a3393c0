import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { authenticate, requireIdentity, type SessionAuthenticator } from './authenticate';
import { AuthenticationError } from './errors';
import type { Identity, TokenVerifier } from './tokenVerifier';

const ALICE: Identity = {
  sub: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61',
  role: 'client',
  tenantId: '3f1e2d4c-5b6a-4798-8c0b-1a2b3c4d5e6f',
  scopes: ['fitledger:read'],
  amr: ['pwd'],
  expiresAtEpochS: 2_000_000_000,
};

/** Accepts exactly one token; any other fails with the configured error. */
function fakeVerifier(failure: AuthenticationError | Error = new AuthenticationError('TOKEN_INVALID', 'the token signature does not verify')): TokenVerifier {
  return {
    verify: (token) => (token === 'good-token' ? Promise.resolve(ALICE) : Promise.reject(failure)),
  };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function build(verifier: TokenVerifier): FastifyInstance {
  app = Fastify({ logger: false });
  app.get('/health', () => ({ ok: true }));
  void app.register((scope, _opts, done) => {
    scope.addHook('onRequest', authenticate(verifier));
    scope.get('/me', (request) => ({ sub: requireIdentity(request).sub, role: requireIdentity(request).role }));
    done();
  });
  return app;
}

describe('authenticate hook', () => {
  it('sets request.identity for a valid bearer token', async () => {
    const res = await build(fakeVerifier()).inject({ url: '/me', headers: { authorization: 'Bearer good-token' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sub: ALICE.sub, role: 'client' });
  });

  it('answers 401 problem+json with a bare Bearer challenge when no token is sent', async () => {
    const res = await build(fakeVerifier()).inject({ url: '/me' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="fitledger"');
    expect(res.json()).toEqual({
      type: 'https://fitledger.dev/problems/token-missing',
      title: 'Authentication required',
      status: 401,
      detail: 'the request carries no bearer token',
      code: 'TOKEN_MISSING',
    });
  });

  it('answers 401 with error="invalid_token" for a token the verifier rejects, without echoing the token', async () => {
    const res = await build(fakeVerifier()).inject({ url: '/me', headers: { authorization: 'Bearer bad-token' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="fitledger", error="invalid_token", error_description="Invalid access token"');
    expect(res.json()).toMatchObject({ status: 401, code: 'TOKEN_INVALID', type: 'https://fitledger.dev/problems/token-invalid' });
    expect(res.body).not.toContain('bad-token');
  });

  it('answers 401 TOKEN_EXPIRED for an expired token', async () => {
    const res = await build(fakeVerifier(new AuthenticationError('TOKEN_EXPIRED', 'the token has expired'))).inject({
      url: '/me',
      headers: { authorization: 'Bearer old-token' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('answers 400 invalid_request for a malformed Bearer header (RFC 6750 §3.1)', async () => {
    const res = await build(fakeVerifier()).inject({ url: '/me', headers: { authorization: 'Bearer a b' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
    expect(res.json()).toMatchObject({ code: 'TOKEN_MALFORMED' });
  });

  it('answers 503 without a challenge when the issuer keys cannot be fetched', async () => {
    const res = await build(fakeVerifier(new AuthenticationError('ISSUER_UNAVAILABLE', 'the identity provider keys could not be fetched'))).inject({
      url: '/me',
      headers: { authorization: 'Bearer some-token' },
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json()).toMatchObject({ code: 'ISSUER_UNAVAILABLE' });
  });

  it('lets errors that are not authentication errors reach the error handler (500)', async () => {
    const res = await build(fakeVerifier(new Error('bug'))).inject({ url: '/me', headers: { authorization: 'Bearer x' } });
    expect(res.statusCode).toBe(500);
  });

  it('leaves routes outside the hooked scope open (positive control for health probes)', async () => {
    const res = await build(fakeVerifier()).inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
  });
});

/** A session authenticator that knows one cookie; CSRF header required on unsafe methods. */
const BOB: Identity = { ...ALICE, sub: '5d2e9c71-3a48-4f6b-8e0d-7c9b1a2f3e84' };
const fakeSessions: SessionAuthenticator = {
  authenticateSession(request) {
    const cookie = request.headers.cookie;
    if (cookie === undefined) return Promise.resolve(undefined);
    if (cookie !== 'fitledger-session=good') return Promise.reject(new AuthenticationError('SESSION_INVALID', 'the session cookie names no live session'));
    if (request.method !== 'GET' && request.headers['x-csrf-token'] !== 'csrf') return Promise.reject(new AuthenticationError('CSRF_TOKEN_INVALID', 'no CSRF token'));
    return Promise.resolve({ identity: BOB, session: { id: 'session-1', csrfToken: 'csrf' } });
  },
};

function buildWithSessions(): FastifyInstance {
  app = Fastify({ logger: false });
  void app.register((scope, _opts, done) => {
    scope.addHook('onRequest', authenticate(fakeVerifier(), { sessions: fakeSessions }));
    scope.get('/me', (request) => ({ sub: requireIdentity(request).sub, session: request.browserSession?.id ?? null }));
    scope.post('/things', (request) => ({ sub: requireIdentity(request).sub }));
    done();
  });
  return app;
}

describe('authenticate hook with browser sessions', () => {
  it('accepts the session cookie and marks the request as a browser session', async () => {
    const res = await buildWithSessions().inject({ url: '/me', headers: { cookie: 'fitledger-session=good' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sub: BOB.sub, session: 'session-1' });
  });

  it('lets the bearer token win when both are present', async () => {
    const res = await buildWithSessions().inject({ url: '/me', headers: { authorization: 'Bearer good-token', cookie: 'fitledger-session=good' } });
    expect(res.json()).toEqual({ sub: ALICE.sub, session: null });
  });

  it('judges a request with a bad bearer token by the token alone, not the cookie', async () => {
    const res = await buildWithSessions().inject({ url: '/me', headers: { authorization: 'Bearer bad-token', cookie: 'fitledger-session=good' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('answers TOKEN_MISSING, as without sessions, when neither is sent', async () => {
    const res = await buildWithSessions().inject({ url: '/me' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="fitledger"');
    expect(res.json()).toMatchObject({ code: 'TOKEN_MISSING', detail: 'the request carries no bearer token' });
  });

  it('answers 401 SESSION_INVALID for a dead session cookie', async () => {
    const res = await buildWithSessions().inject({ url: '/me', headers: { cookie: 'fitledger-session=revoked' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.json()).toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('answers 403 problem+json to a cookie-authenticated POST without the CSRF token', async () => {
    const res = await buildWithSessions().inject({ method: 'POST', url: '/things', headers: { cookie: 'fitledger-session=good' } });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json()).toMatchObject({ status: 403, code: 'CSRF_TOKEN_INVALID', type: 'https://fitledger.dev/problems/csrf-token-invalid' });
  });

  it('lets the same POST through with the CSRF token (positive control)', async () => {
    const res = await buildWithSessions().inject({ method: 'POST', url: '/things', headers: { cookie: 'fitledger-session=good', 'x-csrf-token': 'csrf' } });
    expect(res.statusCode).toBe(200);
  });
});
