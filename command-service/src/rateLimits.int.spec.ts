import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTokenVerifier } from '@fitledger/auth';
import type { RateLimitOptions } from '@fitledger/http';
import { signTestToken } from '@fitledger/testing/oidc';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';

// Budgets small enough to use up in a test; the window is the default minute (never reached), except
// where a test needs it to end.
const USER_BUDGET = 5;
const ORG_BUDGET = 12;
const LIMITS: RateLimitOptions = { enabled: true, userPerMinute: USER_BUDGET, orgPerMinute: ORG_BUDGET };

describe('request budgets per user, per organisation and per client address', () => {
  let env: CommandServiceTestEnv;
  const extraApps: FastifyInstance[] = [];

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_rate_limits', { rateLimits: LIMITS });
  });
  afterAll(async () => {
    for (const app of extraApps) await app.close();
    await env.close();
  });

  /** A command app over the same store with other budgets. */
  async function appWith(rateLimits: RateLimitOptions): Promise<FastifyInstance> {
    const app = buildApp({
      store: env.store,
      codec: env.codec,
      keys: env.keys,
      verifier: createTokenVerifier({ issuer: env.oidc.issuer, audience: env.oidc.audience }),
      clock: () => new Date(),
      randomBytes: (size) => randomBytes(size),
      rateLimits,
    });
    extraApps.push(app);
    await app.ready();
    return app;
  }

  /** A token the dev provider's key signed, for a user of `tenantId` (the demo users share one organisation). */
  function tokenFor(tenantId: string, sub: string = randomUUID()): Promise<string> {
    return signTestToken({ ...env.oidc.accessTokenClaims('alice'), sub, tenant_id: tenantId }, { privateKey: env.oidc.signingKey });
  }

  /** Plan-and-start a workout: a real command, 201 when served. */
  function createWorkout(token: string | undefined, options: { app?: FastifyInstance; from?: string } = {}): Promise<LightMyRequestResponse> {
    return (options.app ?? env.app).inject({
      method: 'POST',
      url: '/api/v1/workouts',
      remoteAddress: options.from ?? '127.0.0.1',
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
      payload: JSON.stringify({ start: true, title: 'Rate limits' }),
    });
  }

  function expectTooManyRequests(response: LightMyRequestResponse, code: string, limit: number): void {
    expect(response.statusCode).toBe(429);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 429, code, title: 'Too Many Requests', type: `https://fitledger.dev/problems/${code.toLowerCase().replaceAll('_', '-')}` });
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(response.headers['x-ratelimit-limit']).toBe(String(limit));
    expect(response.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(response.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(0);
  }

  const statuses = (responses: readonly LightMyRequestResponse[]): number[] => responses.map((r) => r.statusCode);

  it('refuses a user over their budget with 429 problem+json and Retry-After, and still serves a colleague', async () => {
    const tenant = randomUUID();
    const [user, colleague] = await Promise.all([tokenFor(tenant), tokenFor(tenant)]);
    const served: LightMyRequestResponse[] = [];
    for (let i = 0; i < USER_BUDGET; i++) served.push(await createWorkout(user));
    expect(statuses(served)).toEqual([201, 201, 201, 201, 201]);
    // Every served answer says what is left of the tighter budget (here the user's).
    expect(served.map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['4', '3', '2', '1', '0']);
    expect(served[0]?.headers['x-ratelimit-limit']).toBe(String(USER_BUDGET));

    const refused = await createWorkout(user);
    expectTooManyRequests(refused, 'USER_RATE_LIMITED', USER_BUDGET);

    // Same organisation, own budget: served (positive control for the same request).
    expect((await createWorkout(colleague)).statusCode).toBe(201);
  });

  it('refuses every user of an organisation over its budget, and serves another organisation', async () => {
    const tenant = randomUUID();
    const users = await Promise.all([1, 2, 3, 4].map(() => tokenFor(tenant)));
    const responses: LightMyRequestResponse[] = [];
    // 3 users × 4 requests = the organisation's 12, each user within their own 5.
    for (const user of users.slice(0, 3)) for (let i = 0; i < 4; i++) responses.push(await createWorkout(user));
    expect(statuses(responses)).toEqual(Array<number>(ORG_BUDGET).fill(201));

    // A fourth user has used none of their own budget, but the organisation's is gone.
    expectTooManyRequests(await createWorkout(users[3]), 'ORGANISATION_RATE_LIMITED', ORG_BUDGET);
    expectTooManyRequests(await createWorkout(users[0]), 'ORGANISATION_RATE_LIMITED', ORG_BUDGET);

    expect((await createWorkout(await tokenFor(randomUUID()))).statusCode).toBe(201);
  });

  it("serves all of one organisation's requests while another organisation floods concurrently", async () => {
    const flooding = randomUUID();
    const quiet = randomUUID();
    // 10 users × 5 requests: each user within their budget, together 50 against the organisation's 12.
    const flooders = await Promise.all(Array.from({ length: 10 }, () => tokenFor(flooding)));
    // 3 users × 3 requests: within every budget.
    const others = await Promise.all(Array.from({ length: 3 }, () => tokenFor(quiet)));
    const flood = flooders.flatMap((token) => Array.from({ length: USER_BUDGET }, () => token));
    const quietRequests = others.flatMap((token) => [token, token, token]);

    // Interleaved and all in flight at once.
    const pending: { quiet: boolean; response: Promise<LightMyRequestResponse> }[] = [];
    for (let i = 0; i < flood.length; i++) {
      pending.push({ quiet: false, response: createWorkout(flood[i]) });
      const other = quietRequests[i];
      if (other !== undefined) pending.push({ quiet: true, response: createWorkout(other) });
    }
    const settled = await Promise.all(pending.map(async (p) => ({ quiet: p.quiet, response: await p.response })));

    const quietStatuses = settled.filter((s) => s.quiet).map((s) => s.response.statusCode);
    expect(quietStatuses).toEqual(Array<number>(quietRequests.length).fill(201));
    const floodResponses = settled.filter((s) => !s.quiet).map((s) => s.response);
    expect(floodResponses.filter((r) => r.statusCode === 201)).toHaveLength(ORG_BUDGET);
    const refused = floodResponses.filter((r) => r.statusCode !== 201);
    expect(refused).toHaveLength(flood.length - ORG_BUDGET);
    for (const r of refused) expectTooManyRequests(r, 'ORGANISATION_RATE_LIMITED', ORG_BUDGET);
  });

  it('refuses a flood of bad tokens per client address, before verifying them', async () => {
    const flooder = '203.0.113.7';
    const neighbour = '203.0.113.8';
    const forged = await signTestToken(env.oidc.accessTokenClaims('alice')); // a key nobody trusts
    const failures: LightMyRequestResponse[] = [];
    for (let i = 0; i < USER_BUDGET; i++) failures.push(await createWorkout(forged, { from: flooder }));
    expect(statuses(failures)).toEqual(Array<number>(USER_BUDGET).fill(401));
    // Missing tokens count too.
    expectTooManyRequests(await createWorkout(undefined, { from: flooder }), 'CLIENT_RATE_LIMITED', USER_BUDGET);
    expectTooManyRequests(await createWorkout(forged, { from: flooder }), 'CLIENT_RATE_LIMITED', USER_BUDGET);
    // The address is refused before any token is verified, so a valid one from it is refused as well.
    expectTooManyRequests(await createWorkout(env.tokens.alice, { from: flooder }), 'CLIENT_RATE_LIMITED', USER_BUDGET);

    // Another address: its bad token is still answered 401, its valid one served.
    expect((await createWorkout(forged, { from: neighbour })).statusCode).toBe(401);
    expect((await createWorkout(await tokenFor(randomUUID()), { from: neighbour })).statusCode).toBe(201);
  });

  it('never limits the health probes or the API documentation', async () => {
    const prober = '198.51.100.20';
    for (let i = 0; i < USER_BUDGET; i++) await createWorkout(undefined, { from: prober });
    expectTooManyRequests(await createWorkout(undefined, { from: prober }), 'CLIENT_RATE_LIMITED', USER_BUDGET);
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs/json']) {
      for (let i = 0; i < USER_BUDGET * 3; i++) {
        const response = await env.app.inject({ method: 'GET', url, remoteAddress: prober });
        expect(response.statusCode, url).toBe(200);
        expect(response.headers['x-ratelimit-limit'], url).toBeUndefined();
      }
    }
    const docs = await env.app.inject({ method: 'GET', url: '/docs', remoteAddress: prober });
    expect(docs.statusCode).toBeLessThan(400);

    // Nor do probes count: a fresh address that probed a lot is still answered 401, not 429.
    const fresh = '198.51.100.21';
    for (let i = 0; i < USER_BUDGET * 3; i++) await env.app.inject({ method: 'GET', url: '/healthz', remoteAddress: fresh });
    expect((await createWorkout(undefined, { from: fresh })).statusCode).toBe(401);
  });

  it('serves a user again once the window has passed', async () => {
    const app = await appWith({ enabled: true, userPerMinute: 2, orgPerMinute: 100, windowMs: 1_000 });
    const token = await tokenFor(randomUUID());
    expect(statuses([await createWorkout(token, { app }), await createWorkout(token, { app })])).toEqual([201, 201]);
    const refused = await createWorkout(token, { app });
    expectTooManyRequests(refused, 'USER_RATE_LIMITED', 2);
    // Retry-After is whole seconds rounded up: waiting that long is enough.
    await sleep(Number(refused.headers['retry-after']) * 1_000);
    expect((await createWorkout(token, { app })).statusCode).toBe(201);
  });

  it('limits nothing when disabled', async () => {
    const app = await appWith({ enabled: false, userPerMinute: 1, orgPerMinute: 1 });
    const token = await tokenFor(randomUUID());
    const responses = [await createWorkout(token, { app }), await createWorkout(token, { app }), await createWorkout(token, { app })];
    expect(statuses(responses)).toEqual([201, 201, 201]);
    expect(responses[0]?.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('documents the 429 with Retry-After on the API routes', async () => {
    const spec = (await env.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
    }>();
    const tooMany = spec.paths['/api/v1/workouts']?.['post']?.responses['429'];
    expect(tooMany?.headers).toHaveProperty('retry-after');
    expect(spec.paths['/api/v1/workouts/{workoutId}/sets']?.['post']?.responses).toHaveProperty('429');
  });
});
