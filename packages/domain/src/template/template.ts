import type { Decider } from '../decider';
import { DomainError } from '../errors';
import { withoutNegativeZero } from '../json';
import type { ObjectValidator } from '../validation/validator';
import { setValues } from '../workout/workout';
import type { TemplateCommand, TemplateInput } from './commands';
import type { TemplateDefinition, TemplateEvent } from './events';
import { templateArchivedValidator, templateCreatedValidator, templateRevisedValidator } from './templateEventTypes';

export const templateStreamId = (templateId: string): string => `template-${templateId}`;

export type TemplateState =
  | { readonly status: 'none' }
  | { readonly status: 'active' | 'archived'; readonly templateId: string; readonly version: number; readonly definition: TemplateDefinition };

export const initialTemplateState = (): TemplateState => ({ status: 'none' });

function valid<T>(validator: ObjectValidator<T>, data: unknown): T {
  const result = validator.check(data);
  if (!result.ok) throw DomainError.validation(result.issues);
  return result.value;
}

function definitionOf(input: TemplateInput): Record<string, unknown> {
  return {
    name: input.name,
    ...(input.notes === undefined ? {} : { notes: input.notes }),
    plannedSets: (input.plannedSets ?? []).map(setValues),
    visibility: input.visibility ?? 'private',
  };
}

const sameDefinition = (a: TemplateDefinition, b: TemplateDefinition): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, canonical(v)]));
  return value;
}

/**
 * Workout templates with versions: created as version 1, every revision is the next version (a
 * full replacement); planned workouts record the template and version they came from, so old
 * workouts keep pointing at what they were planned from. Archived templates cannot be revised.
 */
export function decideTemplate(given: TemplateCommand, state: TemplateState): TemplateEvent[] {
  const command = { ...given, data: withoutNegativeZero(given.data) } as TemplateCommand;
  const { templateId } = command.data;
  if (state.status !== 'none' && state.templateId !== templateId) {
    throw new DomainError('TEMPLATE_ID_MISMATCH', 'the command addresses another template than this stream', { field: 'templateId' });
  }
  switch (command.type) {
    case 'CreateTemplate': {
      const data = valid(templateCreatedValidator, { templateId, version: 1, ...definitionOf(command.data.definition) });
      if (state.status === 'none') return [{ type: 'TemplateCreated', data }];
      // A retried create with the same definition changes nothing.
      const { templateId: _id, version: _v, ...definition } = data;
      if (state.version === 1 && sameDefinition(state.definition, definition)) return [];
      throw new DomainError('TEMPLATE_ALREADY_EXISTS', 'a template with this id already exists', { field: 'templateId' });
    }
    case 'ReviseTemplate': {
      if (state.status === 'none') throw new DomainError('TEMPLATE_NOT_FOUND', 'the template does not exist', { field: 'templateId' });
      if (state.status === 'archived') throw new DomainError('TEMPLATE_ARCHIVED', 'the template is archived', { field: 'templateId' });
      const data = valid(templateRevisedValidator, { templateId, version: state.version + 1, ...definitionOf(command.data.definition) });
      const { templateId: _id, version: _v, ...definition } = data;
      if (sameDefinition(state.definition, definition)) return [];
      return [{ type: 'TemplateRevised', data }];
    }
    case 'ArchiveTemplate': {
      if (state.status === 'none') throw new DomainError('TEMPLATE_NOT_FOUND', 'the template does not exist', { field: 'templateId' });
      if (state.status === 'archived') return [];
      return [{ type: 'TemplateArchived', data: valid(templateArchivedValidator, { templateId, ...(command.data.reason === undefined ? {} : { reason: command.data.reason }) }) }];
    }
    default: {
      const _: never = command;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

export function evolveTemplate(state: TemplateState, event: TemplateEvent): TemplateState {
  switch (event.type) {
    case 'TemplateCreated':
    case 'TemplateRevised': {
      const { templateId, version, ...definition } = event.data;
      return { status: 'active', templateId, version, definition };
    }
    case 'TemplateArchived':
      return state.status === 'none' ? state : { ...state, status: 'archived' };
    default: {
      const _: never = event;
      return state;
    }
  }
}

export const templateDecider: Decider<TemplateState, TemplateCommand, TemplateEvent> = { initialState: initialTemplateState, evolve: evolveTemplate, decide: decideTemplate };
