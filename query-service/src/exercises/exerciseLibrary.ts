import { createHash } from 'node:crypto';
import type { ReadModelDb } from '@fitledger/projections';
import type pg from 'pg';
import { sql, type Kysely, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import type { RmExercisesTable } from '@fitledger/projections';
import type { ReadScope } from '../readScope';

/**
 * Reads of the exercise library (`rm_exercises`): ranked fuzzy search, word-prefix suggestions
 * and single entries, always restricted to what the caller may see — the public catalog, their
 * organisation's exercises (same tenant) and their own private ones.
 *
 * Search shape: candidates are rows that match the query as words (English full text on name,
 * muscles, equipment, category) OR whose name is trigram-close to the query, OR that have a
 * trigram-close word for every query word (typos in several words: "dumbel curl"). All three
 * are GIN-indexable (`@@`, `%>`), so PostgreSQL unions bitmap scans and checks visibility on the
 * few candidates. The trigram thresholds are set per transaction (SET LOCAL), never server-wide.
 *
 * Everything reads `rm_exercises_visible` (projections migration 0017): under query-service's
 * row-level security it holds what the caller's token and scope may see, and unlike the table
 * under its policy it lets the planner use the GIN indexes.
 */

/** pg_trgm word_similarity threshold for the whole query and for each query word. */
export const WORD_SIMILARITY_THRESHOLD = 0.5;
/** Query words beyond this are ignored (each one adds an index condition). */
export const MAX_QUERY_WORDS = 6;

/** What the API shows of a row (no search columns; the owner is compared, never returned). */
export const EXERCISE_COLUMNS = [
  'exercise_id',
  'source',
  'source_id',
  'visibility',
  'tenant_id',
  'subject_id',
  'name',
  'category',
  'level',
  'equipment',
  'mechanic',
  'force',
  'primary_muscles',
  'secondary_muscles',
  'instructions',
  'media_links',
  'archived',
  'revision',
] as const;

export type ExerciseRow = Pick<Selectable<RmExercisesTable>, (typeof EXERCISE_COLUMNS)[number]>;

export interface ExerciseFilters {
  /** Any of these as a primary muscle. */
  readonly muscle?: readonly string[];
  readonly equipment?: readonly string[];
  readonly level?: readonly string[];
  readonly category?: readonly string[];
}

export interface SearchParams extends ExerciseFilters {
  readonly q?: string;
  readonly limit: number;
  readonly after?: SearchKey;
}

/** Keyset of the ranked list: (score DESC, sortName ASC in C collation, exerciseId ASC). */
export interface SearchKey {
  /** Score as PostgreSQL's numeric text (6 decimals), compared exactly. */
  readonly score: string;
  readonly sortName: string;
  readonly exerciseId: string;
}

export type SearchHit = ExerciseRow & { readonly score: string; readonly sort_name: string };

/** Words of a query as the index sees them: lower case, letters and digits only. */
export function queryWords(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** Rows the caller may see: public, or custom in their tenant and either organisation-wide or theirs. */
function visibleTo(scope: ReadScope): RawBuilder<SqlBool> {
  return sql<SqlBool>`(visibility = 'public' OR (source = 'custom' AND tenant_id = ${scope.tenantId} AND (visibility = 'organisation' OR subject_id = ${scope.subjectId})))`;
}

/**
 * The two halves of what a caller sees, each written so its own index applies: the catalog
 * (partial GIN indexes `WHERE visibility = 'public'`) and the custom rows of the caller's tenant
 * (btree on tenant_id). Searching them separately bounds the work by catalog size plus one
 * tenant's exercises, whatever other organisations add.
 */
function branches<T>(scope: ReadScope, build: (visible: RawBuilder<SqlBool>) => T): [catalog: T, tenant: T] {
  return [
    build(sql<SqlBool>`visibility = 'public'`),
    build(sql<SqlBool>`(source = 'custom' AND tenant_id = ${scope.tenantId} AND (visibility = 'organisation' OR subject_id = ${scope.subjectId}))`),
  ];
}

function filtersOf(filters: ExerciseFilters): RawBuilder<SqlBool>[] {
  const out: RawBuilder<SqlBool>[] = [];
  if (filters.muscle?.length) out.push(sql<SqlBool>`primary_muscles && ${[...filters.muscle]}::text[]`);
  if (filters.equipment?.length) out.push(sql<SqlBool>`equipment = ANY(${[...filters.equipment]}::text[])`);
  if (filters.level?.length) out.push(sql<SqlBool>`level = ANY(${[...filters.level]}::text[])`);
  if (filters.category?.length) out.push(sql<SqlBool>`category = ANY(${[...filters.category]}::text[])`);
  return out;
}

const and = (conditions: readonly RawBuilder<SqlBool>[]): RawBuilder<SqlBool> =>
  conditions.length === 0 ? sql<SqlBool>`true` : sql<SqlBool>`(${sql.join(conditions, sql` AND `)})`;

const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Ranked, filtered, paginated search. Without `q` the visible exercises are listed by name.
 * Given the pool behind `db`, the search runs as a named prepared statement (one per query shape):
 * planning this query costs more than running it, and a prepared statement lets PostgreSQL reuse
 * its plan on each connection.
 */
/** Pooled connections that already carry the search's trigram threshold. */
const thresholdSet = new WeakSet<pg.PoolClient>();

export async function searchExercises(db: Kysely<ReadModelDb>, scope: ReadScope, params: SearchParams, options: { pool?: { connect(): Promise<pg.PoolClient> } } = {}): Promise<SearchHit[]> {
  const words = queryWords(params.q ?? '').slice(0, MAX_QUERY_WORDS);
  const folded = words.join(' ');
  const conditions = [sql<SqlBool>`NOT archived`, ...filtersOf(params)];
  let score: RawBuilder<string>;
  if (words.length > 0) {
    const candidates = [sql<SqlBool>`search_doc @@ plainto_tsquery('english', ${folded})`, sql<SqlBool>`search_name %> ${folded}`];
    if (words.length > 1) candidates.push(and(words.map((w) => sql<SqlBool>`search_name %> ${w}`)));
    conditions.push(sql<SqlBool>`(${sql.join(candidates, sql` OR `)})`);
    // Mostly "how well each query word is matched by a word of the name" (typos in any word),
    // then the query as a phrase, closeness of the whole name (shorter, nearer names first), a
    // full-text hit (also on muscles and equipment) and the name starting with the query.
    const perWord = sql<number>`(${sql.join(words.map((w) => sql`word_similarity(${w}, search_name)`), sql` + `)}) / ${words.length}`;
    score = sql<string>`round((
        0.45 * ${perWord}
      + 0.20 * word_similarity(${folded}, search_name)
      + 0.15 * similarity(${folded}, search_name)
      + 0.15 * least(ts_rank(search_doc, plainto_tsquery('english', ${folded})) * 2, 1)
      + 0.05 * (search_name LIKE ${`${likeEscape(folded)}%`})::int
    )::numeric, 6)`;
  } else {
    score = sql<string>`0::numeric`;
  }

  // Rank on the narrow key (id, score, name) and fetch the columns of the page's rows only: the
  // wide ones (instructions, media links) are not read, sorted or carried for the other candidates.
  const [catalog, tenant] = branches(scope, (visible) =>
    db
      .selectFrom('rm_exercises_visible')
      .select('exercise_id')
      .select([score.as('score'), sql<string>`search_name COLLATE "C"`.as('sort_name')])
      .where(and([visible, ...conditions])),
  );
  let ranked = db.selectFrom(catalog.unionAll(tenant).as('ranked')).selectAll();
  const after = params.after;
  if (after) {
    ranked = ranked.where(
      sql<SqlBool>`(score < ${after.score}::numeric OR (score = ${after.score}::numeric AND (sort_name, exercise_id) > (${after.sortName} COLLATE "C", ${after.exerciseId}::uuid)))`,
    );
  }
  const page = ranked.orderBy('score', 'desc').orderBy('sort_name').orderBy('exercise_id').limit(params.limit);
  const query = db
    .selectFrom(page.as('page'))
    .innerJoin('rm_exercises_visible as e', 'e.exercise_id', 'page.exercise_id')
    .select(EXERCISE_COLUMNS.map((column) => `e.${column}` as const))
    .select(['page.score', 'page.sort_name'])
    .orderBy('page.score', 'desc')
    .orderBy('page.sort_name')
    .orderBy('page.exercise_id');

  const { pool } = options;
  if (pool !== undefined) {
    const compiled = query.compile();
    const name = `fl_exercise_search_${createHash('sha256').update(compiled.sql).digest('base64url').slice(0, 22)}`;
    const client = await pool.connect();
    try {
      // The threshold is set once per connection (session level): every later search on it is a
      // single round trip. Only the exercise search compares with %> on these connections.
      if (words.length > 0 && !thresholdSet.has(client)) {
        await client.query(`SET pg_trgm.word_similarity_threshold = ${WORD_SIMILARITY_THRESHOLD}`);
        thresholdSet.add(client);
      }
      const result = await client.query<SearchHit>({ name, text: compiled.sql, values: [...compiled.parameters] });
      return result.rows;
    } finally {
      client.release();
    }
  }
  if (words.length === 0) return query.execute();
  return db.transaction().execute(async (trx) => {
    // %> compares word_similarity with this setting; LOCAL: it ends with the transaction.
    await sql`SELECT set_config('pg_trgm.word_similarity_threshold', ${String(WORD_SIMILARITY_THRESHOLD)}, true)`.execute(trx);
    return (await trx.executeQuery(query.compile())).rows;
  });
}

export interface Suggestion {
  readonly exercise_id: string;
  readonly name: string;
  readonly source: 'catalog' | 'custom';
}

/**
 * Names whose words start with the prefix's words ("bench p" → "Bench Press", "Barbell Bench
 * Press"), names that start with the whole prefix first, then shorter names. Prefix match on an
 * unstemmed tsvector (GIN over the catalog), so even a one-letter prefix is an index scan.
 */
export async function suggestExercises(db: Kysely<ReadModelDb>, scope: ReadScope, prefix: string, limit: number): Promise<Suggestion[]> {
  const words = queryWords(prefix).slice(0, MAX_QUERY_WORDS);
  if (words.length === 0) return [];
  const tsquery = words.map((w) => `${w}:*`).join(' & ');
  const folded = words.join(' ');
  const [catalog, tenant] = branches(scope, (visible) =>
    db
      .selectFrom('rm_exercises_visible')
      .select(['exercise_id', 'name', 'source'])
      .select([
        sql<boolean>`search_name LIKE ${`${likeEscape(folded)}%`}`.as('starts_with'),
        sql<number>`length(search_name)`.as('length'),
        sql<string>`search_name COLLATE "C"`.as('sort_name'),
      ])
      .where(and([visible, sql<SqlBool>`NOT archived`, sql<SqlBool>`suggest_doc @@ to_tsquery('simple', ${tsquery})`])),
  );
  return db
    .selectFrom(catalog.unionAll(tenant).as('matched'))
    .select(['exercise_id', 'name', 'source'])
    .orderBy('starts_with', 'desc')
    .orderBy('length')
    .orderBy('sort_name')
    .orderBy('exercise_id')
    .limit(limit)
    .execute();
}

/** One exercise the caller may see (archived ones included: workouts still name them), or undefined. */
export async function findExercise(db: Kysely<ReadModelDb>, scope: ReadScope, exerciseId: string): Promise<ExerciseRow | undefined> {
  return db.selectFrom('rm_exercises_visible').select(EXERCISE_COLUMNS).where('exercise_id', '=', exerciseId).where(visibleTo(scope)).executeTakeFirst();
}
