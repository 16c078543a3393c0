import { DISTANCE_UNITS, fromKg, fromMetres, MASS_UNITS, WORKOUT_LIMITS as L } from '@fitledger/domain';

/**
 * JSON schemas of the workout command routes: request validation (strict: unknown fields and
 * wrong types are refused), response serialisation and the OpenAPI document in one place. The
 * limits come from the domain's WORKOUT_LIMITS, so a value the decider would refuse is already
 * refused here with a 400 naming the field; the decider stays the last word (422).
 */

/** A lowercase RFC 9562 UUID, as the domain accepts ids (ids travel in clear: never free text). */
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';
/** Idempotency-Key: 1–128 characters of [A-Za-z0-9_-]. */
export const IDEMPOTENCY_KEY_PATTERN = '^[A-Za-z0-9_-]{1,128}$';

const uuid = (description: string, example: string) => ({ type: 'string', pattern: UUID_PATTERN, description, example }) as const;
const dateTime = (description: string) =>
  ({ type: 'string', format: 'date-time', maxLength: 40, description, example: '2026-03-03T07:21:40.000Z' }) as const;

/** Largest entered value whose canonical value stays within `max` (rounded down, so float noise never crosses it). */
const floorTo6 = (value: number): number => Math.floor(value * 1e6) / 1e6;

const loadSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['value', 'unit'],
  description: `Load as entered; at most ${L.loadKgMax} kg (or the same mass in lb).`,
  properties: {
    value: { type: 'number', minimum: 0 },
    unit: { type: 'string', enum: [...MASS_UNITS] },
  },
  allOf: MASS_UNITS.map((unit) => ({
    if: { properties: { unit: { const: unit } } },
    then: { properties: { value: { type: 'number', maximum: floorTo6(fromKg(L.loadKgMax, unit)) } } },
  })),
  example: { value: 102.5, unit: 'kg' },
} as const;

const distanceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['value', 'unit'],
  description: `Distance as entered; at most ${L.distanceMMax} m (or the same distance in another unit).`,
  properties: {
    value: { type: 'number', minimum: 0 },
    unit: { type: 'string', enum: [...DISTANCE_UNITS] },
  },
  allOf: DISTANCE_UNITS.map((unit) => ({
    if: { properties: { unit: { const: unit } } },
    then: { properties: { value: { type: 'number', maximum: floorTo6(fromMetres(L.distanceMMax, unit)) } } },
  })),
  example: { value: 5, unit: 'km' },
} as const;

const locationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['lat', 'lon'],
  properties: {
    lat: { type: 'number', minimum: -90, maximum: 90 },
    lon: { type: 'number', minimum: -180, maximum: 180 },
  },
  example: { lat: 52.52, lon: 13.405 },
} as const;

const title = { type: 'string', minLength: 1, maxLength: L.titleMaxChars, example: 'Lower body A' } as const;
const notes = { type: 'string', maxLength: L.notesMaxChars } as const;
const reason = { type: 'string', maxLength: L.reasonMaxChars, example: 'typo in the load' } as const;

/** A set as a client enters it (the server derives loadKg / distanceM). */
export const setInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['exerciseId'],
  description: 'One set. Give reps, durationS or distance (at least one).',
  properties: {
    exerciseId: uuid('Exercise catalogue id.', '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e'),
    reps: { type: 'integer', minimum: L.repsMin, maximum: L.repsMax, example: 5 },
    load: loadSchema,
    durationS: { type: 'number', minimum: 0, maximum: L.durationSMax, description: 'Seconds, at most 24 h.' },
    distance: distanceSchema,
    rpe: { type: 'number', minimum: L.rpeMin, maximum: L.rpeMax, multipleOf: 0.5, description: 'RPE 1–10 in half steps.', example: 8 },
    heartRateBpm: { type: 'integer', minimum: L.heartRateBpmMin, maximum: L.heartRateBpmMax },
    warmUp: { type: 'boolean' },
    toFailure: { type: 'boolean' },
    supersetGroup: { type: 'string', minLength: 1, maxLength: L.supersetGroupMaxChars },
    restBeforeS: { type: 'number', minimum: 0, maximum: L.restBeforeSMax },
    notes,
    customFields: {
      type: 'object',
      maxProperties: L.customFieldsMaxKeys,
      additionalProperties: false,
      patternProperties: {
        '^[A-Za-z][A-Za-z0-9_]{0,39}$': { anyOf: [{ type: 'number' }, { type: 'string', maxLength: L.customFieldStringMaxChars }] },
      },
    },
  },
  example: { exerciseId: '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e', reps: 5, load: { value: 102.5, unit: 'kg' }, rpe: 8 },
} as const;

export const workoutIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['workoutId'],
  properties: { workoutId: uuid('The workout.', '0190f5a1-3b2c-7d4e-8f6a-1b2c3d4e5f60') },
} as const;

export const workoutSetParams = {
  type: 'object',
  additionalProperties: false,
  required: ['workoutId', 'setId'],
  properties: {
    workoutId: uuid('The workout.', '0190f5a1-3b2c-7d4e-8f6a-1b2c3d4e5f60'),
    setId: uuid('The set.', '0190f5a3-1a2b-7c3d-8e4f-5a6b7c8d9e0f'),
  },
} as const;

/** Headers every command route reads. Other headers pass (a header object cannot be closed). */
export const commandHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        'Makes a retry safe: the same key with the same request appends nothing and answers the first response again; the same key with another request is refused (422 IDEMPOTENCY_KEY_REUSED).',
    },
    'if-match': {
      type: 'string',
      maxLength: 1024,
      description: 'The ETag of the workout ("<revision>") this change is based on; 412 when the workout has changed since.',
    },
  },
} as const;

