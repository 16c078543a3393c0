import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';

/**
 * The public exercise catalog: free-exercise-db (https://github.com/yuhonas/free-exercise-db,
 * public domain — projections/data/exercises/LICENSE.md), 873 exercises. Reference data, not
 * events: it is loaded into `rm_exercises` by a read-model migration and never rebuilt away.
 */

export const CATALOG_FILE = fileURLToPath(new URL('../../data/exercises/free-exercise-db.json', import.meta.url));

/** Where the catalog's relative image paths live upstream. */
export const CATALOG_IMAGE_BASE_URL = 'https://raw.githubusercontent.com/yuhonas/free-exercise-db/main/exercises/';

/** One entry of free-exercise-db.json, as published. */
export interface CatalogSourceEntry {
  readonly id: string;
  readonly name: string;
  readonly force: string | null;
  readonly level: string;
  readonly mechanic: string | null;
  readonly equipment: string | null;
  readonly primaryMuscles: readonly string[];
  readonly secondaryMuscles: readonly string[];
  readonly instructions: readonly string[];
  readonly category: string;
  readonly images: readonly string[];
}

const RFC4122_URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** RFC 9562 §5.5 UUIDv5 (SHA-1, name-based): the same name always gives the same id. */
export function uuidv5(name: string, namespace: string): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replaceAll('-', ''), 'hex')).update(name, 'utf8').digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Namespace of catalog ids: UUIDv5 of the catalog's URL in the RFC URL namespace. */
export const CATALOG_NAMESPACE = uuidv5('https://github.com/yuhonas/free-exercise-db', RFC4122_URL_NAMESPACE);

/** The stable id of a catalog entry: UUIDv5 of its source id (`Barbell_Squat` → always the same UUID). */
export function catalogExerciseId(sourceId: string): string {
  return uuidv5(sourceId, CATALOG_NAMESPACE);
}

export function readCatalog(file: string = CATALOG_FILE): CatalogSourceEntry[] {
  return JSON.parse(readFileSync(file, 'utf8')) as CatalogSourceEntry[];
}

/**
 * Upserts every catalog entry into `rm_exercises` (idempotent: the same file gives the same rows).
 * Entries that left the catalog are kept: workouts may still name them.
 */
export async function seedExerciseCatalog(db: Kysely<unknown>, entries: readonly CatalogSourceEntry[] = readCatalog()): Promise<number> {
  const CHUNK = 200;
  for (let i = 0; i < entries.length; i += CHUNK) {
    const rows = entries.slice(i, i + CHUNK).map((e) =>
      sql`(${catalogExerciseId(e.id)}::uuid, 'catalog', ${e.id}, 'public', ${e.name}, ${e.category}, ${e.level}, ${e.equipment}, ${e.mechanic}, ${e.force},
        ${[...e.primaryMuscles]}::text[], ${[...e.secondaryMuscles]}::text[], ${[...e.instructions]}::text[], ${e.images.map((path) => CATALOG_IMAGE_BASE_URL + path.split('/').map(encodeURIComponent).join('/'))}::text[])`,
    );
    await sql`
      INSERT INTO rm_exercises (exercise_id, source, source_id, visibility, name, category, level, equipment, mechanic, force,
        primary_muscles, secondary_muscles, instructions, media_links)
      VALUES ${sql.join(rows)}
      ON CONFLICT (exercise_id) DO UPDATE SET
        name = EXCLUDED.name, category = EXCLUDED.category, level = EXCLUDED.level, equipment = EXCLUDED.equipment,
        mechanic = EXCLUDED.mechanic, force = EXCLUDED.force, primary_muscles = EXCLUDED.primary_muscles,
        secondary_muscles = EXCLUDED.secondary_muscles, instructions = EXCLUDED.instructions, media_links = EXCLUDED.media_links
    `.execute(db);
  }
  return entries.length;
}
