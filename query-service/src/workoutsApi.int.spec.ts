import { createTokenVerifier } from '@fitledger/auth';
import { migrateReadModels, type ReadModelDb } from '@fitledger/projections';
import { getDevToken, signTestToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, inProcessChangeSource } from './app';
import { encodeFeedCursor } from './cursor';
import { insertPersonalRecord, insertSet, insertWorkout } from './testing/readModelRows';
import type { WorkoutDetailRepresentation, WorkoutSummaryRepresentation } from './workoutRepresentation';

const TENANT = '3f1e2d4c-5b6a-4798-8c0b-1a2b3c4d5e6f';
const OTHER_TENANT = 'aaaaaaaa-0000-4000-8000-000000000000';

interface Page {
  items: WorkoutSummaryRepresentation[];
  nextCursor: string | null;
}

let database: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let db: Kysely<ReadModelDb>;
let oidc: DevOidcProvider;
let app: FastifyInstance;
let alice: { sub: string; token: string };
let bob: { sub: string; token: string };

/** Expected order of the list: sort_at DESC, workout_id DESC (text with microseconds sorts like the instant). */
interface Seeded {
  id: string;
  sortAt: string;
  status: 'planned' | 'in_progress' | 'completed' | 'cancelled';
  exercises: string[];
}
const aliceWorkouts: Seeded[] = [];

function uuid(n: number, prefix = '00000000'): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function byListOrder(a: Seeded, b: Seeded): number {
  if (a.sortAt !== b.sortAt) return a.sortAt < b.sortAt ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}

async function get<T>(url: string, token: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const response = await app.inject({ method: 'GET', url, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  return { status: response.statusCode, body: (response.body === '' ? undefined : response.json()) as T, headers: response.headers };
}

async function walk(query: string, token: string): Promise<{ pages: Page[]; items: WorkoutSummaryRepresentation[] }> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const sep = query.includes('?') ? '&' : '?';
    const { status, body }: { status: number; body: Page } = await get<Page>(`${query}${cursor ? `${sep}cursor=${cursor}` : ''}`, token);
    expect(status).toBe(200);
    pages.push(body);
    cursor = body.nextCursor;
  } while (cursor !== null && pages.length < 100);
  return { pages, items: pages.flatMap((p) => p.items) };
}

beforeAll(async () => {
  database = await testDatabase('qs_rest');
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await migrateReadModels(pool);
  db = new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool }) });
  oidc = await startDevOidcProvider();
  alice = { sub: oidc.users.alice.sub, token: await getDevToken(oidc.issuer, 'alice') };
  bob = { sub: oidc.users.bob.sub, token: await getDevToken(oidc.issuer, 'bob') };
  app = buildApp({ db: pool, verifier: createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience }), changeSource: inProcessChangeSource() });
  await app.ready();

  const statuses = ['planned', 'in_progress', 'completed', 'cancelled'] as const;
  for (let i = 0; i < 45; i++) {
    // Exact ties on sort_at (i = 10k, 10k + 1) and pairs that differ only below the millisecond
    // (.123456 vs .1234xx) exercise the keyset at timestamptz precision.
    const base = Date.UTC(2024, 0, 1) + Math.floor(i / 2) * 86_400_000;
    const micros = i % 10 === 0 || i % 10 === 1 ? '000000' : i % 2 === 0 ? '123456' : `1234${(i % 100).toString().padStart(2, '0')}`;
    const sortAt = `${new Date(base).toISOString().slice(0, 19)}.${micros}Z`;
    const seeded: Seeded = { id: uuid(i + 1, 'a11ce000'), sortAt, status: statuses[i % 4] ?? 'completed', exercises: i % 3 === 0 ? ['squat', 'bench'] : ['deadlift'] };
    aliceWorkouts.push(seeded);
    await insertWorkout(db, {
      workout_id: seeded.id,
      tenant_id: TENANT,
      subject_id: alice.sub,
      sort_at: sortAt,
      status: seeded.status,
      title: `Session ${i}`,
      exercise_ids: seeded.exercises,
      revision: i + 1,
    });
  }
  for (let i = 0; i < 3; i++) {
    await insertWorkout(db, { workout_id: uuid(i + 1, 'b0b00000'), tenant_id: TENANT, subject_id: bob.sub, sort_at: '2024-01-05T10:00:00Z', exercise_ids: ['squat'] });
  }
  // Alice's subject id under another tenant: not hers in this tenant's context.
  await insertWorkout(db, { workout_id: uuid(1, '07e40000'), tenant_id: OTHER_TENANT, subject_id: alice.sub, sort_at: '2024-01-05T10:00:00Z' });
});