export const createWorkoutBody = {
  type: 'object',
  additionalProperties: false,
  description:
    'Plans a workout (title and plannedFor required), or with `start: true` starts a new, unplanned workout right away (startedAt defaults to now; plannedFor, plannedSets and notes are not accepted then).',
  properties: {
    workoutId: uuid('Client-chosen id of the new workout; the server makes one when absent.', '0190f5a1-3b2c-7d4e-8f6a-1b2c3d4e5f60'),
    start: { type: 'boolean', description: 'Start the new workout now instead of planning it.' },
    title,
    plannedFor: dateTime('When the workout is planned for.'),
    startedAt: dateTime('With start: when the workout started.'),
    location: locationSchema,
    notes,
    plannedSets: { type: 'array', maxItems: L.plannedSetsMax, items: setInputSchema },
  },
  example: { title: 'Lower body A', plannedFor: '2026-03-04T07:00:00.000Z', plannedSets: [setInputSchema.example] },
} as const;

/** A workout a trainer plans in a client's record (coach-assigned). */
export const assignWorkoutBody = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'plannedFor'],
  properties: {
    workoutId: createWorkoutBody.properties.workoutId,
    title,
    plannedFor: dateTime('When the client should do it.'),
    location: locationSchema,
    notes,
    plannedSets: { type: 'array', maxItems: L.plannedSetsMax, items: setInputSchema },
  },
  example: { title: 'Lower body A', plannedFor: '2026-03-04T07:00:00.000Z', plannedSets: [setInputSchema.example] },
} as const;

export const startWorkoutBody = {
  type: 'object',
  additionalProperties: false,
  properties: { startedAt: dateTime('When the workout started; defaults to now.'), title, location: locationSchema },
  example: { startedAt: '2026-03-04T07:02:00.000Z' },
} as const;

export const logSetBody = {
  type: 'object',
  additionalProperties: false,
  required: ['set'],
  properties: {
    setId: uuid('Client-chosen set id (a retried log with the same id and values changes nothing); the server makes one when absent.', '0190f5a3-1a2b-7c3d-8e4f-5a6b7c8d9e0f'),
    occurredAt: dateTime('When the set was done; defaults to now.'),
    set: setInputSchema,
  },
  example: { set: setInputSchema.example },
} as const;

export const correctSetBody = {
  type: 'object',
  additionalProperties: false,
  required: ['set'],
  description: 'Replaces every value of the set (a full correction, not a patch).',
  properties: { set: setInputSchema, reason },
  example: { set: { ...setInputSchema.example, reps: 4 }, reason: 'miscounted' },
} as const;

export const deleteSetBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason },
  example: { reason: 'logged twice' },
} as const;

export const completeWorkoutBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    completedAt: dateTime('When the workout ended; defaults to now.'),
    perceivedExertion: { type: 'number', minimum: L.rpeMin, maximum: L.rpeMax, multipleOf: 0.5, description: 'Session RPE (Foster 2001).', example: 7 },
    energyKcal: { type: 'number', minimum: 0, maximum: L.energyKcalMax, description: 'Active energy burned, in kilocalories (as entered or reported by a device); counts towards calorie goals.', example: 420 },
    notes,
  },
  example: { perceivedExertion: 7, energyKcal: 420 },
} as const;

export const cancelWorkoutBody = {
  type: 'object',
  additionalProperties: false,
  properties: { cancelledAt: dateTime('When the workout was cancelled; defaults to now.'), reason },
  example: { reason: 'gym closed' },
} as const;

export const cloneWorkoutBody = {
  type: 'object',
  additionalProperties: false,
  description: 'Plans a new workout whose targets are the sets done in (or planned for) the source workout.',
  properties: {
    workoutId: uuid('Client-chosen id of the new workout; the server makes one when absent.', '0190f5b0-0a1b-7c2d-8e3f-4a5b6c7d8e9f'),
    title,
    plannedFor: dateTime('When the new workout is planned for.'),
  },
  example: { plannedFor: '2026-03-11T07:00:00.000Z' },
} as const;

/** Every successful command answers this. */
export const commandResultSchema = {
  type: 'object',
  required: ['workoutId', 'revision', 'position'],
  properties: {
    workoutId: { type: 'string', example: '0190f5a1-3b2c-7d4e-8f6a-1b2c3d4e5f60' },
    setId: { type: 'string', example: '0190f5a3-1a2b-7c3d-8e4f-5a6b7c8d9e0f' },
    revision: { type: 'integer', description: 'Revision of the workout stream after the command; also the ETag.', example: 3 },
    position: { type: 'string', description: 'Opaque $all position of the last event: read models are current once they reach it.' },
  },
} as const;

const problem = (description: string) => ({ description, $ref: 'Problem#' }) as const;

/** Error responses every command route can give. */
export const commandProblems = {
  400: problem('Malformed JSON, a wrong type, an unknown field or a value out of range; `errors` names the field.'),
  401: problem('No valid access token.'),
  403: problem('The token lacks the fitledger:write scope or the role may not record workouts.'),
  404: problem('No such workout (or not one of yours).'),
  409: problem('The workout kept changing concurrently; retry.'),
  410: problem('The workout or its subject was erased.'),
  412: problem('If-Match does not match the workout’s current revision.'),
  413: problem('The body is larger than the limit.'),
  415: problem('The body is not application/json.'),
  422: problem('A domain rule refused the command (`code` says which), or the Idempotency-Key was reused for another request.'),
} as const;
