import { HttpProblem, PROBLEM_CONTENT_TYPE } from '@fitledger/http/problem';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, requireIdentity, sendAuthenticationProblem } from '../authenticate';
import { AuthenticationError } from '../errors';
import type { BrowserLogin } from './browserLogin';
import { clearCookie, readCookie, setCookie } from './cookies';

export interface BrowserLoginRoutesOptions {
  readonly login: BrowserLogin;
}

const currentUserSchema = {
  type: 'object',
  required: ['sub', 'role', 'tenantId', 'sessionId', 'csrfToken'],
  properties: {
    sub: { type: 'string' },
    role: { type: 'string' },
    tenantId: { type: 'string' },
    sessionId: { type: 'string', format: 'uuid' },
    csrfToken: { type: 'string', description: 'Send as the x-csrf-token header of every state-changing request made with the session cookie.' },
    accessTokenExpiresAt: { type: 'string', format: 'date-time' },
  },
} as const;

const sessionViewSchema = {
  type: 'object',
  required: ['id', 'createdAt', 'lastSeenAt', 'expiresAt', 'userAgent', 'clientId', 'current'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    createdAt: { type: 'string', format: 'date-time' },
    lastSeenAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    userAgent: { type: ['string', 'null'] },
    clientId: { type: 'string' },
    current: { type: 'boolean' },
  },
} as const;

function callbackQuery(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q === -1 ? '' : request.url.slice(q + 1);
}

function userAgent(request: FastifyRequest): string | undefined {
  const ua = request.headers['user-agent'];
  return typeof ua === 'string' && ua !== '' ? ua : undefined;
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: HttpProblem): FastifyReply {
  return reply
    .code(problem.status)
    .headers({ ...problem.headers, 'cache-control': 'no-store' })
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...problem.toProblem(), instance: request.url.split('?')[0] });
}

/**
 * Browser login (BFF) routes: GET /auth/login, GET /auth/callback, GET /auth/session, POST
 * /auth/refresh, POST /auth/logout, and the caller's sessions at /auth/sessions. Only login and
 * callback are open; state-changing requests with the session cookie need its CSRF token.
 */
