import { randomUUID } from 'node:crypto';
import { createTokenVerifier } from '@fitledger/auth';
import { migrateReadModels } from '@fitledger/projections';
import { signTestToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, inProcessChangeSource } from './app';

// The budgets themselves are shown in command-service/src/rateLimits.int.spec.ts; this shows the
// query service enforces them on its routes and its live-feed handshake, after authentication.
const USER_BUDGET = 3;
const ORG_BUDGET = 5;

let database: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let oidc: DevOidcProvider;
let app: FastifyInstance;

function tokenFor(tenantId: string): Promise<string> {
  return signTestToken({ ...oidc.accessTokenClaims('alice'), sub: randomUUID(), tenant_id: tenantId }, { privateKey: oidc.signingKey });
}

function get(url: string, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

beforeAll(async () => {
  database = await testDatabase('qs_rate_limits');
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await migrateReadModels(pool);
  oidc = await startDevOidcProvider();
  app = buildApp({
    db: pool,
    verifier: createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience }),
    changeSource: inProcessChangeSource(),
    rateLimits: { enabled: true, userPerMinute: USER_BUDGET, orgPerMinute: ORG_BUDGET },
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await oidc?.close();
  await database?.drop();
});

describe('query-service request budgets', () => {
  it('refuses a reader over their budget, counting feed handshakes, and serves a colleague and another organisation', async () => {
    const tenant = randomUUID();
    const [reader, colleague] = await Promise.all([tokenFor(tenant), tokenFor(tenant)]);
    const served = [await get('/api/v1/workouts', reader), await get('/api/v1/workouts?limit=5', reader)];
    expect(served.map((r) => r.statusCode)).toEqual([200, 200]);
    // A feed request without an upgrade is answered 426 after authentication: counted all the same.
    expect((await get('/api/v1/feed', reader)).statusCode).toBe(426);

    const refused = await get('/api/v1/workouts', reader);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({ status: 429, code: 'USER_RATE_LIMITED' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await get('/api/v1/feed', reader)).statusCode).toBe(429);

    const colleagueStatuses = [await get('/api/v1/workouts', colleague), await get('/api/v1/workouts', colleague)].map((r) => r.statusCode);
    expect(colleagueStatuses).toEqual([200, 200]);
    // reader 3 + colleague 2 = the organisation's 5: a third colleague is refused, another organisation is not.
    const orgRefused = await get('/api/v1/workouts', await tokenFor(tenant));
    expect(orgRefused.statusCode).toBe(429);
    expect(orgRefused.json()).toMatchObject({ code: 'ORGANISATION_RATE_LIMITED' });
    expect((await get('/api/v1/workouts', await tokenFor(randomUUID()))).statusCode).toBe(200);
  });

  it('never limits the health probes', async () => {
    for (let i = 0; i < USER_BUDGET * 3; i++) {
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    }
  });

  it('documents the 429 on its routes', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>();
    expect(spec.paths['/api/v1/workouts']?.['get']?.responses).toHaveProperty('429');
    expect(spec.paths['/api/v1/feed']?.['get']?.responses).toHaveProperty('429');
  });
});
