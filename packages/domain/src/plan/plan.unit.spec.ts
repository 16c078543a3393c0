import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../../test/deciderSpecification';
import type { LocalDate } from '../calendar/calendar';
import type { CommandMetadata } from '../events/envelope';
import type { PlanCommand } from './commands';
import type { PlanDefinition, PlanEvent } from './events';
import { planDecider, planOccurrences } from './plan';

const P = '0190f3c0-2222-7333-8444-555566667777';
const A = '0190f3b0-1111-7222-8333-444455556666';
const B = '0190f3b0-1111-7222-8333-444455556667';
const meta: CommandMetadata = { now: new Date('2026-03-01T08:00:00Z'), actor: { sub: 'u-1', role: 'client' }, tenantId: 't-1', subjectId: 's-1', commandId: 'c-1', correlationId: 'r-1' };
const cmd = <C extends PlanCommand>(type: C['type'], data: C['data']): C => ({ type, data, metadata: meta }) as C;
const spec = deciderSpecification(planDecider);
const berlin: PlanDefinition = { name: 'Split', timeZone: 'Europe/Berlin', startsOn: '2026-03-16', entries: [{ weekday: 1, time: '07:00', templateId: A }, { weekday: 7, time: '02:30', templateId: B }] };
const created: PlanEvent = { type: 'PlanCreated', data: { planId: P, ...berlin } };
const d = (s: string) => s as LocalDate;

describe('weekly plans', () => {
  it('creates, revises and archives; identical commands record nothing', () => {
    spec.given([]).when(cmd('CreatePlan', { planId: P, definition: berlin })).then([created]);
    spec.given([created]).when(cmd('CreatePlan', { planId: P, definition: berlin })).thenNothingHappens();
    spec.given([created]).when(cmd('RevisePlan', { planId: P, definition: { ...berlin, name: 'Split 2' } })).then([{ type: 'PlanRevised', data: { planId: P, ...berlin, name: 'Split 2' } }]);
    spec.given([created]).when(cmd('ArchivePlan', { planId: P })).then([{ type: 'PlanArchived', data: { planId: P } }]);
    spec.given([created, { type: 'PlanArchived', data: { planId: P } }]).when(cmd('RevisePlan', { planId: P, definition: berlin })).thenThrows('PLAN_ARCHIVED', 'planId');
  });

  it('validates entries, zone and dates naming the field', () => {
    spec.given([]).when(cmd('CreatePlan', { planId: P, definition: { ...berlin, timeZone: 'Europe/Atlantis' } })).thenThrows('VALIDATION_FAILED', 'timeZone');
    spec.given([]).when(cmd('CreatePlan', { planId: P, definition: { ...berlin, entries: [{ weekday: 8, time: '07:00', templateId: A }] } })).thenThrows('VALIDATION_FAILED', 'entries[0].weekday');
    spec.given([]).when(cmd('CreatePlan', { planId: P, definition: { ...berlin, entries: [{ weekday: 1, time: '24:00', templateId: A }] } })).thenThrows('VALIDATION_FAILED', 'entries[0].time');
    spec.given([]).when(cmd('CreatePlan', { planId: P, definition: { ...berlin, startsOn: '2026-02-30' } })).thenThrows('VALIDATION_FAILED', 'startsOn');
    spec.given([]).when(cmd('CreatePlan', { planId: P, definition: { ...berlin, endsOn: '2026-03-01' } })).thenThrows('VALIDATION_FAILED', 'endsOn');
    spec.given([]).when(cmd('CreatePlan', { planId: P, definition: { ...berlin, entries: [berlin.entries[0], berlin.entries[0]] as never } })).thenThrows('VALIDATION_FAILED', 'entries[1]');
  });

  it('schedules sessions at the same wall-clock time across the spring-forward switch', () => {
    const sessions = planOccurrences(berlin, d('2026-03-20'), d('2026-04-06'));
    expect(sessions.map((s) => [s.date, s.time, s.at.toISOString()])).toEqual([
      ['2026-03-22', '02:30', '2026-03-22T01:30:00.000Z'], // CET
      ['2026-03-23', '07:00', '2026-03-23T06:00:00.000Z'],
      // Sunday 29 March: 02:30 does not exist in Berlin (clocks jump 02:00 → 03:00): 03:30 CEST.
      ['2026-03-29', '02:30', '2026-03-29T01:30:00.000Z'],
      ['2026-03-30', '07:00', '2026-03-30T05:00:00.000Z'], // CEST: same wall time, one hour earlier in UTC
      ['2026-04-05', '02:30', '2026-04-05T00:30:00.000Z'],
      ['2026-04-06', '07:00', '2026-04-06T05:00:00.000Z'],
    ]);
  });

  it('respects the start and end dates and caps the range', () => {
    expect(planOccurrences(berlin, d('2026-03-01'), d('2026-03-16')).map((s) => s.date)).toEqual(['2026-03-16']);
    expect(planOccurrences({ ...berlin, endsOn: '2026-03-22' }, d('2026-03-16'), d('2026-04-30')).map((s) => s.date)).toEqual(['2026-03-16', '2026-03-22']);
    expect(planOccurrences(berlin, d('2026-04-01'), d('2026-03-01'))).toEqual([]);
    expect(() => planOccurrences(berlin, d('2026-01-01'), d('2027-06-01'))).toThrow(/within 366 days/);
  });
});
