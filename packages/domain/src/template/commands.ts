import type { Command } from '../events/envelope';
import type { SetInput } from '../workout/commands';
import type { TemplateVisibility } from './events';

/** A template as a client sends it: entered units only. */
export type TemplateInput = {
  readonly name: string;
  readonly notes?: string;
  readonly plannedSets?: readonly SetInput[];
  /** Default `private`. */
  readonly visibility?: TemplateVisibility;
};

export type CreateTemplate = Command<'CreateTemplate', { readonly templateId: string; readonly definition: TemplateInput }>;
export type ReviseTemplate = Command<'ReviseTemplate', { readonly templateId: string; readonly definition: TemplateInput }>;
export type ArchiveTemplate = Command<'ArchiveTemplate', { readonly templateId: string; readonly reason?: string }>;

export type TemplateCommand = CreateTemplate | ReviseTemplate | ArchiveTemplate;
