import { addDays, dayNumber, isoWeekday, zonedInstant, type LocalDate } from '../calendar/calendar';
import type { Decider } from '../decider';
import { DomainError } from '../errors';
import type { ObjectValidator } from '../validation/validator';
import type { PlanCommand } from './commands';
import type { PlanDefinition, PlanEvent } from './events';
import { planArchivedValidator, planCreatedValidator, planRevisedValidator } from './planEventTypes';

export const planStreamId = (planId: string): string => `plan-${planId}`;

export type PlanState =
  | { readonly status: 'none' }
  | { readonly status: 'active' | 'archived'; readonly planId: string; readonly definition: PlanDefinition };

export const initialPlanState = (): PlanState => ({ status: 'none' });

/** Longest schedule one request may expand (about a year). */
export const MAX_SCHEDULE_DAYS = 366;

function valid<T>(validator: ObjectValidator<T>, data: unknown): T {
  const result = validator.check(data);
  if (!result.ok) throw DomainError.validation(result.issues);
  return result.value;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Weekly plans: which template on which weekday at which local time, from a start date. */
export function decidePlan(command: PlanCommand, state: PlanState): PlanEvent[] {
  const { planId } = command.data;
  if (state.status !== 'none' && state.planId !== planId) throw new DomainError('PLAN_ID_MISMATCH', 'the command addresses another plan than this stream', { field: 'planId' });
  switch (command.type) {
    case 'CreatePlan': {
      const data = valid(planCreatedValidator, { planId, ...command.data.definition });
      if (state.status === 'none') return [{ type: 'PlanCreated', data }];
      const { planId: _id, ...definition } = data;
      if (same(state.definition, definition)) return [];
      throw new DomainError('PLAN_ALREADY_EXISTS', 'a plan with this id already exists', { field: 'planId' });
    }
    case 'RevisePlan': {
      if (state.status === 'none') throw new DomainError('PLAN_NOT_FOUND', 'the plan does not exist', { field: 'planId' });
      if (state.status === 'archived') throw new DomainError('PLAN_ARCHIVED', 'the plan is archived', { field: 'planId' });
      const data = valid(planRevisedValidator, { planId, ...command.data.definition });
      const { planId: _id, ...definition } = data;
      return same(state.definition, definition) ? [] : [{ type: 'PlanRevised', data }];
    }
    case 'ArchivePlan':
      if (state.status === 'none') throw new DomainError('PLAN_NOT_FOUND', 'the plan does not exist', { field: 'planId' });
      return state.status === 'archived' ? [] : [{ type: 'PlanArchived', data: valid(planArchivedValidator, { planId }) }];
    default: {
      const _: never = command;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

export function evolvePlan(state: PlanState, event: PlanEvent): PlanState {
  switch (event.type) {
    case 'PlanCreated':
    case 'PlanRevised': {
      const { planId, ...definition } = event.data;
      return { status: 'active', planId, definition };
    }
    case 'PlanArchived':
      return state.status === 'none' ? state : { ...state, status: 'archived' };
    default: {
      const _: never = event;
      return state;
    }
  }
}

export const planDecider: Decider<PlanState, PlanCommand, PlanEvent> = { initialState: initialPlanState, evolve: evolvePlan, decide: decidePlan };

export interface PlanOccurrence {
  readonly date: LocalDate;
  readonly weekday: number;
  readonly time: string;
  readonly templateId: string;
  /** The instant the wall clocks of the plan's zone show `date` `time` (a time skipped by DST moves forward). */
  readonly at: Date;
}

/**
 * The plan's sessions between two local dates (inclusive), in date and time order: each entry on
 * each matching weekday within the plan's start and end, at its local time in the plan's zone —
 * 07:00 stays 07:00 on the wall clock across DST switches.
 */
export function planOccurrences(definition: PlanDefinition, from: LocalDate, to: LocalDate): PlanOccurrence[] {
  if (dayNumber(to) < dayNumber(from)) return [];
  if (dayNumber(to) - dayNumber(from) >= MAX_SCHEDULE_DAYS) throw DomainError.validation([{ field: 'to', code: 'range', message: `to must be within ${MAX_SCHEDULE_DAYS} days of from` }]);
  const start = Math.max(dayNumber(from), dayNumber(definition.startsOn as LocalDate));
  const end = Math.min(dayNumber(to), definition.endsOn === undefined ? Number.POSITIVE_INFINITY : dayNumber(definition.endsOn as LocalDate));
  const out: PlanOccurrence[] = [];
  for (let day = start; day <= end; day++) {
    const date = addDays('1970-01-01' as LocalDate, day);
    const weekday = isoWeekday(date);
    const todays = definition.entries.filter((e) => e.weekday === weekday).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    for (const e of todays) {
      const [h, m] = e.time.split(':').map(Number) as [number, number];
      out.push({ date, weekday, time: e.time, templateId: e.templateId, at: zonedInstant(date, h * 60 + m, definition.timeZone) });
    }
  }
  return out;
}
