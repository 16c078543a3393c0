import { TEMPLATE_VISIBILITIES, WORKOUT_LIMITS as L } from '@fitledger/domain';
import { setInputSchema, UUID_PATTERN } from './workoutSchemas';

/** JSON schemas of the template routes: strict like the workout ones, the same set rules for planned sets. */

const definitionProperties = {
  name: { type: 'string', minLength: 1, maxLength: L.titleMaxChars, example: 'Lower body A' },
  notes: { type: 'string', maxLength: L.notesMaxChars },
  plannedSets: { type: 'array', maxItems: L.plannedSetsMax, items: setInputSchema, description: 'Target sets, in order.' },
  visibility: {
    type: 'string',
    enum: [...TEMPLATE_VISIBILITIES],
    description: '`private` (default): only you use it. `organisation`: everyone in your organisation may plan from it; only you change it.',
  },
} as const;

export const createTemplateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { templateId: { type: 'string', pattern: UUID_PATTERN, description: 'Client-chosen id so a retry is recognised; generated when absent.' }, ...definitionProperties },
} as const;

export const reviseTemplateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  description: 'The next version of the template: a full replacement.',
  properties: definitionProperties,
} as const;

export const archiveTemplateBody = { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: L.reasonMaxChars } } } as const;

export const instantiateTemplateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['plannedFor'],
  description: 'Plans a workout with the template’s current version: its sets become the planned sets.',
  properties: {
    workoutId: { type: 'string', pattern: UUID_PATTERN, description: 'Client-chosen id of the new workout; generated when absent.' },
    plannedFor: { type: 'string', format: 'date-time', maxLength: 40 },
    title: { type: 'string', minLength: 1, maxLength: L.titleMaxChars, description: 'Defaults to the template name.' },
  },
} as const;

export const templateIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['templateId'],
  properties: { templateId: { type: 'string', pattern: UUID_PATTERN } },
} as const;

export const templateResultSchema = {
  type: 'object',
  required: ['templateId', 'revision', 'position'],
  properties: {
    templateId: { type: 'string' },
    workoutId: { type: 'string', description: 'The planned workout (instantiate).' },
    templateVersion: { type: 'integer', description: 'The template version a workout was planned from (instantiate).' },
    revision: { type: 'integer', description: 'Revision of the stream written (the template; the workout for instantiate); also the ETag.' },
    position: { type: 'string', description: 'Opaque $all position of the last event: read models are current once they reach it.' },
  },
} as const;
