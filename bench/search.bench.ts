/**
 * npm run bench:search — exercise library search against the system as `npm start` runs it (one
 * process, durable embedded PostgreSQL with fsync on):
 *  1. 10,000 custom exercises across 100 organisations, created through POST /api/v1/exercises
 *     (the production write path: command-service → event store → exercises projection), plus the
 *     873-entry public catalog seeded by the read-model migration
 *  2. a mix of realistic fuzzy queries (typos), filters and filter+query searches, prefix suggestions
 *     and reads by id, each as a random identity of a random organisation, measured
 *     a) at the repository level (the functions the routes call, SQL on a pg pool) → searchP95Ms
 *     b) over HTTP against query-service (loopback, same process)
 *  3. baseline in the same run: a plain ILIKE '%q%' scan with the same visibility rule and the
 *     same queries, with the hit rate of both (expected exercise among the top 5)
 * `BENCH_QUICK=1` shrinks the volumes.
 */
import { Kysely, PostgresDialect, sql, type SqlBool } from 'kysely';
import pg from 'pg';
import { startSystem } from '@fitledger/infra';
import type { ReadModelDb } from '@fitledger/projections';
import { findExercise, searchExercises, suggestExercises, type SearchParams } from '@fitledger/query-service';
import { signTestToken } from '@fitledger/testing/oidc';
import { percentile, report, type Row } from './lib/report';

const quick = process.env['BENCH_QUICK'] === '1';
const ORGANISATIONS = 100;
const AUTHORS_PER_ORGANISATION = 5;
const CUSTOM_EXERCISES = quick ? 2_000 : 10_000;
const WRITE_CONCURRENCY = 16;
const WARMUP = quick ? 100 : 300;
const SAMPLES = quick ? 500 : 3_000;
const HTTP_SAMPLES = quick ? 300 : 1_500;
const PAGE = 20;

/** Deterministic PRNG (mulberry32): the same run every time. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ (t + t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const tenantOf = (org: number): string => `0000${org.toString(16).padStart(4, '0')}-0000-4000-8000-00000000b0b0`;
const subjectOf = (org: number, author: number): string => `${org.toString(16).padStart(8, '0')}-${author.toString(16).padStart(4, '0')}-4000-8000-00000000a0a0`;

/** Custom exercise names as coaches write them: variations of the classics, in the catalog's vocabulary. */
const MODIFIERS = ['Tempo', 'Paused', 'Banded', 'Deficit', 'Single-Arm', 'Single-Leg', 'Kneeling', 'Seated', 'Standing', 'Incline', 'Decline', 'Isometric', 'Eccentric', 'Alternating', 'Wide-Grip', 'Close-Grip', 'Half-Kneeling', 'Offset', 'Pin', 'Box'];
const MOVEMENTS: readonly { name: string; muscle: string; equipment: string }[] = [
  { name: 'Bench Press', muscle: 'chest', equipment: 'barbell' },
  { name: 'Dumbbell Curl', muscle: 'biceps', equipment: 'dumbbell' },
  { name: 'Back Squat', muscle: 'quadriceps', equipment: 'barbell' },
  { name: 'Romanian Deadlift', muscle: 'hamstrings', equipment: 'barbell' },
  { name: 'Landmine Press', muscle: 'shoulders', equipment: 'barbell' },
  { name: 'Kettlebell Swing', muscle: 'glutes', equipment: 'kettlebells' },
  { name: 'Cable Row', muscle: 'middle back', equipment: 'cable' },
  { name: 'Lat Pulldown', muscle: 'lats', equipment: 'cable' },
  { name: 'Split Squat', muscle: 'quadriceps', equipment: 'dumbbell' },
  { name: 'Hip Thrust', muscle: 'glutes', equipment: 'barbell' },
  { name: 'Triceps Pushdown', muscle: 'triceps', equipment: 'cable' },
  { name: 'Calf Raise', muscle: 'calves', equipment: 'machine' },
  { name: 'Pallof Press', muscle: 'abdominals', equipment: 'bands' },
  { name: 'Farmer Carry', muscle: 'forearms', equipment: 'dumbbell' },
  { name: 'Face Pull', muscle: 'shoulders', equipment: 'cable' },
  { name: 'Hamstring Curl', muscle: 'hamstrings', equipment: 'machine' },
];
const SUFFIXES = ['', '', '', ' (3-1-1 tempo)', ' to Box', ' with Chains', ' - Rehab', ' Drill', ' Complex', ' Hold'];
const LEVELS = ['beginner', 'intermediate', 'expert'] as const;

