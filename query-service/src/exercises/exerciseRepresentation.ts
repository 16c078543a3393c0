import type { ReadScope } from '../readScope';
import type { ExerciseRow, Suggestion } from './exerciseLibrary';

/** An exercise as the API shows it. The owner is never named: `ownedByCaller` says what a client needs. */
export interface ExerciseSummaryRepresentation {
  readonly exerciseId: string;
  readonly source: 'catalog' | 'custom';
  /** The public catalog's own id (free-exercise-db), null for custom exercises. */
  readonly catalogId: string | null;
  readonly visibility: 'public' | 'organisation' | 'private';
  readonly ownedByCaller: boolean;
  readonly name: string;
  readonly category: string;
  readonly level: string;
  readonly equipment: string | null;
  readonly mechanic: string | null;
  readonly force: string | null;
  readonly primaryMuscles: readonly string[];
  readonly secondaryMuscles: readonly string[];
  readonly mediaLinks: readonly string[];
}

export interface ExerciseDetailRepresentation extends ExerciseSummaryRepresentation {
  readonly instructions: readonly string[];
  readonly archived: boolean;
  /** Stream revision of a custom exercise (its ETag for PUT / DELETE with If-Match); null for catalog entries. */
  readonly revision: number | null;
}

export function exerciseSummary(row: ExerciseRow, scope: ReadScope): ExerciseSummaryRepresentation {
  return {
    exerciseId: row.exercise_id,
    source: row.source,
    catalogId: row.source_id,
    visibility: row.visibility,
    ownedByCaller: row.source === 'custom' && row.subject_id === scope.subjectId && row.tenant_id === scope.tenantId,
    name: row.name,
    category: row.category,
    level: row.level,
    equipment: row.equipment,
    mechanic: row.mechanic,
    force: row.force,
    primaryMuscles: row.primary_muscles,
    secondaryMuscles: row.secondary_muscles,
    mediaLinks: row.media_links,
  };
}

export function exerciseDetail(row: ExerciseRow, scope: ReadScope): ExerciseDetailRepresentation {
  return { ...exerciseSummary(row, scope), instructions: row.instructions, archived: row.archived, revision: row.revision === null ? null : Number(row.revision) };
}

export function suggestionOf(row: Suggestion): { exerciseId: string; name: string; source: 'catalog' | 'custom' } {
  return { exerciseId: row.exercise_id, name: row.name, source: row.source };
}

const text = { type: 'string' } as const;
const nullableText = { type: ['string', 'null'] } as const;
const texts = { type: 'array', items: text } as const;

const summaryProperties = {
  exerciseId: { type: 'string', format: 'uuid' },
  source: { type: 'string', enum: ['catalog', 'custom'] },
  catalogId: { ...nullableText, description: 'The public catalog’s own id (free-exercise-db); null for custom exercises.' },
  visibility: { type: 'string', enum: ['public', 'organisation', 'private'] },
  ownedByCaller: { type: 'boolean', description: 'The caller created it (and may revise or archive it).' },
  name: text,
  category: text,
  level: text,
  equipment: nullableText,
  mechanic: nullableText,
  force: nullableText,
  primaryMuscles: texts,
  secondaryMuscles: texts,
  mediaLinks: texts,
} as const;

export const exerciseRepresentationSchemas = [
  {
    $id: 'ExerciseSummary',
    type: 'object',
    additionalProperties: false,
    required: Object.keys(summaryProperties),
    properties: summaryProperties,
  },
  {
    $id: 'ExerciseDetail',
    type: 'object',
    additionalProperties: false,
    required: [...Object.keys(summaryProperties), 'instructions', 'archived', 'revision'],
    properties: {
      ...summaryProperties,
      instructions: texts,
      archived: { type: 'boolean', description: 'Archived exercises leave search and suggestions but stay readable by id.' },
      revision: { type: ['integer', 'null'] },
    },
  },
] as const;
