import { randomBytes } from 'node:crypto';
import { migrateReadModels } from '@fitledger/projections';
import { getDevToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryServiceConfig, startQueryService } from './app';

let database: { url: string; drop(): Promise<void> };
let oidc: DevOidcProvider;

beforeAll(async () => {
  database = await testDatabase('qs_start');
  const pool = new pg.Pool({ connectionString: database.url });
  await migrateReadModels(pool);
  await pool.end();
  oidc = await startDevOidcProvider();
});

afterAll(async () => {
  await oidc?.close();
  await database?.drop();
});

describe('startQueryService', () => {
  it('starts from environment config, answers authenticated reads and readiness, and closes cleanly', async () => {
    const config = loadQueryServiceConfig({ DATABASE_URL: database.url, OIDC_ISSUER: oidc.issuer, OIDC_AUDIENCE: oidc.audience, PORT: '0' });
    const service = await startQueryService(config, { pseudonymSecret: randomBytes(32) });
    try {
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      const token = await getDevToken(oidc.issuer, 'alice');
      const response = await fetch(`${service.url}/api/v1/workouts`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ items: [], nextCursor: null });
      expect((await fetch(`${service.url}/api/v1/workouts`)).status).toBe(401);
    } finally {
      await service.close();
    }
  });
});