/** What people type: typos, partial words, muscle and equipment words; `expect` is what a good top 5 contains. */
const QUERIES: readonly { q: string; expect: RegExp }[] = [
  { q: 'bech pres', expect: /bench press/i },
  { q: 'dumbel curl', expect: /dumbbell.*curl/i },
  { q: 'barbel squat', expect: /barbell.*squat/i },
  { q: 'romanian dedlift', expect: /romanian deadlift/i },
  { q: 'hamstring strech', expect: /hamstring stretch/i },
  { q: 'lat pulldwn', expect: /lat pulldown/i },
  { q: 'kettlebel swing', expect: /kettlebell swing/i },
  { q: 'incline dumbell press', expect: /incline dumbbell.*press/i },
  { q: 'tricep pushdown', expect: /triceps? pushdown/i },
  { q: 'calf raise', expect: /calf raise/i },
  { q: 'landmine press', expect: /landmine.*press/i },
  { q: 'hip thrust', expect: /hip thrust/i },
  { q: 'pull up', expect: /pull-?ups?/i },
  { q: 'face pul', expect: /face pull/i },
  { q: 'farmers walk', expect: /farmer/i },
  { q: 'squat', expect: /squat/i },
  { q: 'deadlift', expect: /deadlift/i },
  { q: 'shoulder press', expect: /shoulder press/i },
  { q: 'plank', expect: /plank/i },
  { q: 'lunge', expect: /lunge/i },
];
const PREFIXES = ['b', 'be', 'ben', 'bench', 'bench p', 'dumb', 'dumbbell c', 'sq', 'squ', 'dead', 'lat p', 'kett', 'cal', 'hip t', 'face', 'land', 'tri', 'pull', 'row', 'pl'];
const MUSCLES = ['chest', 'biceps', 'quadriceps', 'hamstrings', 'shoulders', 'glutes', 'lats', 'triceps', 'abdominals'];
const EQUIPMENT = ['barbell', 'dumbbell', 'cable', 'machine', 'kettlebells', 'body only', 'bands'];

type Op =
  | { kind: 'search'; label: 'fuzzy' | 'filters' | 'fuzzy+filters'; params: SearchParams; expect?: RegExp }
  | { kind: 'suggest'; prefix: string }
  | { kind: 'byId'; exerciseId: string };

interface Identity {
  readonly org: number;
  readonly tenantId: string;
  readonly subjectId: string;
}

