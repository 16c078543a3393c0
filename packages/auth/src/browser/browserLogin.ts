import { randomUUID, timingSafeEqual } from 'node:crypto';
import { HttpProblem } from '@fitledger/http/problem';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import type { Pool } from 'pg';
import type { SessionAuthentication, SessionAuthenticator } from '../authenticate';
import { AuthenticationError } from '../errors';
import type { Identity, TokenVerifier } from '../tokenVerifier';
import type { BrowserLoginConfig } from './config';
import { cookieNames, readCookie, type CookieNames } from './cookies';
import { safeReturnPath } from './returnPath';
import { deriveSessionKeys, newSessionSecret, secretHash, type SessionKeys } from './sessionKeys';
import { SessionStore, type LockedOutcome, type SessionTokens, type StoredSession } from './sessionStore';

export interface BrowserLoginDeps {
  /** Holds auth_sessions and auth_login_states (run migrateAuthSchema first); owned by the caller. */
  readonly pool: Pool;
  /**
   * Turns the session's access token into the caller's identity, exactly as for a bearer token
   * (issuer, audience, role, tenant, MFA policy): a login it refuses gets no session.
   */
  readonly verifier: TokenVerifier;
  /** Clock of the session lifetimes (idle, absolute, access token expiry), in epoch ms (tests). */
  readonly now?: () => number;
  readonly logger?: FastifyBaseLogger;
}

/** A session as its owner sees it in GET /auth/sessions: no tokens, no cookie secret. */
export interface SessionView {
  readonly id: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
  readonly userAgent: string | null;
  readonly clientId: string;
  readonly current: boolean;
}

export interface StartedLogin {
  readonly authorizationUrl: URL;
  /** Goes into the login cookie, binding the callback to the browser that started the login. */
  readonly state: string;
}

export interface FinishedLogin {
  /** Goes into the session cookie. */
  readonly sessionSecret: string;
  readonly sessionId: string;
  readonly identity: Identity;
  readonly returnTo: string;
}

/** Browser login (BFF) with server-side sessions; the routes are `browserLoginRoutes`. */
export interface BrowserLogin extends SessionAuthenticator {
  readonly config: BrowserLoginConfig;
  readonly cookies: CookieNames;
  /** The verifier of bearer tokens and session access tokens alike. */
  readonly verifier: TokenVerifier;
  startLogin(returnTo: unknown): Promise<StartedLogin>;
  finishLogin(callbackQuery: string, loginCookie: string | undefined, userAgent: string | undefined): Promise<FinishedLogin>;
  /** Refreshes the session's tokens now (rotation: the stored refresh token is replaced). */
  refresh(request: FastifyRequest): Promise<SessionAuthentication & { readonly accessTokenExpiresAt: Date }>;
  /** Ends the request's session (if any), revokes its refresh token at the issuer, gives the issuer's end-session URL. */
  logout(request: FastifyRequest): Promise<{ readonly endSessionUrl: string | null }>;
  listSessions(identity: Identity, currentId: string | undefined): Promise<SessionView[]>;
  /** False when no session of the caller has that id. */
  revokeSession(identity: Identity, id: string): Promise<boolean>;
  revokeAllSessions(identity: Identity, exceptId: string | undefined): Promise<number>;
  /** Waits for background token revocations. */
  close(): Promise<void>;
}

/** Refresh this long before the access token expires, so a request never carries one that dies in flight. */
const REFRESH_LEEWAY_MS = 30_000;
const MAX_USER_AGENT_LENGTH = 512;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

const sealContext = (sessionId: string, field: 'access' | 'refresh' | 'id'): string => `session:${sessionId}:${field}`;
const loginContext = (stateHash: Buffer): string => `login:${stateHash.toString('hex')}`;

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'TimeoutError' || error.name === 'AbortError' || (error instanceof TypeError && error.message === 'fetch failed');
}

/**
 * An error from the issuer's side of a login or refresh: the issuer refused (or answered something
 * that fails validation: state, nonce, iss, signature) → `refused`; unreachable or 5xx → 503.
 */