afterAll(async () => {
  await app?.close();
  await db?.destroy();
  await oidc?.close();
  await database?.drop();
});

describe('GET /api/v1/workouts', () => {
  it('walks every page to return each of the caller’s workouts exactly once, newest first (ties by workoutId)', async () => {
    const { pages, items } = await walk('/api/v1/workouts?limit=7', alice.token);
    expect(pages).toHaveLength(7);
    expect(pages.slice(0, -1).every((p) => p.items.length === 7)).toBe(true);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    expect(items.map((w) => w.workoutId)).toEqual([...aliceWorkouts].sort(byListOrder).map((w) => w.id));
  });

  it('returns 20 workouts by default and up to 100 when asked', async () => {
    const byDefault = await get<Page>('/api/v1/workouts', alice.token);
    expect(byDefault.body.items).toHaveLength(20);
    expect(byDefault.body.nextCursor).not.toBeNull();
    const max = await get<Page>('/api/v1/workouts?limit=100', alice.token);
    expect(max.status).toBe(200);
    expect(max.body.items).toHaveLength(45);
    expect(max.body.nextCursor).toBeNull();
  });

  it('combines the status, exerciseId, from and to filters, across pages', async () => {
    const from = '2024-01-03T00:00:00.000Z';
    const to = '2024-01-20T00:00:00.000Z';
    const { items } = await walk(`/api/v1/workouts?status=planned&status=completed&exerciseId=squat&from=${from}&to=${to}&limit=2`, alice.token);
    const expected = aliceWorkouts
      .filter((w) => ['planned', 'completed'].includes(w.status) && w.exercises.includes('squat') && w.sortAt >= from.replace('.000Z', '.000000Z') && w.sortAt < to.replace('.000Z', '.000000Z'))
      .sort(byListOrder)
      .map((w) => w.id);
    expect(expected.length).toBeGreaterThan(2);
    expect(items.map((w) => w.workoutId)).toEqual(expected);
    expect(items.every((w) => w.exerciseIds.includes('squat') && ['planned', 'completed'].includes(w.status))).toBe(true);
  });

  it.each([101, 1000, 0])('rejects limit=%i with a 400 problem naming limit', async (limit) => {
    const { status, body, headers } = await get<{ code: string; errors: { field: string }[] }>(`/api/v1/workouts?limit=${limit}`, alice.token);
    expect(status).toBe(400);
    expect(headers['content-type']).toContain('application/problem+json');
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.errors[0]?.field).toBe('/querystring/limit');
  });

  it('rejects an unknown query parameter with 400', async () => {
    const { status, body } = await get<{ errors: { field: string; message: string }[] }>('/api/v1/workouts?subjectId=someone-else', alice.token);
    expect(status).toBe(400);
    expect(body.errors[0]).toEqual({ field: '/querystring/subjectId', message: 'unknown field' });
  });

  it('rejects a tampered or foreign cursor with 400, and accepts the cursor it issued', async () => {
    const first = await get<Page>('/api/v1/workouts?limit=3', alice.token);
    const cursor = first.body.nextCursor ?? '';
    expect((await get<Page>(`/api/v1/workouts?limit=3&cursor=${cursor}`, alice.token)).status).toBe(200);

    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const reencode = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    const tampered = [
      `${cursor.slice(0, -2)}!!`, // not base64url
      cursor.slice(0, -1), // truncated
      reencode({ ...decoded, w: "x' OR 1=1 --" }),
      reencode({ ...decoded, s: 'yesterday' }),
      reencode({ ...decoded, extra: 1 }),
      reencode([decoded]),
      encodeFeedCursor({ feedId: '1' }), // a feed cursor is not a list cursor
    ];
    for (const bad of tampered) {
      const { status, body } = await get<{ code: string }>(`/api/v1/workouts?cursor=${encodeURIComponent(bad)}`, alice.token);
      expect({ bad, status, code: body.code }).toEqual({ bad, status: 400, code: expect.stringMatching(/INVALID_CURSOR|VALIDATION_FAILED/) as unknown });
    }
  });

  it('rejects from after to with 400', async () => {
    expect((await get('/api/v1/workouts?from=2024-02-01T00:00:00Z&to=2024-01-01T00:00:00Z', alice.token)).status).toBe(400);
  });
});

