import { isTimeZone } from '../calendar/calendar';
import { defineEventType, type EventTypeDefinition } from '../events/eventRegistry';
import { array, isoDate, number, object, optional, string, uuid, type ObjectValidator, type ValidationIssue, type Validator } from '../validation/validator';
import type { PlanArchivedData, PlanCreatedData, PlanEventType, PlanRevisedData } from './events';

export const PLAN_LIMITS = { entriesMax: 50, nameMaxChars: 200 } as const;

const timeZone = (): Validator<string> => ({
  check(value, path = '') {
    const field = path || '(root)';
    return typeof value === 'string' && value.length <= 64 && isTimeZone(value)
      ? { ok: true, value }
      : { ok: false, issues: [{ field, code: 'format', message: `${field} must be an IANA time zone such as Europe/Berlin` }] };
  },
});

const entry = object({
  weekday: number({ min: 1, max: 7, integer: true }),
  time: string({ max: 5, pattern: /^(?:[01]\d|2[0-3]):[0-5]\d$/, patternName: 'a local time HH:MM' }),
  templateId: uuid(),
});

const definitionShape = {
  name: string({ min: 1, max: PLAN_LIMITS.nameMaxChars }),
  timeZone: timeZone(),
  startsOn: isoDate(),
  endsOn: optional(isoDate()),
  entries: array(entry, { max: PLAN_LIMITS.entriesMax }),
};

function rules(data: { startsOn: string; endsOn?: string; entries: readonly { weekday: number; time: string; templateId: string }[] }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (data.endsOn !== undefined && data.endsOn < data.startsOn) issues.push({ field: 'endsOn', code: 'inconsistent', message: 'endsOn must not be before startsOn' });
  const seen = new Set<string>();
  data.entries.forEach((e, i) => {
    const key = `${e.weekday} ${e.time} ${e.templateId}`;
    if (seen.has(key)) issues.push({ field: `entries[${i}]`, code: 'inconsistent', message: `entries[${i}] repeats an earlier entry` });
    seen.add(key);
  });
  return issues;
}

export const planCreatedValidator: ObjectValidator<PlanCreatedData> = object({ planId: uuid(), ...definitionShape }, rules);
export const planRevisedValidator: ObjectValidator<PlanRevisedData> = object({ planId: uuid(), ...definitionShape }, rules);
export const planArchivedValidator: ObjectValidator<PlanArchivedData> = object({ planId: uuid() });

/** Weekly plans, schema version 1. Only the plan id is in clear. */
export const planEventTypes = [
  defineEventType({ type: 'PlanCreated', schemaVersion: 1, plainFields: ['planId'], validator: planCreatedValidator, upcasters: {} }),
  defineEventType({ type: 'PlanRevised', schemaVersion: 1, plainFields: ['planId'], validator: planRevisedValidator, upcasters: {} }),
  defineEventType({ type: 'PlanArchived', schemaVersion: 1, plainFields: ['planId'], validator: planArchivedValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<PlanEventType, unknown>[];
