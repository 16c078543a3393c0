import type { Event } from '../events/envelope';

/** One template on one weekday at a local time, e.g. Monday 07:00 "Lower A". */
export type PlanEntry = {
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  readonly weekday: number;
  /** Local wall-clock time `HH:MM` in the plan's time zone. */
  readonly time: string;
  readonly templateId: string;
};

export type PlanDefinition = {
  readonly name: string;
  /** IANA time zone the times are in (the person's, e.g. Europe/Berlin). */
  readonly timeZone: string;
  /** First local date the plan applies to (YYYY-MM-DD). */
  readonly startsOn: string;
  /** Last local date (inclusive), open-ended when absent. */
  readonly endsOn?: string;
  readonly entries: readonly PlanEntry[];
};

export type PlanCreatedData = PlanDefinition & { readonly planId: string };
export type PlanRevisedData = PlanDefinition & { readonly planId: string };
export type PlanArchivedData = { readonly planId: string };

export type PlanCreated = Event<'PlanCreated', PlanCreatedData>;
export type PlanRevised = Event<'PlanRevised', PlanRevisedData>;
export type PlanArchived = Event<'PlanArchived', PlanArchivedData>;
export type PlanEvent = PlanCreated | PlanRevised | PlanArchived;
export type PlanEventType = PlanEvent['type'];