describe('GET /api/v1/workouts/{workoutId}', () => {
  const workoutId = uuid(1, 'a11ce000');

  beforeAll(async () => {
    // Inserted out of order: the response orders by ordinal.
    const sets = [
      { ordinal: 2, set_id: uuid(3, '5e700000'), exercise_id: 'squat', reps: 5, load_value: '220.5', load_unit: 'lb', load_kg: '100.0178' },
      { ordinal: 0, set_id: uuid(1, '5e700000'), exercise_id: 'squat', reps: 5, load_value: '60', load_unit: 'kg', load_kg: '60', warm_up: true },
      { ordinal: 1, set_id: uuid(2, '5e700000'), exercise_id: 'bench', reps: 8, load_value: '80', load_unit: 'kg', load_kg: '80', rpe: '8.5', custom_fields: JSON.stringify({ tempo: '3-1-1' }) },
    ];
    for (const set of sets) await insertSet(db, { workout_id: workoutId, tenant_id: TENANT, subject_id: alice.sub, ...set });
  });

  it('returns the caller’s workout with its sets ordered by ordinal, loads in kg and as entered', async () => {
    const { status, body, headers } = await get<WorkoutDetailRepresentation>(`/api/v1/workouts/${workoutId}`, alice.token);
    expect(status).toBe(200);
    expect(headers['cache-control']).toBe('private, no-cache');
    expect(body.workoutId).toBe(workoutId);
    expect(body.sets.map((s) => s.ordinal)).toEqual([0, 1, 2]);
    expect(body.sets[2]).toMatchObject({ exerciseId: 'squat', reps: 5, loadKg: 100.0178, loadEntered: { value: 220.5, unit: 'lb' } });
    expect(body.sets[0]).toMatchObject({ warmUp: true, loadKg: 60, loadEntered: { value: 60, unit: 'kg' }, distanceM: null, distanceEntered: null });
    expect(body.sets[1]).toMatchObject({ rpe: 8.5, customFields: { tempo: '3-1-1' } });
  });

  it('answers 404 for another subject’s workout (and 200 to its owner)', async () => {
    expect((await get(`/api/v1/workouts/${workoutId}`, alice.token)).status).toBe(200);
    const asBob = await get<{ code: string }>(`/api/v1/workouts/${workoutId}`, bob.token);
    expect(asBob.status).toBe(404);
    expect(asBob.body.code).toBe('WORKOUT_NOT_FOUND');
  });

  it('answers 404 for the caller’s subject id under another tenant', async () => {
    expect((await get(`/api/v1/workouts/${uuid(1, '07e40000')}`, alice.token)).status).toBe(404);
  });

  it('answers 404 for an unknown workout and 400 for an id that is not a UUID', async () => {
    expect((await get(`/api/v1/workouts/${uuid(999, 'a11ce000')}`, alice.token)).status).toBe(404);
    expect((await get('/api/v1/workouts/not-a-uuid', alice.token)).status).toBe(400);
  });

  it('sends the revision as ETag and answers If-None-Match with 304 until the workout changes', async () => {
    const first = await get(`/api/v1/workouts/${workoutId}`, alice.token);
    expect(first.headers.etag).toBe('"1"');
    for (const tag of ['"1"', 'W/"1"', '"0", "1"', '*']) {
      const again = await get(`/api/v1/workouts/${workoutId}`, alice.token, { 'if-none-match': tag });
      expect({ tag, status: again.status, etag: again.headers.etag, body: again.body }).toEqual({ tag, status: 304, etag: '"1"', body: undefined });
    }
    await db.updateTable('rm_workouts').set({ revision: 2 }).where('workout_id', '=', workoutId).execute();
    const changed = await get(`/api/v1/workouts/${workoutId}`, alice.token, { 'if-none-match': '"1"' });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).toBe('"2"');
    // Someone else's tag never reveals anything: bob gets 404, not 304.
    expect((await get(`/api/v1/workouts/${workoutId}`, bob.token, { 'if-none-match': '*' })).status).toBe(404);
  });
});

