import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { bearerToken } from './bearerToken';
import { AuthenticationError } from './errors';
import type { Identity, TokenVerifier } from './tokenVerifier';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `authenticate` hook; undefined only on routes that run without it (health, login). */
    identity?: Identity;
  }
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
 * Register it on the encapsulated context of the authenticated routes: `app.addHook('onRequest', authenticate(verifier))`.
 */
export function authenticate(verifier: TokenVerifier): onRequestAsyncHookHandler {
  return async function authenticateRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    try {
      request.identity = await verifier.verify(bearerToken(request.headers.authorization));
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
