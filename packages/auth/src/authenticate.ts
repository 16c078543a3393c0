import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { bearerToken } from './bearerToken';
import { AuthenticationError } from './errors';
import type { Identity, TokenVerifier } from './tokenVerifier';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `authenticate` hook; undefined only on routes that run without it (health, login). */
    identity?: Identity;
    /** Set by the `authenticate` hook when the caller was authenticated by a browser session cookie. */
    browserSession?: BrowserSessionRef;
  }
}

/** The browser session a request came with. */
export interface BrowserSessionRef {
  /** Public session id (as listed by GET /auth/sessions), not the cookie's secret. */
  readonly id: string;
  /** The session's CSRF token, for the `x-csrf-token` header of state-changing requests. */
  readonly csrfToken: string;
}

export interface SessionAuthentication {
  readonly identity: Identity;
  readonly session: BrowserSessionRef;
}

/**
 * Authenticates a request by its session cookie (browser login). Resolves undefined when the
 * request carries no session cookie; throws AuthenticationError for a dead or expired session, and
 * CSRF_TOKEN_INVALID for a state-changing request without the session's CSRF token.
 */
export interface SessionAuthenticator {
  authenticateSession(request: FastifyRequest): Promise<SessionAuthentication | undefined>;
}

export interface AuthenticateOptions {
  /** Also accept a browser session cookie; a request with an Authorization header is always judged by it alone. */
  readonly sessions?: SessionAuthenticator;
}

/** RFC 9457 content type; the charset matches what the services send for every other problem. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Render an AuthenticationError: status, RFC 6750 challenge, problem+json body. */
export function sendAuthenticationProblem(reply: FastifyReply, error: AuthenticationError): FastifyReply {
  return reply
    .code(error.status)
    .headers({ ...error.headers, 'cache-control': 'no-store' })
    .type(PROBLEM_CONTENT_TYPE)
    .send(error.toProblem());
}

/**
 * A fastify `onRequest` hook: verifies the bearer token, sets `request.identity`, or answers 401
 * (400 for a malformed header, 503 when the issuer's keys cannot be fetched) with problem+json.
 * With `options.sessions`, a request without an Authorization header may instead carry a browser
 * session cookie (bearer wins when both are present); state-changing requests authenticated that
 * way need the session's CSRF token (403 otherwise).
 * Register it on the encapsulated context of the authenticated routes: `app.addHook('onRequest', authenticate(verifier))`.
 */
export function authenticate(verifier: TokenVerifier, options: AuthenticateOptions = {}): onRequestAsyncHookHandler {
  const { sessions } = options;
  return async function authenticateRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    try {
      const { authorization } = request.headers;
      if (authorization === undefined && sessions) {
        const authenticated = await sessions.authenticateSession(request);
        if (authenticated) {
          request.identity = authenticated.identity;
          request.browserSession = authenticated.session;
          return undefined;
        }
      }
      request.identity = await verifier.verify(bearerToken(authorization));
      return undefined;
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      if (error.status === 503) request.log.error({ err: error.cause ?? error, code: error.code }, 'identity provider unavailable');
      else request.log.info({ code: error.code }, 'authentication failed');
      // Returning the reply after send() ends the request in an async hook (fastify Hooks docs).
      return sendAuthenticationProblem(reply, error);
    }
  };
}

/** The caller of an authenticated route; throws TOKEN_MISSING if the route runs without `authenticate`. */
export function requireIdentity(request: FastifyRequest): Identity {
  if (!request.identity) throw new AuthenticationError('TOKEN_MISSING', 'the request was not authenticated');
  return request.identity;
}
