import type { Event } from '../events/envelope';
import type { SetValues } from '../workout/events';

export const TEMPLATE_VISIBILITIES = ['private', 'organisation'] as const;
export type TemplateVisibility = (typeof TEMPLATE_VISIBILITIES)[number];

/** What a template version is: every field a revision replaces. */
export type TemplateDefinition = {
  readonly name: string;
  readonly notes?: string;
  /** Target sets, in order, in entered and canonical units (as a planned workout holds them). */
  readonly plannedSets: readonly SetValues[];
  /** `organisation`: everyone in the author's organisation may use it; only the author changes it. */
  readonly visibility: TemplateVisibility;
};

export type TemplateCreatedData = TemplateDefinition & { readonly templateId: string; readonly version: 1 };
/** A new version (the previous + 1): full replacement of the definition. */
export type TemplateRevisedData = TemplateDefinition & { readonly templateId: string; readonly version: number };
export type TemplateArchivedData = { readonly templateId: string; readonly reason?: string };

export type TemplateCreated = Event<'TemplateCreated', TemplateCreatedData>;
export type TemplateRevised = Event<'TemplateRevised', TemplateRevisedData>;
export type TemplateArchived = Event<'TemplateArchived', TemplateArchivedData>;

export type TemplateEvent = TemplateCreated | TemplateRevised | TemplateArchived;
export type TemplateEventType = TemplateEvent['type'];