describe('GET /api/v1/personal-records', () => {
  beforeAll(async () => {
    await insertPersonalRecord(db, { subject_id: alice.sub, tenant_id: TENANT, exercise_id: 'squat', one_rm_kg: '140', epley_kg: '146.67', best_volume_kg: '2500' });
    await insertPersonalRecord(db, { subject_id: alice.sub, tenant_id: TENANT, exercise_id: 'bench', five_rm_kg: '90' });
    await insertPersonalRecord(db, { subject_id: bob.sub, tenant_id: TENANT, exercise_id: 'squat', one_rm_kg: '200' });
  });

  it('returns only the caller’s records, filtered by exerciseId when given', async () => {
    const all = await get<{ items: { exerciseId: string; oneRmKg: number | null }[] }>('/api/v1/personal-records', alice.token);
    expect(all.status).toBe(200);
    expect(all.body.items.map((r) => r.exerciseId)).toEqual(['bench', 'squat']);
    const squat = await get<{ items: unknown[] }>('/api/v1/personal-records?exerciseId=squat', alice.token);
    expect(squat.body.items).toEqual([
      {
        exerciseId: 'squat',
        oneRmKg: 140,
        threeRmKg: null,
        fiveRmKg: null,
        tenRmKg: null,
        epleyKg: 146.67,
        brzyckiKg: null,
        bestVolumeKg: 2500,
        // No profile: shown in kg (metric default).
        display: { unit: 'kg', oneRm: 140, threeRm: null, fiveRm: null, tenRm: null, epley: 146.67, brzycki: null, bestVolume: 2500 },
      },
    ]);
    const bobs = await get<{ items: { oneRmKg: number }[] }>('/api/v1/personal-records', bob.token);
    expect(bobs.body.items.map((r) => r.oneRmKg)).toEqual([200]);
  });
});

describe('authentication', () => {
  const routes = ['/api/v1/workouts', `/api/v1/workouts/${uuid(1, 'a11ce000')}`, '/api/v1/personal-records'];

  it.each(routes)('GET %s answers 401 without a token and with a forged one, 200 with the real token', async (route) => {
    const none = await get<{ code: string }>(route, undefined);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="fitledger"');
    const forged = await signTestToken(oidc.accessTokenClaims('alice')); // right claims, key the issuer never published
    const withForged = await get<{ code: string }>(route, forged);
    expect(withForged.status).toBe(401);
    expect(withForged.body.code).toBe('TOKEN_INVALID');
    expect((await get(route, alice.token)).status).toBe(200);
  });

  it('answers 403 to a valid token without the fitledger:read scope', async () => {
    const writeOnly = await signTestToken({ ...oidc.accessTokenClaims('alice'), scope: 'fitledger:write' }, { privateKey: oidc.signingKey });
    const { status, body } = await get<{ code: string }>('/api/v1/workouts', writeOnly);
    expect(status).toBe(403);
    expect(body.code).toBe('INSUFFICIENT_SCOPE');
    const readable = await signTestToken(oidc.accessTokenClaims('alice'), { privateKey: oidc.signingKey });
    expect((await get('/api/v1/workouts', readable)).status).toBe(200);
  });

  it('publishes every route in the OpenAPI document', async () => {
    const { body } = await get<{ paths: Record<string, unknown> }>('/openapi.json', undefined);
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/api/v1/workouts', '/api/v1/workouts/{workoutId}', '/api/v1/personal-records', '/api/v1/feed']));
  });
});