function issuerError(error: unknown, refused: () => Error): Error {
  if (error instanceof oidc.ResponseBodyError && error.status >= 500) return new AuthenticationError('ISSUER_UNAVAILABLE', 'the identity provider failed', { cause: error });
  if (isNetworkError(error)) return new AuthenticationError('ISSUER_UNAVAILABLE', 'the identity provider could not be reached', { cause: error });
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError || error instanceof oidc.WWWAuthenticateChallengeError || error instanceof oidc.ClientError) {
    const refusal = refused();
    refusal.cause = error;
    return refusal;
  }
  return error instanceof Error ? error : new Error('issuer request failed', { cause: error });
}

/** Discovers the issuer and returns the browser login; nothing is fetched until the first use. */
export function createBrowserLogin(config: BrowserLoginConfig, deps: BrowserLoginDeps): BrowserLogin {
  const store = new SessionStore(deps.pool);
  const keys: SessionKeys = deriveSessionKeys(config.sessionSecret);
  const cookies = cookieNames(config.cookieSecure);
  const clock = deps.now ?? Date.now;
  const background = new Set<Promise<void>>();
  const refreshing = new Map<string, Promise<Identity>>();

  let discovered: Promise<oidc.Configuration> | undefined;
  function configuration(): Promise<oidc.Configuration> {
    discovered ??= oidc
      .discovery(
        new URL(config.issuer),
        config.clientId,
        undefined,
        config.clientSecret !== undefined ? oidc.ClientSecretBasic(config.clientSecret) : oidc.None(),
        { execute: config.allowInsecureIssuer ? [oidc.allowInsecureRequests] : [], timeout: 5 },
      )
      .catch((error: unknown) => {
        discovered = undefined; // try again at the next request
        throw issuerError(error, () => new AuthenticationError('ISSUER_UNAVAILABLE', 'the identity provider discovery failed'));
      });
    return discovered;
  }

  const resourceParameters = (): Record<string, string> => (config.resource !== undefined ? { resource: config.resource } : {});

  /** Revokes a refresh token at the issuer (RFC 7009) when it offers revocation; failures are logged, never thrown. */
  async function revokeRefreshToken(refreshToken: () => string): Promise<void> {
    try {
      const configured = await configuration();
      if (configured.serverMetadata().revocation_endpoint === undefined) return;
      await oidc.tokenRevocation(configured, refreshToken(), { token_type_hint: 'refresh_token' });
    } catch (error) {
      deps.logger?.warn({ err: error instanceof Error ? { name: error.name, message: error.message } : undefined }, 'refresh token revocation failed');
    }
  }

  /** A dropped session's refresh token goes too, so a copy of it is worth nothing. */
  function revokeAtIssuer(session: StoredSession): Promise<void> {
    const sealed = session.refreshToken;
    if (sealed === null) return Promise.resolve();
    return revokeRefreshToken(() => keys.open(sealed, sealContext(session.id, 'refresh')));
  }

  function inBackground(work: Promise<void>): void {
    const tracked = work.finally(() => background.delete(tracked));
    background.add(tracked);
  }

  function revokeInBackground(sessions: readonly StoredSession[]): void {
    for (const session of sessions) inBackground(revokeAtIssuer(session));
  }

  function sealTokens(sessionId: string, tokens: oidc.TokenEndpointResponse, identity: Identity, previous?: StoredSession): SessionTokens {
    const nowMs = clock();
    // expires_in is relative to the response (RFC 6749 §5.1); exp is the fallback when it is missing.
    const lifetimeS = tokens.expires_in ?? Math.max(0, identity.expiresAtEpochS - Math.floor(Date.now() / 1000));
    return {
      accessToken: keys.seal(tokens.access_token, sealContext(sessionId, 'access')),
      accessExpiresAt: new Date(nowMs + lifetimeS * 1000),
      // Without rotation the issuer sends no new refresh token: the old one stays valid.
      refreshToken: tokens.refresh_token !== undefined ? keys.seal(tokens.refresh_token, sealContext(sessionId, 'refresh')) : (previous?.refreshToken ?? null),
      idToken: tokens.id_token !== undefined ? keys.seal(tokens.id_token, sealContext(sessionId, 'id')) : (previous?.idToken ?? null),
    };
  }

  /** The live session a cookie secret names; an expired one is deleted (and its refresh token revoked). */
  async function liveSession(secret: string): Promise<StoredSession> {
    const session = await store.findBySecretHash(secretHash(secret));
    if (!session) throw new AuthenticationError('SESSION_INVALID', 'the session cookie names no live session');
    const nowMs = clock();
    const idle = session.lastSeenAt.getTime() + config.idleTimeoutS * 1000 <= nowMs;
    if (idle || session.expiresAt.getTime() <= nowMs) {
      const removed = await store.remove(session.id);
      if (removed) revokeInBackground([removed]);
      throw new AuthenticationError('SESSION_EXPIRED', idle ? 'the session was idle too long' : 'the session reached its maximum lifetime');
    }
    return session;
  }

  function checkCsrf(request: FastifyRequest, secret: string): void {
    if (SAFE_METHODS.has(request.method)) return;
    const header = request.headers[CSRF_HEADER];
    if (!keys.csrfTokenMatches(secret, typeof header === 'string' ? header : undefined)) {
      throw new AuthenticationError('CSRF_TOKEN_INVALID', `a state-changing request with the session cookie needs the session's ${CSRF_HEADER} header`);
    }
  }

  /** Refreshes under the row lock; `seenAccessToken` tells whether another request already did. */
  async function refreshLocked(sessionId: string, seenAccessToken: Buffer | undefined): Promise<Identity> {
    const outcome = await store.withLockedSession<Identity | Error>(sessionId, async (session): Promise<LockedOutcome<Identity | Error>> => {
      if (!session) return { result: new AuthenticationError('SESSION_INVALID', 'the session was ended') };
      if (seenAccessToken !== undefined && !session.accessToken.equals(seenAccessToken) && session.accessExpiresAt.getTime() - REFRESH_LEEWAY_MS > clock()) {
        // Another request refreshed while this one waited for the lock: use its tokens.
        return { result: await deps.verifier.verify(keys.open(session.accessToken, sealContext(session.id, 'access'))) };
      }
      if (session.refreshToken === null) return { remove: true, result: new AuthenticationError('SESSION_EXPIRED', 'the access token expired and the session has no refresh token') };
      let tokens: oidc.TokenEndpointResponse;
      try {
        tokens = await oidc.refreshTokenGrant(await configuration(), keys.open(session.refreshToken, sealContext(session.id, 'refresh')), resourceParameters());
      } catch (error) {
        const classified = issuerError(error, () => new AuthenticationError('SESSION_EXPIRED', 'the identity provider refused to refresh the session'));
        if (classified instanceof AuthenticationError && classified.code === 'SESSION_EXPIRED') return { remove: true, result: classified };
        throw classified;
      }
      let identity: Identity;
      try {
        identity = await deps.verifier.verify(tokens.access_token);
      } catch (error) {
        if (error instanceof AuthenticationError && error.status !== 503) return { remove: true, result: error };
        throw error;
      }
      if (identity.sub !== session.sub || identity.tenantId !== session.tenantId) {
        return { remove: true, result: new AuthenticationError('SESSION_INVALID', 'the refreshed token names another subject') };
      }
      return { update: sealTokens(session.id, tokens, identity, session), result: identity };
    });
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  /** One refresh per session at a time in this process; the row lock covers other processes. */
  function refreshOnce(sessionId: string, seenAccessToken: Buffer | undefined): Promise<Identity> {
    const running = refreshing.get(sessionId);
    if (running) return running;
    const started = refreshLocked(sessionId, seenAccessToken).finally(() => refreshing.delete(sessionId));
    refreshing.set(sessionId, started);
    return started;
  }

  /** The identity of the session's access token, refreshed first when it has expired. */
  async function sessionIdentity(session: StoredSession): Promise<Identity> {
    let accessToken: string;
    try {
      accessToken = keys.open(session.accessToken, sealContext(session.id, 'access'));
    } catch {
      // Sealed under another session secret (rotated) or tampered with: nothing to recover.
      await store.remove(session.id);
      throw new AuthenticationError('SESSION_INVALID', 'the session tokens cannot be read');
    }
    if (session.accessExpiresAt.getTime() - REFRESH_LEEWAY_MS > clock()) {
      try {
        return await deps.verifier.verify(accessToken);
      } catch (error) {
        // Expired by the verifier's clock, or signed with a retired key: a refresh may still save the session.
        if (!(error instanceof AuthenticationError) || (error.code !== 'TOKEN_EXPIRED' && error.code !== 'TOKEN_INVALID')) throw error;
      }
    }
    return refreshOnce(session.id, session.accessToken);
  }

  function view(session: StoredSession, currentId: string | undefined): SessionView {
    return {
      id: session.id,
      createdAt: session.createdAt.toISOString(),
      lastSeenAt: session.lastSeenAt.toISOString(),
      expiresAt: session.expiresAt.toISOString(),
      userAgent: session.userAgent,
      clientId: session.clientId,
      current: session.id === currentId,
    };
  }

  const subjectOf = (identity: Identity): { sub: string; tenantId: string } => ({ sub: identity.sub, tenantId: identity.tenantId });

  return {
    config,
    cookies,
    verifier: deps.verifier,

    async authenticateSession(request) {
      const secret = readCookie(request.headers.cookie, cookies.session);
      if (secret === undefined) return undefined;
      const session = await liveSession(secret);
      checkCsrf(request, secret);
      const identity = await sessionIdentity(session);
      await store.touch(session.id, new Date(clock()));
      return { identity, session: { id: session.id, csrfToken: keys.csrfToken(secret) } };
    },

    async startLogin(returnTo) {
      const configured = await configuration();
      const nowMs = clock();
      await store.removeExpiredLogins(new Date(nowMs));
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const stateHash = secretHash(state);
      await store.insertLogin(stateHash, {
        codeVerifier: keys.seal(codeVerifier, loginContext(stateHash)),
        nonce,
        returnTo: safeReturnPath(returnTo),
        expiresAt: new Date(nowMs + config.loginTimeoutS * 1000),
      });
      const authorizationUrl = oidc.buildAuthorizationUrl(configured, {
        redirect_uri: config.redirectUri,
        scope: config.scope,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...resourceParameters(),
      });
      return { authorizationUrl, state };
    },

    async finishLogin(callbackQuery, loginCookie, userAgent) {
      const params = new URLSearchParams(callbackQuery);
      const state = params.get('state');
      // The login cookie holds the state this browser was sent off with: a callback carrying
      // another state (login CSRF: an attacker's code in the victim's browser) is refused.
      if (state === null || state === '' || loginCookie === undefined || !sameString(state, loginCookie)) {
        throw new HttpProblem(400, 'LOGIN_STATE_INVALID', 'Login state invalid', 'the callback state is missing or was not issued to this browser');
      }
      const stateHash = secretHash(state);
      const pending = await store.takeLogin(stateHash);
      if (!pending || pending.expiresAt.getTime() <= clock()) {
        throw new HttpProblem(400, 'LOGIN_STATE_INVALID', 'Login state invalid', 'the login state is unknown, already used or expired');
      }
      const configured = await configuration();
      // The redirect_uri sent with the code is the configured one, exactly (RFC 6749 §4.1.3).
      const callbackUrl = new URL(config.redirectUri);
      callbackUrl.search = params.toString();
      let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
      try {
        tokens = await oidc.authorizationCodeGrant(
          configured,
          callbackUrl,
          { pkceCodeVerifier: keys.open(pending.codeVerifier, loginContext(stateHash)), expectedState: state, expectedNonce: pending.nonce, idTokenExpected: true },
          resourceParameters(),
        );
      } catch (error) {
        throw issuerError(error, () => new HttpProblem(400, 'LOGIN_FAILED', 'Login failed', 'the identity provider refused the login or its answer did not validate'));
      }
      const refreshToken = tokens.refresh_token;
      // A refused login keeps no tokens, and the issuer is told to forget the refresh token.
      const dropTokens = (): void => {
        if (refreshToken !== undefined) inBackground(revokeRefreshToken(() => refreshToken));
      };
      let identity: Identity;
      try {
        // The same checks as a bearer token, MFA for privileged roles included: no session otherwise.
        identity = await deps.verifier.verify(tokens.access_token);
      } catch (error) {
        dropTokens();
        throw error;
      }
      if (tokens.claims()?.sub !== identity.sub) {
        dropTokens();
        throw new HttpProblem(400, 'LOGIN_FAILED', 'Login failed', 'the ID token and the access token name different subjects');
      }
      const sessionId = randomUUID();
      const sessionSecret = newSessionSecret();
      const nowMs = clock();
      await store.insertSession(
        {
          id: sessionId,
          sub: identity.sub,
          tenantId: identity.tenantId,
          clientId: config.clientId,
          userAgent: userAgent === undefined ? null : userAgent.slice(0, MAX_USER_AGENT_LENGTH),
          createdAt: new Date(nowMs),
          lastSeenAt: new Date(nowMs),
          expiresAt: new Date(nowMs + config.absoluteLifetimeS * 1000),
          ...sealTokens(sessionId, tokens, identity),
        },
        secretHash(sessionSecret),
      );
      return { sessionSecret, sessionId, identity, returnTo: pending.returnTo };
    },

    async refresh(request) {
      const secret = readCookie(request.headers.cookie, cookies.session);
      if (secret === undefined) throw new AuthenticationError('SESSION_INVALID', 'the request carries no session cookie');
      const session = await liveSession(secret);
      checkCsrf(request, secret);
      if (session.refreshToken === null) throw new HttpProblem(409, 'REFRESH_UNAVAILABLE', 'Conflict', 'the identity provider issued no refresh token for this session');
      const identity = await refreshOnce(session.id, undefined);
      await store.touch(session.id, new Date(clock()));
      const refreshed = await store.findBySecretHash(secretHash(secret));
      if (!refreshed) throw new AuthenticationError('SESSION_INVALID', 'the session was ended');
      return { identity, session: { id: session.id, csrfToken: keys.csrfToken(secret) }, accessTokenExpiresAt: refreshed.accessExpiresAt };
    },

    async logout(request) {
      const secret = readCookie(request.headers.cookie, cookies.session);
      if (secret === undefined) return { endSessionUrl: null };
      const session = await store.findBySecretHash(secretHash(secret));
      if (!session) return { endSessionUrl: null };
      checkCsrf(request, secret);
      const removed = await store.remove(session.id);
      if (removed) await revokeAtIssuer(removed);
      let endSessionUrl: string | null = null;
      try {
        const configured = await configuration();
        if (configured.serverMetadata().end_session_endpoint !== undefined) {
          const idToken = session.idToken === null ? undefined : keys.open(session.idToken, sealContext(session.id, 'id'));
          endSessionUrl = oidc.buildEndSessionUrl(configured, {
            client_id: config.clientId,
            ...(idToken !== undefined ? { id_token_hint: idToken } : {}),
            ...(config.postLogoutRedirectUri !== undefined ? { post_logout_redirect_uri: config.postLogoutRedirectUri } : {}),
          }).href;
        }
      } catch (error) {
        // The local session is gone either way; the issuer's session then ends on its own.
        deps.logger?.warn({ err: error instanceof Error ? { name: error.name, message: error.message } : undefined }, 'no end-session URL');
      }
      return { endSessionUrl };
    },

    async listSessions(identity, currentId) {
      const nowMs = clock();
      const idleCutoff = new Date(nowMs - config.idleTimeoutS * 1000);
      revokeInBackground(await store.removeExpired(subjectOf(identity), new Date(nowMs), idleCutoff));
      return (await store.listActive(subjectOf(identity), new Date(nowMs), idleCutoff)).map((s) => view(s, currentId));
    },

    async revokeSession(identity, id) {
      const removed = await store.removeOwned(id, subjectOf(identity));
      if (!removed) return false;
      await revokeAtIssuer(removed);
      return true;
    },

    async revokeAllSessions(identity, exceptId) {
      const removed = await store.removeAllOwned(subjectOf(identity), exceptId);
      await Promise.all(removed.map(revokeAtIssuer));
      return removed.length;
    },

    async close() {
      await Promise.all([...background]);
    },
  };
}
