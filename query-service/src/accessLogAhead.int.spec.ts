import { randomBytes, randomUUID } from 'node:crypto';
import { hmacPseudonymiser, type AccessRecord } from '@fitledger/audit';
import { createTokenVerifier } from '@fitledger/auth';
import { migrateReadModels, type ReadModelDb } from '@fitledger/projections';
import { signTestToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, inProcessChangeSource } from './app';
import { insertWorkout } from './testing/readModelRows';

// Reads of a collection answer 200 whatever they find, so their access record is written while
// the data is read (recordWhileReading → recordAccessAhead; the caller's own data only); a read of
// one record is recorded once its status is known. Shown by the order of the record's append and
// the read-model checkouts. (Reads under consent or break-glass: httpAccessLog.unit.spec.ts.)
let database: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let readPool: pg.Pool;
let oidc: DevOidcProvider;
let app: FastifyInstance;
let token: string;
const alice = { sub: randomUUID(), tenant: randomUUID() };
const events: string[] = [];
const records: AccessRecord[] = [];
let failReads = false;

beforeAll(async () => {
  database = await testDatabase('qs_access_ahead');
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await migrateReadModels(pool);
  // The read models' pool as the app sees it: every checkout is noted, and can be made to fail.
  readPool = new pg.Pool({ connectionString: database.url, max: 4 });
  const connect = readPool.connect.bind(readPool);
  readPool.connect = ((...args: unknown[]) => {
    events.push('read');
    if (failReads) return Promise.reject(new Error('read models unavailable'));
    return (connect as (...a: unknown[]) => unknown)(...args);
  }) as typeof readPool.connect;
  oidc = await startDevOidcProvider();
  app = buildApp({
    db: readPool,
    dedicatedReadPool: true,
    verifier: createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience }),
    changeSource: inProcessChangeSource(),
    rateLimits: { enabled: false, userPerMinute: 1, orgPerMinute: 1 },
    accessLog: {
      log: {
        append: (record) => {
          events.push(`append ${record.status}`);
          records.push(record);
          return Promise.resolve();
        },
        close: () => Promise.resolve(),
      },
      pseudonymise: hmacPseudonymiser(randomBytes(32)),
    },
  });
  await app.ready();
  token = await signTestToken({ ...oidc.accessTokenClaims('alice'), sub: alice.sub, tenant_id: alice.tenant }, { privateKey: oidc.signingKey });
});

afterAll(async () => {
  await app?.close();
  await readPool?.end();
  await pool?.end();
  await oidc?.close();
  await database?.drop();
});

async function read(url: string, headers: Record<string, string> = {}): Promise<{ status: number; events: string[]; records: AccessRecord[]; etag: string | undefined }> {
  events.length = 0;
  records.length = 0;
  const response = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: response.statusCode, events: [...events], records: [...records], etag: response.headers.etag };
}

describe('access records of collection reads are written while the collection is read', () => {
  it.each([
    '/api/v1/workouts',
    '/api/v1/body-metrics?metric=weight',
    '/api/v1/personal-records',
    '/api/v1/goals',
    '/api/v1/plans',
    '/api/v1/templates',
    '/api/v1/streaks',
    '/api/v1/exercises?q=squat',
    '/api/v1/leaderboard',
  ])('%s: one record (200), appended before the read models are read', async (url) => {
    const result = await read(url);
    expect(result.status).toBe(200);
    expect(result.records.map((r) => [r.status, r.outcome])).toEqual([[200, 'allowed']]);
    // Nothing is read before the record is started (the caller's own data: no consent lookup).
    expect(result.events[0]).toBe('append 200');
    expect(result.events.slice(1)).toContain('read');
  });

  it('a read of one record is recorded once its status is known (404 here), after the read', async () => {
    const result = await read(`/api/v1/workouts/${randomUUID()}`);
    expect(result.status).toBe(404);
    expect(result.records.map((r) => [r.status, r.outcome])).toEqual([[404, 'denied']]);
    expect(result.events.at(-1)).toBe('append 404');
    expect(result.events).toContain('read');
  });

  it('a workout found and not answered 304: recorded while its sets are read; a 304 is recorded once known, after the read', async () => {
    const db = new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool }) });
    const workoutId = randomUUID();
    await insertWorkout(db, { workout_id: workoutId, tenant_id: alice.tenant, subject_id: alice.sub, sort_at: '2026-11-30T10:00:00Z', started_at: '2026-11-30T10:00:00Z' });
    const found = await read(`/api/v1/workouts/${workoutId}`);
    expect(found.status).toBe(200);
    expect(found.records.map((r) => [r.status, r.recordId])).toEqual([[200, workoutId]]);
    // The workout row first, then the record, then the sets.
    expect(found.events).toEqual(['read', 'append 200', 'read']);

    const unchanged = await read(`/api/v1/workouts/${workoutId}`, { 'if-none-match': found.etag ?? '' });
    expect(unchanged.status).toBe(304);
    expect(unchanged.records.map((r) => [r.status, r.outcome])).toEqual([[304, 'allowed']]);
    expect(unchanged.events).toEqual(['read', 'append 304']);
  });

  it('a collection read that fails after its record was started is recorded again with the status that left', async () => {
    failReads = true;
    try {
      const result = await read('/api/v1/workouts');
      expect(result.status).toBe(500);
      expect(result.records.map((r) => [r.status, r.outcome])).toEqual([
        [200, 'allowed'],
        [500, 'error'],
      ]);
      expect(new Set(result.records.map((r) => r.requestId)).size).toBe(1);
    } finally {
      failReads = false;
    }
  });
});
