import { sql, type Kysely } from 'kysely';
import { seedExerciseCatalog } from '../exercises/exerciseCatalog';

/**
 * The exercise library: one searchable table for the public catalog (seeded here, reference data)
 * and the custom exercises of the `exercises` projection, each row with its scope — public,
 * organisation (tenant_id) or private (tenant_id + subject_id of the owner).
 *
 * Search matches a weighted tsvector (name, then muscles, then equipment and category; English
 * stemming) for whole words, pg_trgm on the folded name for typos, and an unstemmed tsvector of
 * the name for word-prefix suggestions. `rm_exercise_fold` (lower + unaccent) is declared IMMUTABLE so generated columns and
 * indexes may use it; unaccent's dictionary is named explicitly, which is what makes that safe.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
  await sql`CREATE EXTENSION IF NOT EXISTS unaccent`.execute(db);
  await sql`
    CREATE FUNCTION rm_exercise_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN lower(public.unaccent('public.unaccent'::regdictionary, $1))
  `.execute(db);
  // array_to_string is only STABLE in general; over text[] it is immutable.
  await sql`
    CREATE FUNCTION rm_exercise_search_doc(name text, primary_muscles text[], secondary_muscles text[], equipment text, category text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN setweight(to_tsvector('english'::regconfig, rm_exercise_fold(name)), 'A')
      || setweight(to_tsvector('english'::regconfig, array_to_string(primary_muscles, ' ')), 'B')
      || setweight(to_tsvector('english'::regconfig, coalesce(equipment, '') || ' ' || category || ' ' || array_to_string(secondary_muscles, ' ')), 'C')
  `.execute(db);

  await sql`
    CREATE TABLE rm_exercises (
      exercise_id uuid PRIMARY KEY,
      source text NOT NULL CHECK (source IN ('catalog', 'custom')),
      source_id text UNIQUE,
      visibility text NOT NULL CHECK (visibility IN ('public', 'organisation', 'private')),
      tenant_id text,
      subject_id text,
      name text NOT NULL,
      category text NOT NULL,
      level text NOT NULL,
      equipment text,
      mechanic text,
      force text,
      primary_muscles text[] NOT NULL,
      secondary_muscles text[] NOT NULL,
      instructions text[] NOT NULL,
      media_links text[] NOT NULL,
      archived boolean NOT NULL DEFAULT false,
      revision bigint,
      updated_position text,
      search_name text NOT NULL GENERATED ALWAYS AS (rm_exercise_fold(name)) STORED,
      search_doc tsvector NOT NULL GENERATED ALWAYS AS (rm_exercise_search_doc(name, primary_muscles, secondary_muscles, equipment, category)) STORED,
      suggest_doc tsvector NOT NULL GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, rm_exercise_fold(name))) STORED,
      CONSTRAINT rm_exercises_public_is_catalog CHECK ((visibility = 'public') = (source = 'catalog')),
      CONSTRAINT rm_exercises_custom_has_owner CHECK (source = 'catalog' OR (tenant_id IS NOT NULL AND subject_id IS NOT NULL))
    )
  `.execute(db);
  // Searches run as two branches (see query-service exerciseLibrary.ts): the public catalog through
  // these partial GIN indexes, and the caller's tenant's custom rows through the btree below. Fuzzy
  // candidates are thus bounded by the catalog plus one tenant's exercises, however many other
  // organisations add. The catalog changes only by migration, so fastupdate is off (a search never
  // scans a GIN pending list) at no cost to the projection's writes.
  await sql`CREATE INDEX rm_exercises_public_search_doc ON rm_exercises USING gin (search_doc) WITH (fastupdate = off) WHERE visibility = 'public'`.execute(db);
  await sql`CREATE INDEX rm_exercises_public_suggest_doc ON rm_exercises USING gin (suggest_doc) WITH (fastupdate = off) WHERE visibility = 'public'`.execute(db);
  await sql`CREATE INDEX rm_exercises_public_name_trgm ON rm_exercises USING gin (search_name gin_trgm_ops) WITH (fastupdate = off) WHERE visibility = 'public'`.execute(db);
  // Browsing and filter-only searches of the catalog: visit its 873 rows, not the whole table.
  await sql`CREATE INDEX rm_exercises_public_name ON rm_exercises (search_name COLLATE "C", exercise_id) WHERE visibility = 'public'`.execute(db);
  await sql`CREATE INDEX rm_exercises_custom_scope ON rm_exercises (tenant_id, visibility, subject_id) WHERE source = 'custom'`.execute(db);
  await seedExerciseCatalog(db);
  await sql`ANALYZE rm_exercises`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS rm_exercises`.execute(db);
  await sql`DROP FUNCTION IF EXISTS rm_exercise_search_doc(text, text[], text[], text, text)`.execute(db);
  await sql`DROP FUNCTION IF EXISTS rm_exercise_fold(text)`.execute(db);
}