async function main(): Promise<void> {
  const system = await startSystem({ persistent: false, seed: false, logLevel: 'error' });
  const pool = new pg.Pool({ connectionString: system.databaseUrl, max: 10 });
  const db = new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool }) });
  try {
    const base = system.oidc.accessTokenClaims('alice');
    const tokens = new Map<string, string>();
    const tokenOf = async (who: Identity): Promise<string> => {
      const key = `${who.tenantId}/${who.subjectId}`;
      let token = tokens.get(key);
      if (token === undefined) {
        token = await signTestToken({ ...base, sub: who.subjectId, tenant_id: who.tenantId, exp: Math.floor(Date.now() / 1000) + 3600 }, { privateKey: system.oidc.signingKey });
        tokens.set(key, token);
      }
      return token;
    };
    const identity = (org: number, author: number): Identity => ({ org, tenantId: tenantOf(org), subjectId: subjectOf(org, author) });

    // 1. write 10k custom exercises through the command API
    const writeStart = performance.now();
    let next = 0;
    let lastPosition = '';
    const customIds: { id: string; org: number; author: number; visibility: string }[] = [];
    const statuses: Record<string, number> = {};
    const writer = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        if (i >= CUSTOM_EXERCISES) return;
        const org = i % ORGANISATIONS;
        const author = Math.floor(i / ORGANISATIONS) % AUTHORS_PER_ORGANISATION;
        const movement = pick(MOVEMENTS);
        const visibility = random() < 0.7 ? 'organisation' : 'private';
        const body = {
          name: `${pick(MODIFIERS)} ${movement.name}${pick(SUFFIXES)}`,
          category: 'strength',
          level: pick(LEVELS),
          primaryMuscles: [movement.muscle],
          equipment: movement.equipment,
          visibility,
          instructions: ['Set up as for the standard lift.', 'Move with control through the full range.'],
        };
        const response = await fetch(`${system.command.url}/api/v1/exercises`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await tokenOf(identity(org, author))}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        const json = (await response.json()) as { exerciseId: string; position: string };
        if (response.status === 201) {
          customIds.push({ id: json.exerciseId, org, author, visibility });
          if (json.position > lastPosition) lastPosition = json.position;
        }
      }
    };
    await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, writer));
    await system.projections.runner.waitForPosition('exercises', lastPosition as never);
    const writeS = (performance.now() - writeStart) / 1000;
    const counts = await sql<{ source: string; n: string }>`SELECT source, count(*)::text AS n FROM rm_exercises GROUP BY source ORDER BY source`.execute(db);
    console.log(`wrote ${customIds.length} custom exercises in ${writeS.toFixed(1)} s (${(customIds.length / writeS).toFixed(0)}/s, statuses ${JSON.stringify(statuses)}); rows: ${JSON.stringify(counts.rows)}`);
    await sql`ANALYZE rm_exercises`.execute(db);

    // 2. the operation mix
    const catalogIds = (await db.selectFrom('rm_exercises').select('exercise_id').where('source', '=', 'catalog').execute()).map((r) => r.exercise_id);
    const makeOp = (who: Identity): Op => {
      const r = random();
      if (r < 0.4) {
        const query = pick(QUERIES);
        return { kind: 'search', label: 'fuzzy', params: { q: query.q, limit: PAGE }, expect: query.expect };
      }
      if (r < 0.5) return { kind: 'search', label: 'filters', params: { muscle: [pick(MUSCLES)], equipment: [pick(EQUIPMENT)], level: [pick(LEVELS)], limit: PAGE } };
      if (r < 0.6) {
        const query = pick(QUERIES);
        return { kind: 'search', label: 'fuzzy+filters', params: { q: query.q, equipment: [pick(EQUIPMENT)], level: [pick(LEVELS)], limit: PAGE } };
      }
      if (r < 0.9) return { kind: 'suggest', prefix: pick(PREFIXES) };
      const own = customIds.filter((c) => c.org === who.org);
      return { kind: 'byId', exerciseId: random() < 0.5 && own.length > 0 ? pick(own).id : pick(catalogIds) };
    };
    const someone = (): Identity => identity(Math.floor(random() * ORGANISATIONS), Math.floor(random() * AUTHORS_PER_ORGANISATION));
    const runOp = async (op: Op, who: Identity): Promise<unknown> => {
      const scope = { tenantId: who.tenantId, subjectId: who.subjectId };
      switch (op.kind) {
        case 'search':
          return searchExercises(db, scope, { ...op.params, limit: PAGE + 1 }, { pool });
        case 'suggest':
          return suggestExercises(db, scope, op.prefix, 8);
        case 'byId':
          return findExercise(db, scope, op.exerciseId);
        default: {
          const _: never = op;
          return _;
        }
      }
    };

    const latencies: Record<string, number[]> = { search: [], 'search:fuzzy': [], 'search:filters': [], 'search:fuzzy+filters': [], suggest: [], byId: [] };
    for (let i = 0; i < WARMUP; i++) {
      const who = someone();
      await runOp(makeOp(who), who);
    }
    for (let i = 0; i < SAMPLES; i++) {
      const who = someone();
      const op = makeOp(who);
      const t0 = performance.now();
      await runOp(op, who);
      const ms = performance.now() - t0;
      if (op.kind === 'search') {
        latencies['search']?.push(ms);
        latencies[`search:${op.label}`]?.push(ms);
      } else latencies[op.kind]?.push(ms);
    }

    // 3. baseline: ILIKE scan with the same visibility rule, the same fuzzy queries
    const ilike = (who: Identity, q: string) =>
      db
        .selectFrom('rm_exercises')
        .select(['exercise_id', 'name'])
        .where(sql<SqlBool>`NOT archived AND (visibility = 'public' OR (source = 'custom' AND tenant_id = ${who.tenantId} AND (visibility = 'organisation' OR subject_id = ${who.subjectId})))`)
        .where('name', 'ilike', `%${q}%`)
        .orderBy('name')
        .limit(PAGE + 1)
        .execute();
    const quality = { fuzzy: { hits: 0, of: 0 }, ilike: { hits: 0, of: 0 } };
    const baseline: number[] = [];
    const fuzzyAgain: number[] = [];
    for (let i = 0; i < WARMUP; i++) await ilike(someone(), pick(QUERIES).q);
    for (let i = 0; i < Math.min(SAMPLES, 1_000); i++) {
      const who = someone();
      const query = QUERIES[i % QUERIES.length] as (typeof QUERIES)[number];
      // Alternate the order so neither side always runs on a warmer cache.
      const runIlike = async (): Promise<void> => {
        const t0 = performance.now();
        const rows = await ilike(who, query.q);
        baseline.push(performance.now() - t0);
        quality.ilike.of++;
        if (rows.slice(0, 5).some((r) => query.expect.test(r.name))) quality.ilike.hits++;
      };
      const runFuzzy = async (): Promise<void> => {
        const t0 = performance.now();
        const rows = await searchExercises(db, { tenantId: who.tenantId, subjectId: who.subjectId }, { q: query.q, limit: PAGE + 1 }, { pool });
        fuzzyAgain.push(performance.now() - t0);
        quality.fuzzy.of++;
        if (rows.slice(0, 5).some((r) => query.expect.test(r.name))) quality.fuzzy.hits++;
      };
      if (i % 2 === 0) {
        await runIlike();
        await runFuzzy();
      } else {
        await runFuzzy();
        await runIlike();
      }
    }

    // 2b. the same mix over HTTP
    const http: Record<string, number[]> = { search: [], suggest: [], byId: [] };
    const urlOf = (op: Op): string => {
      switch (op.kind) {
        case 'search': {
          const qs = new URLSearchParams();
          if (op.params.q !== undefined) qs.set('q', op.params.q);
          for (const key of ['muscle', 'equipment', 'level', 'category'] as const) for (const v of op.params[key] ?? []) qs.append(key, v);
          qs.set('limit', String(PAGE));
          return `/api/v1/exercises?${qs.toString()}`;
        }
        case 'suggest':
          return `/api/v1/exercises/suggest?prefix=${encodeURIComponent(op.prefix)}`;
        case 'byId':
          return `/api/v1/exercises/${op.exerciseId}`;
        default: {
          const _: never = op;
          return _;
        }
      }
    };
    const httpStatuses: Record<string, number> = {};
    for (let i = 0; i < WARMUP + HTTP_SAMPLES; i++) {
      const who = someone();
      const op = makeOp(who);
      const headers = { authorization: `Bearer ${await tokenOf(who)}` };
      const t0 = performance.now();
      const response = await fetch(`${system.query.url}${urlOf(op)}`, { headers });
      await response.arrayBuffer();
      const ms = performance.now() - t0;
      if (i < WARMUP) continue;
      httpStatuses[response.status] = (httpStatuses[response.status] ?? 0) + 1;
      http[op.kind]?.push(ms);
    }

    const p = (values: readonly number[], q: number): number => (values.length > 0 ? percentile(values, q) : Number.NaN);
    const searchP95 = p(latencies['search'] ?? [], 95);
    const rows: Row[] = [
      { metric: 'searchP50Ms', value: p(latencies['search'] ?? [], 50), unit: 'ms' },
      { metric: 'searchP95Ms', value: searchP95, unit: 'ms', target: '< 10', pass: searchP95 < 10 },
      { metric: 'fuzzySearchP95Ms', value: p(latencies['search:fuzzy'] ?? [], 95), unit: 'ms' },
      { metric: 'filterSearchP95Ms', value: p(latencies['search:filters'] ?? [], 95), unit: 'ms' },
      { metric: 'fuzzyFilterSearchP95Ms', value: p(latencies['search:fuzzy+filters'] ?? [], 95), unit: 'ms' },
      { metric: 'suggestP50Ms', value: p(latencies['suggest'] ?? [], 50), unit: 'ms' },
      { metric: 'suggestP95Ms', value: p(latencies['suggest'] ?? [], 95), unit: 'ms' },
      { metric: 'byIdP95Ms', value: p(latencies['byId'] ?? [], 95), unit: 'ms' },
      { metric: 'httpSearchP50Ms', value: p(http['search'] ?? [], 50), unit: 'ms' },
      { metric: 'httpSearchP95Ms', value: p(http['search'] ?? [], 95), unit: 'ms' },
      { metric: 'httpSuggestP95Ms', value: p(http['suggest'] ?? [], 95), unit: 'ms' },
      { metric: 'httpByIdP95Ms', value: p(http['byId'] ?? [], 95), unit: 'ms' },
      { metric: 'fuzzyPairedP50Ms', value: p(fuzzyAgain, 50), unit: 'ms' },
      { metric: 'fuzzyPairedP95Ms', value: p(fuzzyAgain, 95), unit: 'ms' },
      { metric: 'baselineIlikeP50Ms', value: p(baseline, 50), unit: 'ms' },
      { metric: 'baselineIlikeP95Ms', value: p(baseline, 95), unit: 'ms' },
      { metric: 'fuzzyTop5HitRate', value: quality.fuzzy.hits / quality.fuzzy.of, unit: 'ratio' },
      { metric: 'baselineIlikeTop5HitRate', value: quality.ilike.hits / quality.ilike.of, unit: 'ratio' },
    ];
    const settings = Object.fromEntries(
      (await pool.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','shared_buffers','server_version')`)).rows.map((r) => [r.name, r.setting]),
    );
    report('search', rows, {
      postgres: settings,
      volumes: {
        catalogExercises: Number(counts.rows.find((r) => r.source === 'catalog')?.n ?? 0),
        customExercises: Number(counts.rows.find((r) => r.source === 'custom')?.n ?? 0),
        organisations: ORGANISATIONS,
        authorsPerOrganisation: AUTHORS_PER_ORGANISATION,
        customCreatedVia: 'POST /api/v1/exercises (command-service → event store → exercises projection)',
        writeSeconds: writeS,
        writeStatuses: statuses,
        repositorySamples: SAMPLES,
        samplesPerKind: Object.fromEntries(Object.entries(latencies).map(([k, v]) => [k, v.length])),
        baselinePairs: baseline.length,
        httpSamples: HTTP_SAMPLES,
        httpStatuses,
        pageSize: PAGE,
      },
      mix: { fuzzySearch: 0.4, filterSearch: 0.1, fuzzyWithFilters: 0.1, suggest: 0.3, byId: 0.1, identities: 'random organisation and author per request' },
      notes: [
        'repository level: the query-service functions the routes call (search as named prepared statements, as the route runs it), one request at a time on a pg pool of 10',
        'http: sequential GETs to query-service on loopback from the same process (client and server share the event loop)',
        'baseline: name ILIKE %q% with the same visibility rule and page size; hit rate = expected exercise in the top 5',
      ],
    });
  } finally {
    await db.destroy();
    await system.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
