import { defineEventType, type EventTypeDefinition } from '../events/eventRegistry';
import { array, object, oneOf, optional, string, uuid, type ObjectValidator, type ValidationIssue } from '../validation/validator';
import type { ExerciseArchivedData, ExerciseCreatedData, ExerciseDefinition, ExerciseEventType, ExerciseRevisedData } from './events';
import { EQUIPMENT, EXERCISE_CATEGORIES, EXERCISE_LEVELS, EXERCISE_VISIBILITIES, FORCES, MECHANICS, MUSCLES } from './vocabulary';

/**
 * The exercise rules on values, shared by the decider (data about to be written), the event
 * registry (data read back) and the command routes' JSON schemas (same limits). As with workouts,
 * a limit may be loosened freely; tightening one needs a new schema version.
 */
export const EXERCISE_LIMITS = {
  nameMaxChars: 120,
  instructionsMax: 20,
  instructionMaxChars: 2000,
  mediaLinksMax: 10,
  mediaLinkMaxChars: 2048,
  reasonMaxChars: 500,
} as const;

const L = EXERCISE_LIMITS;

/** No control characters, and something besides white space (names are shown in lists). */
export const EXERCISE_NAME_PATTERN = /^[^\p{Cc}]*[^\p{Cc}\s][^\p{Cc}]*$/u;
/**
 * An https URL with a plain host (no credentials, no white space): media links are shown to other
 * people, so `javascript:`, `data:` and `http:` are refused.
 */
export const MEDIA_LINK_PATTERN = /^https:\/\/[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][^\s<>"\\^`{|}\p{Cc}]*)?$/u;

const muscles = array(oneOf(MUSCLES), { max: MUSCLES.length });

function distinct(field: string, values: readonly string[]): ValidationIssue[] {
  return new Set(values).size === values.length ? [] : [{ field, code: 'inconsistent', message: `${field} must not name the same value twice` }];
}

const definitionShape = {
  visibility: oneOf(EXERCISE_VISIBILITIES),
  name: string({ min: 1, max: L.nameMaxChars, pattern: EXERCISE_NAME_PATTERN, patternName: 'text with no control characters that is not only white space' }),
  category: oneOf(EXERCISE_CATEGORIES),
  level: oneOf(EXERCISE_LEVELS),
  primaryMuscles: muscles,
  secondaryMuscles: muscles,
  equipment: optional(oneOf(EQUIPMENT)),
  mechanic: optional(oneOf(MECHANICS)),
  force: optional(oneOf(FORCES)),
  instructions: array(string({ min: 1, max: L.instructionMaxChars, pattern: /\S/u, patternName: 'text that is not only white space' }), { max: L.instructionsMax }),
  mediaLinks: array(string({ min: 1, max: L.mediaLinkMaxChars, pattern: MEDIA_LINK_PATTERN, patternName: 'an https URL' }), { max: L.mediaLinksMax }),
};

function definitionRules(definition: ExerciseDefinition): ValidationIssue[] {
  return [
    ...(definition.primaryMuscles.length === 0 ? [{ field: 'primaryMuscles', code: 'too_short' as const, message: 'primaryMuscles must name at least one muscle' }] : []),
    ...distinct('primaryMuscles', definition.primaryMuscles),
    ...distinct('secondaryMuscles', definition.secondaryMuscles),
    ...definition.secondaryMuscles
      .map((muscle, i) => ({ muscle, i }))
      .filter(({ muscle }) => definition.primaryMuscles.includes(muscle))
      .map(({ i }) => ({ field: `secondaryMuscles[${i}]`, code: 'inconsistent' as const, message: `secondaryMuscles[${i}] is already a primary muscle` })),
    ...distinct('mediaLinks', definition.mediaLinks),
  ];
}

export const exerciseDefinitionValidator: ObjectValidator<ExerciseDefinition> = object(definitionShape, definitionRules);

export const exerciseCreatedValidator: ObjectValidator<ExerciseCreatedData> = object({ exerciseId: uuid(), ...definitionShape }, definitionRules);

export const exerciseRevisedValidator: ObjectValidator<ExerciseRevisedData> = object({ exerciseId: uuid(), ...definitionShape }, definitionRules);

export const exerciseArchivedValidator: ObjectValidator<ExerciseArchivedData> = object({
  exerciseId: uuid(),
  reason: optional(string({ max: L.reasonMaxChars })),
});

/**
 * Every exercise event type, schema version 1. Only the opaque id is stored in clear: a custom
 * exercise is typed by a person (a private "knee rehab after surgery" says something about them),
 * so its text is sealed with the author's key like every other non-id field, and crypto-shredding
 * the author removes it from the store.
 */
export const exerciseEventTypes = [
  defineEventType({ type: 'ExerciseCreated', schemaVersion: 1, plainFields: ['exerciseId'], validator: exerciseCreatedValidator, upcasters: {} }),
  defineEventType({ type: 'ExerciseRevised', schemaVersion: 1, plainFields: ['exerciseId'], validator: exerciseRevisedValidator, upcasters: {} }),
  defineEventType({ type: 'ExerciseArchived', schemaVersion: 1, plainFields: ['exerciseId'], validator: exerciseArchivedValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<ExerciseEventType, unknown>[];

type Defined = (typeof exerciseEventTypes)[number]['type'];
const _everyExerciseEventDefined: [ExerciseEventType] extends [Defined] ? true : never = true;
void _everyExerciseEventDefined;
