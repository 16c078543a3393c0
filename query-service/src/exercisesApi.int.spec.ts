import { createTokenVerifier } from '@fitledger/auth';
import { catalogExerciseId, migrateReadModels, type ReadModelDb, type RmExercisesTable } from '@fitledger/projections';
import { signTestToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect, type Insertable } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, inProcessChangeSource } from './app';
import type { ExerciseDetailRepresentation, ExerciseSummaryRepresentation } from './exercises/exerciseRepresentation';

const TENANT_A = '3f1e2d4c-5b6a-4798-8c0b-1a2b3c4d5e6f';
const TENANT_B = 'bbbbbbbb-0000-4000-8000-000000000000';
const ALICE = '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61';
const BOB = '5d2e9c71-3a48-4f6b-8e0d-7c9b1a2f3e84';
const MALLORY = '7e7e7e7e-0000-4000-8000-000000000001';
const PROBLEM_JSON = /^application\/problem\+json/;

interface Page {
  items: ExerciseSummaryRepresentation[];
  nextCursor: string | null;
}

/** Custom exercises by hand, as the exercises projection leaves them (its own tests check how they are written). */
const custom = (n: number, row: Partial<Insertable<RmExercisesTable>> & Pick<Insertable<RmExercisesTable>, 'name' | 'tenant_id' | 'subject_id' | 'visibility'>) => ({
  exercise_id: `0190f6c1-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
  source: 'custom' as const,
  source_id: null,
  category: 'strength',
  level: 'intermediate',
  equipment: 'barbell',
  mechanic: null,
  force: null,
  primary_muscles: ['chest'],
  secondary_muscles: [],
  instructions: ['Do it.'],
  media_links: [],
  revision: 0,
  updated_position: '0'.repeat(32),
  ...row,
});

const ALICE_PRIVATE = custom(1, { name: 'Alice Zercher Bench Press', tenant_id: TENANT_A, subject_id: ALICE, visibility: 'private' });
const BOB_PRIVATE = custom(2, { name: 'Bob Zercher Bench Press', tenant_id: TENANT_A, subject_id: BOB, visibility: 'private' });
const BOB_ORGANISATION = custom(3, { name: 'Team Zercher Bench Press', tenant_id: TENANT_A, subject_id: BOB, visibility: 'organisation' });
const OTHER_ORGANISATION = custom(4, { name: 'Rival Zercher Bench Press', tenant_id: TENANT_B, subject_id: MALLORY, visibility: 'organisation' });
const OTHER_PRIVATE = custom(5, { name: 'Mallory Zercher Bench Press', tenant_id: TENANT_B, subject_id: MALLORY, visibility: 'private' });
const ARCHIVED = custom(6, { name: 'Retired Zercher Bench Press', tenant_id: TENANT_A, subject_id: ALICE, visibility: 'private', archived: true });
/** Same name in another tenant and in alice's own: only hers may show up for her. */
const SAME_NAME_ELSEWHERE = custom(7, { name: 'Zercher Squat Twin', tenant_id: TENANT_B, subject_id: MALLORY, visibility: 'organisation' });

let database: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let db: Kysely<ReadModelDb>;
let oidc: DevOidcProvider;
let app: FastifyInstance;
const tokens: Record<'alice' | 'bob' | 'mallory', string> = { alice: '', bob: '', mallory: '' };

async function tokenFor(sub: string, tenantId: string): Promise<string> {
  return signTestToken({ ...oidc.accessTokenClaims('alice'), sub, tenant_id: tenantId }, { privateKey: oidc.signingKey });
}

async function get<T>(url: string, token: string | undefined = tokens.alice): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const response = await app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.statusCode, body: response.json<T>(), headers: response.headers };
}

const search = async (query: string, token?: string): Promise<ExerciseSummaryRepresentation[]> => {
  const { status, body } = await get<Page>(`/api/v1/exercises?${query}`, token);
  expect(status, JSON.stringify(body)).toBe(200);
  return body.items;
};
const names = (items: readonly { name: string }[]): string[] => items.map((i) => i.name);

beforeAll(async () => {
  database = await testDatabase('qs_exercises');
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await migrateReadModels(pool);
  db = new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool }) });
  await db.insertInto('rm_exercises').values([ALICE_PRIVATE, BOB_PRIVATE, BOB_ORGANISATION, OTHER_ORGANISATION, OTHER_PRIVATE, ARCHIVED, SAME_NAME_ELSEWHERE]).execute();
  oidc = await startDevOidcProvider();
  tokens.alice = await tokenFor(ALICE, TENANT_A);
  tokens.bob = await tokenFor(BOB, TENANT_A);
  tokens.mallory = await tokenFor(MALLORY, TENANT_B);
  app = buildApp({ db: pool, verifier: createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience }), changeSource: inProcessChangeSource() });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await oidc?.close();
  await db?.destroy();
  await database?.drop();
});

describe('exercise search (catalog seeded by migration, real PostgreSQL with pg_trgm)', () => {
  it('has the whole public catalog with stable ids', async () => {
    const count = await db.selectFrom('rm_exercises').select((eb) => eb.fn.countAll<string>().as('n')).where('source', '=', 'catalog').executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(873);
    const { status, body } = await get<ExerciseDetailRepresentation>(`/api/v1/exercises/${catalogExerciseId('Barbell_Squat')}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'Barbell Squat', source: 'catalog', catalogId: 'Barbell_Squat', visibility: 'public', ownedByCaller: false, archived: false, revision: null });
    expect(body.instructions.length).toBeGreaterThan(0);
    expect(body.mediaLinks.every((link) => link.startsWith('https://'))).toBe(true);
  });

  it('"bech pres" finds Bench Press: every one of the top five is a bench press', async () => {
    const top = names(await search('q=bech%20pres&limit=5'));
    expect(top).toHaveLength(5);
    for (const name of top) expect(name).toMatch(/bench press/i);
  });

  it('"dumbel curl" finds dumbbell curls at the top', async () => {
    const top = names(await search('q=dumbel%20curl&limit=5'));
    expect(top).toHaveLength(5);
    for (const name of top) expect(name).toMatch(/dumbbell.*curl/i);
    expect(names(await search('q=dumbel%20curl&limit=20'))).toContain('Dumbbell Bicep Curl');
  });

  it('tolerates typos in single words and finds exact names first', async () => {
    expect(names(await search('q=barbel%20squat&limit=1'))).toEqual(['Barbell Squat']);
    expect(names(await search('q=romanian%20deadlift&limit=1'))).toEqual(['Romanian Deadlift']);
    expect(names(await search('q=hamstring%20strech&limit=1'))).toEqual(['Hamstring Stretch']);
  });

  it('combines filters (muscle AND equipment AND level), with and without q', async () => {
    const filtered = await search('muscle=biceps&equipment=dumbbell&level=beginner&limit=50');
    expect(filtered.length).toBeGreaterThan(0);
    for (const item of filtered) {
      expect(item.primaryMuscles).toContain('biceps');
      expect(item).toMatchObject({ equipment: 'dumbbell', level: 'beginner' });
    }
    const withQuery = await search('q=curl&muscle=biceps&equipment=dumbbell&level=beginner&limit=50');
    expect(withQuery.length).toBeGreaterThan(0);
    for (const item of withQuery) expect(item).toMatchObject({ equipment: 'dumbbell', level: 'beginner' });
    // Each filter narrows: the combination is a subset of each single filter.
    const byEquipment = new Set((await search('q=curl&equipment=dumbbell&limit=50')).map((i) => i.exerciseId));
    for (const item of withQuery) expect(byEquipment.has(item.exerciseId)).toBe(true);
    // Several values of one filter are alternatives.
    const either = await search('equipment=kettlebells&equipment=cable&category=strength&limit=50');
    expect(new Set(either.map((i) => i.equipment))).toEqual(new Set(['kettlebells', 'cable']));
  });

  it('pages through a ranked search with cursors: no duplicates, nothing skipped, order kept', async () => {
    const all = await search('q=press&limit=50');
    const walked: ExerciseSummaryRepresentation[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body }: { status: number; body: Page } = await get<Page>(`/api/v1/exercises?q=press&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      expect(body.items.length).toBeLessThanOrEqual(7);
      walked.push(...body.items);
      cursor = body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 50);
    expect(walked.length).toBeGreaterThan(50);
    expect(new Set(walked.map((i) => i.exerciseId)).size).toBe(walked.length);
    expect(walked.slice(0, 50).map((i) => i.exerciseId)).toEqual(all.map((i) => i.exerciseId));
  });

  it('suggests names by word prefix, few and best first', async () => {
    const { status, body } = await get<{ items: { name: string; exerciseId: string; source: string }[] }>('/api/v1/exercises/suggest?prefix=bench%20p');
    expect(status).toBe(200);
    expect(body.items.length).toBeGreaterThan(0);
    expect(body.items.length).toBeLessThanOrEqual(8);
    for (const item of body.items) expect(item.name).toMatch(/\bbench\b.*\bp/i);
    expect(body.items[0]?.name).toMatch(/^bench p/i);
    const one = await get<{ items: { name: string }[] }>('/api/v1/exercises/suggest?prefix=dumbb&limit=3');
    expect(one.body.items).toHaveLength(3);
    for (const item of one.body.items) expect(item.name).toMatch(/^dumbbell/i);
  });
});

describe('exercise visibility', () => {
  const everyZercher = 'q=zercher%20bench%20press&limit=50';

  it('shows alice the catalog, her organisation’s exercises and her own private ones (positive control)', async () => {
    const found = names(await search(everyZercher));
    expect(found).toEqual(expect.arrayContaining(['Alice Zercher Bench Press', 'Team Zercher Bench Press']));
    const mine = (await search(everyZercher)).find((i) => i.name === 'Alice Zercher Bench Press');
    expect(mine).toMatchObject({ ownedByCaller: true, visibility: 'private', source: 'custom' });
    expect((await get(`/api/v1/exercises/${ALICE_PRIVATE.exercise_id}`)).status).toBe(200);
    expect((await get(`/api/v1/exercises/${BOB_ORGANISATION.exercise_id}`)).status).toBe(200);
    // The owner of an organisation exercise sees it as theirs; colleagues do not.
    expect((await get<ExerciseDetailRepresentation>(`/api/v1/exercises/${BOB_ORGANISATION.exercise_id}`, tokens.bob)).body.ownedByCaller).toBe(true);
    expect((await get<ExerciseDetailRepresentation>(`/api/v1/exercises/${BOB_ORGANISATION.exercise_id}`)).body.ownedByCaller).toBe(false);
  });

  it('never shows another organisation’s custom exercise: not in search, not in suggest, not by id', async () => {
    const hidden = [OTHER_ORGANISATION, OTHER_PRIVATE, SAME_NAME_ELSEWHERE];
    for (const q of [everyZercher, 'q=rival', 'q=rival%20zercher', 'q=zercher%20squat%20twin', 'q=zercher', 'muscle=chest&equipment=barbell&limit=50']) {
      const ids = new Set((await search(q)).map((i) => i.exerciseId));
      for (const row of hidden) expect(ids.has(row.exercise_id), `${q} leaked ${row.name}`).toBe(false);
    }
    for (const prefix of ['rival', 'zercher', 'mallory', 'z']) {
      const { body } = await get<{ items: { exerciseId: string }[] }>(`/api/v1/exercises/suggest?prefix=${prefix}&limit=10`);
      for (const row of hidden) expect(body.items.map((i) => i.exerciseId)).not.toContain(row.exercise_id);
    }
    for (const row of hidden) {
      const { status, body } = await get<{ code: string }>(`/api/v1/exercises/${row.exercise_id}`);
      expect(status).toBe(404);
      expect(body.code).toBe('EXERCISE_NOT_FOUND');
    }
    // Positive control: mallory, in that organisation, sees them.
    expect(names(await search(everyZercher, tokens.mallory))).toEqual(expect.arrayContaining(['Rival Zercher Bench Press', 'Mallory Zercher Bench Press']));
    expect((await get(`/api/v1/exercises/${OTHER_ORGANISATION.exercise_id}`, tokens.mallory)).status).toBe(200);
    expect(names(await search(everyZercher, tokens.mallory))).not.toContain('Team Zercher Bench Press');
  });

  it('never shows another user’s private exercise in the same organisation', async () => {
    expect(names(await search(everyZercher))).not.toContain('Bob Zercher Bench Press');
    const { body } = await get<{ items: { exerciseId: string }[] }>('/api/v1/exercises/suggest?prefix=bob');
    expect(body.items.map((i) => i.exerciseId)).not.toContain(BOB_PRIVATE.exercise_id);
    expect((await get(`/api/v1/exercises/${BOB_PRIVATE.exercise_id}`)).status).toBe(404);
    // Positive control: bob sees his own, but not alice's private one.
    expect(names(await search(everyZercher, tokens.bob))).toEqual(expect.arrayContaining(['Bob Zercher Bench Press', 'Team Zercher Bench Press']));
    expect(names(await search(everyZercher, tokens.bob))).not.toContain('Alice Zercher Bench Press');
    expect((await get(`/api/v1/exercises/${BOB_PRIVATE.exercise_id}`, tokens.bob)).status).toBe(200);
  });

  it('leaves archived exercises out of search and suggest but answers them by id', async () => {
    expect(names(await search(everyZercher))).not.toContain('Retired Zercher Bench Press');
    const { body } = await get<{ items: { name: string }[] }>('/api/v1/exercises/suggest?prefix=retired');
    expect(body.items).toEqual([]);
    const byId = await get<ExerciseDetailRepresentation>(`/api/v1/exercises/${ARCHIVED.exercise_id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.archived).toBe(true);
  });
});