export const browserLoginRoutes: FastifyPluginAsync<BrowserLoginRoutesOptions> = async (app, { login }) => {
  const { cookies, config } = login;
  const secure = config.cookieSecure;

  app.addHook('onClose', () => login.close());
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });
  // Auth and login problems render here, the way the authenticate hook does; anything else goes
  // to the service's own error handler (throwing from a child error handler reaches the parent's).
  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof AuthenticationError) {
      if (error.status === 503) request.log.error({ err: error.cause ?? error, code: error.code }, 'identity provider unavailable');
      else request.log.info({ code: error.code }, 'browser login refused');
      return sendAuthenticationProblem(reply, error);
    }
    if (error instanceof HttpProblem) {
      request.log.info({ code: error.code }, 'browser login refused');
      return sendProblem(request, reply, error);
    }
    throw error;
  });

  app.get<{ Querystring: { returnTo?: string } }>(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Start a browser login: redirects to the identity provider (authorization code + PKCE).',
        querystring: { type: 'object', additionalProperties: false, properties: { returnTo: { type: 'string', maxLength: 2048 } } },
      },
    },
    async (request, reply) => {
      const started = await login.startLogin(request.query.returnTo);
      reply.header('set-cookie', setCookie(cookies.login, started.state, secure, config.loginTimeoutS));
      return reply.redirect(started.authorizationUrl.href, 302);
    },
  );

  app.get('/auth/callback', { schema: { tags: ['auth'], summary: 'Where the identity provider sends the browser back; starts the session.' } }, async (request, reply) => {
    // The login cookie has done its job whatever happens next.
    reply.header('set-cookie', [clearCookie(cookies.login, secure)]);
    const finished = await login.finishLogin(callbackQuery(request), readCookie(request.headers.cookie, cookies.login), userAgent(request));
    reply.header('set-cookie', [clearCookie(cookies.login, secure), setCookie(cookies.session, finished.sessionSecret, secure, config.absoluteLifetimeS)]);
    return reply.redirect(finished.returnTo, 303);
  });

  app.get(
    '/auth/session',
    { schema: { tags: ['auth'], summary: 'The signed-in user (no personal data beyond ids) and the CSRF token.', response: { 200: currentUserSchema } } },
    async (request) => {
      const authenticated = await login.authenticateSession(request);
      if (!authenticated) throw new AuthenticationError('SESSION_INVALID', 'the request carries no session cookie');
      const { identity, session } = authenticated;
      return { sub: identity.sub, role: identity.role, tenantId: identity.tenantId, sessionId: session.id, csrfToken: session.csrfToken };
    },
  );

  app.post(
    '/auth/refresh',
    { schema: { tags: ['auth'], summary: "Refresh the session's tokens now (the refresh token is rotated).", response: { 200: currentUserSchema } } },
    async (request) => {
      const { identity, session, accessTokenExpiresAt } = await login.refresh(request);
      return {
        sub: identity.sub,
        role: identity.role,
        tenantId: identity.tenantId,
        sessionId: session.id,
        csrfToken: session.csrfToken,
        accessTokenExpiresAt: accessTokenExpiresAt.toISOString(),
      };
    },
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: "End the session; gives the identity provider's end-session URL to send the browser to.",
        response: { 200: { type: 'object', required: ['endSessionUrl'], properties: { endSessionUrl: { type: ['string', 'null'] } } } },
      },
    },
    async (request, reply) => {
      const { endSessionUrl } = await login.logout(request);
      reply.header('set-cookie', clearCookie(cookies.session, secure));
      return { endSessionUrl };
    },
  );

  // The caller's sessions: by session cookie or bearer token (an API client can end browser sessions).
  await app.register((sessions, _opts, done) => {
    sessions.addHook('onRequest', authenticate(login.verifier, { sessions: login }));

    sessions.get(
      '/auth/sessions',
      {
        schema: {
          tags: ['auth'],
          summary: "The caller's active sessions (no tokens).",
          response: { 200: { type: 'object', required: ['sessions'], properties: { sessions: { type: 'array', items: sessionViewSchema } } } },
        },
      },
      async (request) => ({ sessions: await login.listSessions(requireIdentity(request), request.browserSession?.id) }),
    );

    sessions.delete<{ Params: { id: string } }>(
      '/auth/sessions/:id',
      {
        schema: {
          tags: ['auth'],
          summary: 'Revoke one of your sessions.',
          params: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', format: 'uuid' } } },
        },
      },
      async (request, reply) => {
        // Another user's session id answers exactly like an unknown one.
        if (!(await login.revokeSession(requireIdentity(request), request.params.id))) throw new HttpProblem(404, 'SESSION_NOT_FOUND', 'Not Found', 'you have no session with this id');
        if (request.params.id === request.browserSession?.id) reply.header('set-cookie', clearCookie(cookies.session, secure));
        return reply.code(204).send();
      },
    );

    sessions.delete<{ Querystring: { exceptCurrent?: boolean } }>(
      '/auth/sessions',
      {
        schema: {
          tags: ['auth'],
          summary: 'Revoke all your sessions, optionally except the one making the request.',
          querystring: { type: 'object', additionalProperties: false, properties: { exceptCurrent: { type: 'boolean', default: false } } },
          response: { 200: { type: 'object', required: ['revoked'], properties: { revoked: { type: 'integer' } } } },
        },
      },
      async (request, reply) => {
        const current = request.browserSession?.id;
        const keep = request.query.exceptCurrent === true ? current : undefined;
        const revoked = await login.revokeAllSessions(requireIdentity(request), keep);
        if (current !== undefined && keep === undefined) reply.header('set-cookie', clearCookie(cookies.session, secure));
        return { revoked };
      },
    );
    done();
  });
};
