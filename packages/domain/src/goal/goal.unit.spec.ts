import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../../test/deciderSpecification';
import { zonedInstant, type LocalDate, type TimeZonePeriod } from '../calendar/calendar';
import type { CommandMetadata } from '../events/envelope';
import type { GoalCommand } from './commands';
import type { GoalEvent, GoalSetData } from './events';
import { goalDecider } from './goal';
import { goalProgress, type GoalFacts } from './progress';

const G = '0190f3d0-3333-7444-8555-666677778888';
const SQUAT = '0189c0de-1111-7222-8333-444455556666';
const NOW = new Date('2026-03-10T08:00:00.000Z');
const meta = (now = NOW): CommandMetadata => ({ now, actor: { sub: 'u-1', role: 'client' }, tenantId: 't-1', subjectId: 's-1', commandId: 'c-1', correlationId: 'r-1' });
const cmd = <C extends GoalCommand>(type: C['type'], data: C['data']): C => ({ type, data, metadata: meta() }) as C;
const spec = deciderSpecification(goalDecider);
const squatGoal: GoalSetData = { goalId: G, target: { kind: 'reps_at_load', exerciseId: SQUAT, reps: 5, loadKg: 100 }, startsOn: '2026-03-02', endsOn: '2026-03-29' };
const set: GoalEvent = { type: 'GoalSet', data: squatGoal };

describe('goal decider', () => {
  it('sets a goal once; a retry with the same goal records nothing; another under the same id is refused', () => {
    spec.given([]).when(cmd('SetGoal', { goalId: G, target: squatGoal.target, startsOn: squatGoal.startsOn, endsOn: squatGoal.endsOn })).then([set]);
    spec.given([set]).when(cmd('SetGoal', { goalId: G, target: squatGoal.target, startsOn: squatGoal.startsOn, endsOn: squatGoal.endsOn })).thenNothingHappens();
    spec.given([set]).when(cmd('SetGoal', { goalId: G, target: { kind: 'streak', days: 7 }, startsOn: squatGoal.startsOn, endsOn: squatGoal.endsOn })).thenThrows('GOAL_ALREADY_EXISTS', 'goalId');
  });

  it('validates the target by kind and the period, naming the field', () => {
    const base = { goalId: G, startsOn: '2026-03-02', endsOn: '2026-03-29' };
    spec.given([]).when(cmd('SetGoal', { ...base, target: { kind: 'weight', weightKg: 5, direction: 'at_most' } })).thenThrows('VALIDATION_FAILED', 'target.weightKg');
    spec.given([]).when(cmd('SetGoal', { ...base, target: { kind: 'steps' } as never })).thenThrows('VALIDATION_FAILED', 'target.kind');
    spec.given([]).when(cmd('SetGoal', { ...base, target: { kind: 'calories', kcal: 0 } })).thenThrows('VALIDATION_FAILED', 'target.kcal');
    spec.given([]).when(cmd('SetGoal', { ...base, target: { kind: 'streak', days: 7, perWeek: 3 } as never })).thenThrows('VALIDATION_FAILED', 'target.perWeek');
    spec.given([]).when(cmd('SetGoal', { ...base, endsOn: '2026-03-01', target: { kind: 'streak', days: 7 } })).thenThrows('VALIDATION_FAILED', 'endsOn');
    spec.given([]).when(cmd('SetGoal', { ...base, endsOn: '2029-03-01', target: { kind: 'streak', days: 7 } })).thenThrows('VALIDATION_FAILED', 'endsOn');
  });

  it('is decided exactly once: achieved or missed, and then final', () => {
    const achieved: GoalEvent = { type: 'GoalAchieved', data: { goalId: G, achievedAt: NOW.toISOString(), value: 6 } };
    spec.given([set]).when(cmd('RecordGoalOutcome', { goalId: G, outcome: 'achieved', value: 6 })).then([achieved]);
    spec.given([set, achieved]).when(cmd('RecordGoalOutcome', { goalId: G, outcome: 'missed', value: 0 })).thenNothingHappens();
    spec.given([set, achieved]).when(cmd('CancelGoal', { goalId: G })).thenThrows('GOAL_DECIDED', 'goalId');
    spec.given([set]).when(cmd('CancelGoal', { goalId: G })).then([{ type: 'GoalCancelled', data: { goalId: G } }]);
    spec.given([set, { type: 'GoalCancelled', data: { goalId: G } }]).when(cmd('RecordGoalOutcome', { goalId: G, outcome: 'achieved', value: 6 })).thenNothingHappens();
  });
});