describe('bad input on the exercise query routes', () => {
  async function expectBadRequest(url: string, field: string): Promise<void> {
    const response = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens.alice}` } });
    expect(response.statusCode, `${url} ${response.body}`).toBe(400);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json<{ errors: { field: string }[] }>().errors.map((e) => e.field), url).toContain(field);
  }

  it('answers 400 problem+json naming the field', async () => {
    await expectBadRequest(`/api/v1/exercises?q=${'x'.repeat(101)}`, '/querystring/q');
    await expectBadRequest('/api/v1/exercises?q=', '/querystring/q');
    await expectBadRequest('/api/v1/exercises?q=%21%21%21', '/querystring/q');
    await expectBadRequest('/api/v1/exercises?muscle=biceps%20femoris', '/querystring/muscle/0');
    await expectBadRequest('/api/v1/exercises?equipment=sandbag', '/querystring/equipment/0');
    await expectBadRequest('/api/v1/exercises?level=elite', '/querystring/level/0');
    await expectBadRequest('/api/v1/exercises?category=yoga', '/querystring/category/0');
    await expectBadRequest('/api/v1/exercises?limit=51', '/querystring/limit');
    await expectBadRequest('/api/v1/exercises?limit=0', '/querystring/limit');
    await expectBadRequest('/api/v1/exercises?limit=ten', '/querystring/limit');
    await expectBadRequest('/api/v1/exercises?cursor=not-a-cursor', '/querystring/cursor');
    await expectBadRequest('/api/v1/exercises?tenantId=x', '/querystring/tenantId');
    await expectBadRequest('/api/v1/exercises/suggest', '/querystring/prefix');
    await expectBadRequest(`/api/v1/exercises/suggest?prefix=${'x'.repeat(61)}`, '/querystring/prefix');
    await expectBadRequest('/api/v1/exercises/suggest?prefix=bench&limit=11', '/querystring/limit');
    await expectBadRequest('/api/v1/exercises/not-a-uuid', '/params/exerciseId');
  });

  it('refuses a cursor from another search', async () => {
    const first = await get<Page>('/api/v1/exercises?q=press&limit=2');
    expect(first.body.nextCursor).not.toBeNull();
    await expectBadRequest(`/api/v1/exercises?q=squat&limit=2&cursor=${first.body.nextCursor}`, '/querystring/cursor');
    await expectBadRequest(`/api/v1/exercises?q=press&equipment=barbell&limit=2&cursor=${first.body.nextCursor}`, '/querystring/cursor');
    expect((await get<Page>(`/api/v1/exercises?q=press&limit=2&cursor=${first.body.nextCursor}`)).status).toBe(200);
  });

  it('needs a token', async () => {
    for (const url of ['/api/v1/exercises?q=squat', '/api/v1/exercises/suggest?prefix=sq', `/api/v1/exercises/${catalogExerciseId('Barbell_Squat')}`]) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    }
  });
});
