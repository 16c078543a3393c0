import fastifyRateLimit from '@fastify/rate-limit';
import type { Identity } from '@fitledger/auth';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem';

/** Request budgets, as the services' configuration gives them. */
export interface RateLimitSettings {
  /** RATE_LIMIT_ENABLED: false turns limiting off (benchmarks only). */
  readonly enabled: boolean;
  /**
   * RATE_LIMIT_USER_PER_MINUTE: requests of one user (token `sub`). Also the budget of
   * unauthenticated requests (no token, a bad one, unknown paths) per client IP.
   */
  readonly userPerMinute: number;
  /** RATE_LIMIT_ORG_PER_MINUTE: requests of all users of one organisation (token `tenant_id`) together. */
  readonly orgPerMinute: number;
}

export interface RateLimitOptions extends RateLimitSettings {
  /** Length of the window the budgets are counted in; default one minute (tests shorten it). */
  readonly windowMs?: number;
  /**
   * An ioredis client, so every replica counts against the same budgets (@fastify/rate-limit's
   * Redis store). Default: in-memory counters per process, enough for one instance.
   */
  readonly redis?: unknown;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = Object.freeze({ enabled: true, userPerMinute: 1200, orgPerMinute: 20_000 });

const MINUTE_MS = 60_000;
/** Keys kept per budget by the in-memory store (least recently used are dropped: a forgotten key starts afresh). */
const LOCAL_KEYS = 50_000;

/** Probes and the API documentation are never limited: a load balancer or a reader must not be refused. */
function isUnlimited(url: string | undefined): boolean {
  return url === '/healthz' || url === '/readyz' || url === '/openapi.json' || url === '/docs' || url?.startsWith('/docs/') === true;
}

/** The OpenAPI answer every limited route may give. */
const tooManyRequestsResponse = {
  description: 'Over the caller’s, their organisation’s or (unauthenticated) their IP address’s request budget; retry after `Retry-After` seconds.',
  headers: {
    'retry-after': { type: 'integer', description: 'Seconds until the budget refills.' },
    'x-ratelimit-limit': { type: 'integer', description: 'Requests per window of the budget that refused.' },
    'x-ratelimit-remaining': { type: 'integer' },
    'x-ratelimit-reset': { type: 'integer', description: 'Seconds until the window ends.' },
  },
  $ref: 'Problem#',
} as const;

type Budget = 'user' | 'organisation' | 'client';
const CODES: Record<Budget, string> = { user: 'USER_RATE_LIMITED', organisation: 'ORGANISATION_RATE_LIMITED', client: 'CLIENT_RATE_LIMITED' };
const WHOSE: Record<Budget, string> = { user: 'your', organisation: 'your organisation’s', client: 'this client address’s' };

interface Count {
  readonly max: number;
  readonly remaining: number;
  readonly ttlInSeconds: number;
}

function rateLimitHeaders(count: Count): Record<string, string> {
  return { 'x-ratelimit-limit': String(count.max), 'x-ratelimit-remaining': String(count.remaining), 'x-ratelimit-reset': String(count.ttlInSeconds) };
}

/** RFC 6585 §4 429 with RFC 9110 §10.2.3 Retry-After (whole seconds, at least 1). */
function tooManyRequests(budget: Budget, count: Count): HttpProblem {
  const retryAfterS = Math.max(1, count.ttlInSeconds);
  return new HttpProblem(429, CODES[budget], 'Too Many Requests', `${WHOSE[budget]} request budget is used up; retry in ${retryAfterS} s`, undefined, {
    ...rateLimitHeaders({ ...count, remaining: 0 }),
    'retry-after': String(retryAfterS),
    'cache-control': 'no-store',
  });
}

/** Set by @fitledger/auth's `authenticate` hook (or the feed's handshake) once the token is verified. */
const identityOf = (request: FastifyRequest): Identity | undefined => request.identity;

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type Limited = Exclude<Awaited<ReturnType<Limiter>>, { isAllowed: true }>;

/** No allow list is configured, so a result is always counted; this narrows the library's union. */
async function counted(limiter: Limiter, request: FastifyRequest, increment = true): Promise<Limited> {
  const result = await limiter(request, { increment });
  if (result.isAllowed) throw new Error('unreachable: rate limiter without an allow list allowed a request');
  return result;
}

async function rateLimitsPlugin(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  if (!options.enabled) return;
  const timeWindow = options.windowMs ?? MINUTE_MS;
  // global: false — the plugin's own route hooks are not used: they mark a request as counted
  // (one shared flag), so a second budget through them would be skipped, and they answer with
  // their own error shape. createRateLimit() gives each budget its own counters (a child store)
  // and hands back the numbers; the hooks below decide and answer with problem+json.
  // skipOnError: an unreachable Redis lets requests through rather than failing them all.
  await app.register(fastifyRateLimit, {
    global: false,
    timeWindow,
    skipOnError: true,
    ...(options.redis === undefined ? {} : { redis: options.redis, nameSpace: 'fitledger-rate-limit-' }),
  });
  // `cache` sizes each child's in-memory LRU (the library reads it from these options). Keys are
  // prefixed because the Redis store's children share one namespace when made this way.
  const budget = (max: number, key: (request: FastifyRequest) => string): Limiter => {
    const limiterOptions = { max, timeWindow, keyGenerator: key, cache: LOCAL_KEYS };
    return app.createRateLimit(limiterOptions);
  };
  const perUser = budget(options.userPerMinute, (request) => `user:${identityOf(request)?.sub ?? ''}`);
  const perOrganisation = budget(options.orgPerMinute, (request) => `org:${identityOf(request)?.tenantId ?? ''}`);
  const perClient = budget(options.userPerMinute, (request) => `ip:${request.ip}`);
  const refusedUnauthenticated = new WeakSet<FastifyRequest>();

  // Unauthenticated traffic: a client address whose budget of unauthenticated requests is used up
  // is refused before its token is even verified (the requests are counted in onResponse, once
  // they turned out unauthenticated). Behind a shared address this refuses its valid tokens too.
  app.addHook('onRequest', async (request) => {
    if (isUnlimited(request.routeOptions.url)) return;
    const client = await counted(perClient, request, false);
    if (client.remaining > 0) return;
    refusedUnauthenticated.add(request);
    throw tooManyRequests('client', client);
  });

  // preParsing runs after every onRequest hook, including `authenticate` in the routes' own
  // contexts, so the identity is verified; and before the body is read, so a refused request costs
  // no parsing. The user's budget first: a user over it does not eat into the colleagues' budget.
  app.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply) => {
    if (identityOf(request) === undefined || isUnlimited(request.routeOptions.url)) return;
    const user = await counted(perUser, request);
    if (user.isExceeded) throw tooManyRequests('user', user);
    const organisation = await counted(perOrganisation, request);
    if (organisation.isExceeded) throw tooManyRequests('organisation', organisation);
    reply.headers(rateLimitHeaders(organisation.remaining < user.remaining ? organisation : user));
  });

  app.addHook('onResponse', async (request, reply) => {
    // 5xx: the identity provider being down is not the client's doing.
    if (identityOf(request) !== undefined || reply.statusCode >= 500 || refusedUnauthenticated.has(request) || isUnlimited(request.routeOptions.url)) return;
    await counted(perClient, request);
  });

  // Documents the 429 on every limited route with a response schema (routes added after this plugin).
  app.addHook('onRoute', (route) => {
    const response = route.schema?.response;
    if (response === undefined || response === null || typeof response !== 'object' || isUnlimited(route.url) || '429' in response) return;
    route.schema = { ...route.schema, response: { ...response, 429: tooManyRequestsResponse } };
  });
}

/**
 * Request budgets with @fastify/rate-limit: every authenticated request counts against its user
 * and its organisation (so one organisation's flood cannot use up another's budget), every
 * unauthenticated one against its client IP. Over a budget → 429 problem+json with Retry-After
 * and x-ratelimit-* headers. Register on the service's root before the routes; `authenticate`
 * may run in the routes' own contexts. Health probes and /docs are never limited.
 */
export const rateLimits: FastifyPluginAsync<RateLimitOptions> = Object.assign(rateLimitsPlugin, {
  // What fastify-plugin does: the hooks land on the registering (root) instance, not a child.
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'fitledger-rate-limits',
});
