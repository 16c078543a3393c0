import { EQUIPMENT, EXERCISE_CATEGORIES, EXERCISE_LEVELS, EXERCISE_LIMITS as L, EXERCISE_VISIBILITIES, FORCES, MECHANICS, MEDIA_LINK_PATTERN, MUSCLES } from '@fitledger/domain';
import { IDEMPOTENCY_KEY_PATTERN, UUID_PATTERN } from './workoutSchemas';

/**
 * JSON schemas of the exercise command routes, strict like the workout ones: unknown fields and
 * wrong types are refused with a 400 naming the field; limits and vocabularies come from the
 * domain (EXERCISE_LIMITS and the catalog's enumerations), and the decider stays the last word.
 */

/**
 * A client-chosen exercise id: any lowercase UUID except version 5, which is reserved for the public
 * catalog's ids (UUIDv5 of the catalog's own ids), so a custom exercise can never shadow one.
 */
export const CUSTOM_EXERCISE_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[1-46-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';

const muscles = (minItems: number, description: string) =>
  ({ type: 'array', minItems, maxItems: MUSCLES.length, uniqueItems: true, items: { type: 'string', enum: [...MUSCLES] }, description }) as const;

const definitionProperties = {
  visibility: {
    type: 'string',
    enum: [...EXERCISE_VISIBILITIES],
    description: '`private` (default): only you see it. `organisation`: everyone in your organisation sees it; only you can change it.',
  },
  name: { type: 'string', minLength: 1, maxLength: L.nameMaxChars, pattern: '^[^\\p{Cc}]*[^\\p{Cc}\\s][^\\p{Cc}]*$', example: 'Landmine Press' },
  category: { type: 'string', enum: [...EXERCISE_CATEGORIES] },
  level: { type: 'string', enum: [...EXERCISE_LEVELS] },
  primaryMuscles: muscles(1, 'At least one, each once.'),
  secondaryMuscles: muscles(0, 'Each once, none of the primary muscles.'),
  equipment: { type: 'string', enum: [...EQUIPMENT] },
  mechanic: { type: 'string', enum: [...MECHANICS] },
  force: { type: 'string', enum: [...FORCES] },
  instructions: {
    type: 'array',
    maxItems: L.instructionsMax,
    items: { type: 'string', minLength: 1, maxLength: L.instructionMaxChars, pattern: '\\S' },
    description: 'Steps, in order.',
  },
  mediaLinks: {
    type: 'array',
    maxItems: L.mediaLinksMax,
    uniqueItems: true,
    items: { type: 'string', minLength: 1, maxLength: L.mediaLinkMaxChars, pattern: MEDIA_LINK_PATTERN.source },
    description: 'Pictures or videos: https URLs only.',
  },
} as const;

const definitionExample = {
  name: 'Landmine Press',
  category: 'strength',
  level: 'intermediate',
  primaryMuscles: ['shoulders'],
  secondaryMuscles: ['triceps'],
  equipment: 'barbell',
  instructions: ['Hold the end of the bar at shoulder height.', 'Press up and forward until the arm is straight.'],
  visibility: 'organisation',
} as const;

export const createExerciseBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'category', 'level', 'primaryMuscles'],
  description: 'A custom exercise. Lists may be left out (empty); visibility defaults to private.',
  properties: {
    exerciseId: {
      type: 'string',
      pattern: CUSTOM_EXERCISE_ID_PATTERN,
      description: 'Client-chosen id (a lowercase UUID, not version 5); the server makes one when absent.',
      example: '0190f6c1-2d3e-7f40-8a51-6b7c8d9e0f12',
    },
    ...definitionProperties,
  },
  example: definitionExample,
} as const;

export const reviseExerciseBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'category', 'level', 'primaryMuscles'],
  description: 'Replaces the whole definition (not a patch); fields left out become empty or default.',
  properties: definitionProperties,
  example: { ...definitionExample, level: 'beginner' },
} as const;

export const archiveExerciseBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', maxLength: L.reasonMaxChars, example: 'duplicate of a catalog exercise' } },
} as const;

export const exerciseIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['exerciseId'],
  properties: { exerciseId: { type: 'string', pattern: UUID_PATTERN, description: 'The exercise.', example: '0190f6c1-2d3e-7f40-8a51-6b7c8d9e0f12' } },
} as const;

export const exerciseCommandHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description: 'Makes a retry safe: the same key with the same request appends nothing and answers as before; with another request it is refused (422).',
    },
    'if-match': { type: 'string', maxLength: 1024, description: 'The ETag of the exercise ("<revision>") this change is based on; 412 when it has changed since.' },
  },
} as const;

export const exerciseResultSchema = {
  type: 'object',
  required: ['exerciseId', 'revision', 'position'],
  properties: {
    exerciseId: { type: 'string', example: '0190f6c1-2d3e-7f40-8a51-6b7c8d9e0f12' },
    revision: { type: 'integer', description: 'Revision of the exercise stream after the command; also the ETag.', example: 0 },
    position: { type: 'string', description: 'Opaque $all position of the last event: the library is current once it reaches it.' },
  },
} as const;

const problem = (description: string) => ({ description, $ref: 'Problem#' }) as const;

export const exerciseProblems = {
  400: problem('Malformed JSON, a wrong type, an unknown field or a value out of range; `errors` names the field.'),
  401: problem('No valid access token.'),
  403: problem('The token lacks the fitledger:write scope or the role may not author exercises.'),
  404: problem('No such exercise (or not one of yours).'),
  409: problem('The exercise kept changing concurrently; retry.'),
  410: problem('The author of the exercise was erased.'),
  412: problem('If-Match does not match the exercise’s current revision.'),
  413: problem('The body is larger than the limit.'),
  415: problem('The body is not application/json.'),
  422: problem('A domain rule refused the command (`code` says which), or the Idempotency-Key was reused for another request.'),
} as const;