describe('goal progress from the facts as they are', () => {
  const berlin: TimeZonePeriod[] = [{ from: new Date(0), timeZone: 'Europe/Berlin' }];
  const at = (date: string, hhmm: string): Date => {
    const [h, m] = hhmm.split(':').map(Number) as [number, number];
    return zonedInstant(date as LocalDate, h * 60 + m, 'Europe/Berlin');
  };
  const facts = (over: Partial<GoalFacts>): GoalFacts => ({ weights: [], sets: [], completedWorkouts: [], workoutEnergy: [], history: berlin, weekStart: 1, ...over });

  it('reps at a load: the best working set in the period; a corrected set moves it back', () => {
    const sets = [
      { at: at('2026-03-03', '07:00'), exerciseId: SQUAT, reps: 4, loadKg: 100, warmUp: false },
      { at: at('2026-03-05', '07:00'), exerciseId: SQUAT, reps: 6, loadKg: 100, warmUp: false },
      { at: at('2026-03-05', '07:10'), exerciseId: SQUAT, reps: 9, loadKg: 100, warmUp: true },
      { at: at('2026-03-01', '23:30'), exerciseId: SQUAT, reps: 8, loadKg: 120, warmUp: false }, // before the period (local date)
    ];
    expect(goalProgress(squatGoal, facts({ sets }), NOW)).toMatchObject({ value: 6, achieved: true, fraction: 1 });
    const corrected = sets.map((s) => (s.reps === 6 ? { ...s, reps: 3 } : s));
    expect(goalProgress(squatGoal, facts({ sets: corrected }), NOW)).toMatchObject({ value: 4, achieved: false, missed: false, fraction: 0.8 });
    expect(goalProgress(squatGoal, facts({ sets: corrected }), new Date('2026-03-30T08:00:00Z'))).toMatchObject({ achieved: false, missed: true });
  });

  it('weight: the latest weigh-in against the target, in the right direction', () => {
    const goal: GoalSetData = { goalId: G, target: { kind: 'weight', weightKg: 80, direction: 'at_most' }, startsOn: '2026-03-01', endsOn: '2026-04-30' };
    const weights = [
      { at: at('2026-03-02', '07:00'), weightKg: 84 },
      { at: at('2026-03-09', '07:00'), weightKg: 82 },
    ];
    expect(goalProgress(goal, facts({ weights }), NOW)).toMatchObject({ value: 82, achieved: false, fraction: 0.5 });
    expect(goalProgress(goal, facts({ weights: [...weights, { at: at('2026-03-10', '06:00'), weightKg: 79.9 }] }), NOW)).toMatchObject({ value: 79.9, achieved: true });
  });

  it('distance and streaks count only the period, on local dates', () => {
    const distance: GoalSetData = { goalId: G, target: { kind: 'distance', distanceM: 10_000 }, startsOn: '2026-03-02', endsOn: '2026-03-08' };
    const runs = [
      { at: at('2026-03-02', '00:15'), exerciseId: SQUAT, distanceM: 6_000, warmUp: false },
      { at: at('2026-03-08', '23:45'), exerciseId: SQUAT, distanceM: 4_000, warmUp: false },
      { at: at('2026-03-09', '00:15'), exerciseId: SQUAT, distanceM: 5_000, warmUp: false },
    ];
    expect(goalProgress(distance, facts({ sets: runs }), NOW)).toMatchObject({ value: 10_000, achieved: true });
    const streak: GoalSetData = { goalId: G, target: { kind: 'streak', days: 3 }, startsOn: '2026-03-02', endsOn: '2026-03-31' };
    const days = [at('2026-03-04', '23:30'), at('2026-03-05', '23:30'), at('2026-03-07', '06:00')];
    expect(goalProgress(streak, facts({ completedWorkouts: days }), NOW)).toMatchObject({ value: 2, achieved: false });
    expect(goalProgress(streak, facts({ completedWorkouts: [...days, at('2026-03-06', '12:00')] }), NOW)).toMatchObject({ value: 4, achieved: true });
  });

  it('calories: active energy of the workouts completed in the period (local dates), missed once the period is over', () => {
    const goal: GoalSetData = { goalId: G, target: { kind: 'calories', kcal: 1_500 }, startsOn: '2026-03-02', endsOn: '2026-03-08' };
    const burned = [
      { at: at('2026-03-01', '23:50'), kcal: 900 }, // the evening before, in Berlin
      { at: at('2026-03-02', '00:10'), kcal: 600 },
      { at: at('2026-03-05', '18:00'), kcal: 700.5 },
    ];
    expect(goalProgress(goal, facts({ workoutEnergy: burned }), new Date('2026-03-07T12:00:00Z'))).toMatchObject({ value: 1_300.5, unit: 'kcal', achieved: false, missed: false });
    expect(goalProgress(goal, facts({ workoutEnergy: burned }), new Date('2026-03-09T12:00:00Z'))).toMatchObject({ achieved: false, missed: true });
    const more = [...burned, { at: at('2026-03-08', '23:30'), kcal: 200 }];
    expect(goalProgress(goal, facts({ workoutEnergy: more }), new Date('2026-03-09T12:00:00Z'))).toMatchObject({ value: 1_500.5, achieved: true, fraction: 1 });
  });

  it('workouts per week: every whole week of the period must reach the count; a finished short week decides it missed', () => {
    const goal: GoalSetData = { goalId: G, target: { kind: 'workouts_per_week', perWeek: 2 }, startsOn: '2026-03-01', endsOn: '2026-03-22' };
    // Whole Monday weeks inside 1–22 March: 2–8, 9–15, 16–22.
    const twoAWeek = ['2026-03-03', '2026-03-05', '2026-03-10', '2026-03-12', '2026-03-17', '2026-03-19'].map((d) => at(d, '18:00'));
    expect(goalProgress(goal, facts({ completedWorkouts: twoAWeek }), new Date('2026-03-23T08:00:00Z'))).toMatchObject({ value: 3, target: 3, achieved: true });
    const shortSecond = twoAWeek.filter((_, i) => i !== 3);
    expect(goalProgress(goal, facts({ completedWorkouts: shortSecond }), new Date('2026-03-16T12:00:00Z'))).toMatchObject({ value: 1, achieved: false, missed: true });
    expect(goalProgress(goal, facts({ completedWorkouts: twoAWeek.slice(0, 3) }), new Date('2026-03-11T12:00:00Z'))).toMatchObject({ achieved: false, missed: false });
  });
});
