import { defineEventType, type EventTypeDefinition } from '../events/eventRegistry';
import { array, number, object, oneOf, optional, string, uuid, type ObjectValidator } from '../validation/validator';
import { setValuesValidator, WORKOUT_LIMITS } from '../workout/workoutEventTypes';
import { TEMPLATE_VISIBILITIES, type TemplateArchivedData, type TemplateCreatedData, type TemplateEventType, type TemplateRevisedData } from './events';

const definitionShape = {
  name: string({ min: 1, max: WORKOUT_LIMITS.titleMaxChars }),
  notes: optional(string({ max: WORKOUT_LIMITS.notesMaxChars })),
  plannedSets: array(setValuesValidator, { max: WORKOUT_LIMITS.plannedSetsMax }),
  visibility: oneOf(TEMPLATE_VISIBILITIES),
};

export const templateCreatedValidator = object({ templateId: uuid(), version: number({ min: 1, max: 1, integer: true }), ...definitionShape }) as ObjectValidator<TemplateCreatedData>;
export const templateRevisedValidator: ObjectValidator<TemplateRevisedData> = object({ templateId: uuid(), version: number({ min: 2, integer: true }), ...definitionShape });
export const templateArchivedValidator: ObjectValidator<TemplateArchivedData> = object({ templateId: uuid(), reason: optional(string({ max: WORKOUT_LIMITS.reasonMaxChars })) });

/** Workout templates, schema version 1. Only the template id is in clear: names and sets can say much about a person. */
export const templateEventTypes = [
  defineEventType({ type: 'TemplateCreated', schemaVersion: 1, plainFields: ['templateId'], validator: templateCreatedValidator, upcasters: {} }),
  defineEventType({ type: 'TemplateRevised', schemaVersion: 1, plainFields: ['templateId'], validator: templateRevisedValidator, upcasters: {} }),
  defineEventType({ type: 'TemplateArchived', schemaVersion: 1, plainFields: ['templateId'], validator: templateArchivedValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<TemplateEventType, unknown>[];
