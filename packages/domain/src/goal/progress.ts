import { addDays, dayNumber, localDateOf, timeZoneAt, weekStartOf, type IsoWeekday, type LocalDate, type TimeZonePeriod } from '../calendar/calendar';
import { dayStreaks } from '../calendar/streaks';
import type { GoalSetData } from './events';

/** What the read models say about the person, for the goal's period (more is harmless: it is filtered by local date). */
export interface GoalFacts {
  readonly weights: readonly { readonly at: Date; readonly weightKg: number }[];
  readonly sets: readonly { readonly at: Date; readonly exerciseId: string; readonly reps?: number; readonly loadKg?: number; readonly distanceM?: number; readonly warmUp: boolean }[];
  readonly completedWorkouts: readonly Date[];
  /** Active energy (kcal) of completed workouts that recorded it, at their completion. */
  readonly workoutEnergy: readonly { readonly at: Date; readonly kcal: number }[];
  /** The person's time-zone history (dates are local dates where they were). */
  readonly history: readonly TimeZonePeriod[];
  readonly weekStart: IsoWeekday;
}

export interface GoalProgress {
  /** The measure the target is about: latest weight (kg), most reps at the load, metres, kilocalories, longest streak (days), weeks that met the target. */
  readonly value: number | null;
  readonly target: number;
  readonly unit: 'kg' | 'reps' | 'm' | 'kcal' | 'days' | 'weeks';
  /** 0…1 of the way there. */
  readonly fraction: number;
  readonly achieved: boolean;
  /** Decided already: the period is over, or (workouts per week) a finished week fell short. */
  readonly missed: boolean;
}

const clamp = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/**
 * Progress of a goal from the facts as they are now: computed, never accumulated, so a corrected
 * or deleted set or measurement moves it back as readily as a new one moves it forward.
 */
export function goalProgress(goal: GoalSetData, facts: GoalFacts, now: Date): GoalProgress {
  const start = dayNumber(goal.startsOn as LocalDate);
  const end = dayNumber(goal.endsOn as LocalDate);
  const inPeriod = (at: Date): boolean => {
    if (at.getTime() > now.getTime()) return false;
    const day = dayNumber(localDateOf(at, timeZoneAt(facts.history, at)));
    return day >= start && day <= end;
  };
  const today = dayNumber(localDateOf(now, timeZoneAt(facts.history, now)));
  const over = today > end;
  const { target } = goal;
  switch (target.kind) {
    case 'weight': {
      const weights = facts.weights.filter((w) => inPeriod(w.at)).sort((a, b) => a.at.getTime() - b.at.getTime());
      const first = weights[0];
      const latest = weights.at(-1);
      const achieved = latest !== undefined && (target.direction === 'at_most' ? latest.weightKg <= target.weightKg : latest.weightKg >= target.weightKg);
      const fraction = achieved ? 1 : first === undefined || latest === undefined ? 0 : clamp((first.weightKg - latest.weightKg) / (first.weightKg - target.weightKg));
      return { value: latest?.weightKg ?? null, target: target.weightKg, unit: 'kg', fraction, achieved, missed: !achieved && over };
    }
    case 'reps_at_load': {
      let best = 0;
      for (const s of facts.sets) {
        if (s.exerciseId !== target.exerciseId || s.warmUp || s.reps === undefined || (s.loadKg ?? 0) < target.loadKg || !inPeriod(s.at)) continue;
        best = Math.max(best, s.reps);
      }
      const achieved = best >= target.reps;
      return { value: best, target: target.reps, unit: 'reps', fraction: clamp(best / target.reps), achieved, missed: !achieved && over };
    }
    case 'distance': {
      const total = facts.sets.reduce((sum, s) => (s.distanceM !== undefined && inPeriod(s.at) ? sum + s.distanceM : sum), 0);
      const achieved = total >= target.distanceM;
      return { value: total, target: target.distanceM, unit: 'm', fraction: clamp(total / target.distanceM), achieved, missed: !achieved && over };
    }
    case 'calories': {
      const total = facts.workoutEnergy.reduce((sum, w) => (inPeriod(w.at) ? sum + w.kcal : sum), 0);
      const achieved = total >= target.kcal;
      return { value: total, target: target.kcal, unit: 'kcal', fraction: clamp(total / target.kcal), achieved, missed: !achieved && over };
    }
    case 'streak': {
      const within = facts.completedWorkouts.filter(inPeriod);
      const asOf = over ? new Date(Math.min(now.getTime(), Date.UTC(1970, 0, 1) + (end + 1) * 86_400_000 - 1)) : now;
      const longest = dayStreaks(within, facts.history, asOf).longest;
      const achieved = longest >= target.days;
      return { value: longest, target: target.days, unit: 'days', fraction: clamp(longest / target.days), achieved, missed: !achieved && over };
    }
    case 'workouts_per_week': {
      // The weeks that lie wholly inside the period, on the person's week.
      const firstWeek = dayNumber(weekStartOf(addDays(goal.startsOn as LocalDate, 6), facts.weekStart));
      const weeks: number[] = [];
      for (let w = firstWeek; w + 6 <= end; w += 7) if (w >= start) weeks.push(w);
      const counts = new Map<number, number>();
      for (const at of facts.completedWorkouts) {
        if (!inPeriod(at)) continue;
        const week = dayNumber(weekStartOf(localDateOf(at, timeZoneAt(facts.history, at)), facts.weekStart));
        counts.set(week, (counts.get(week) ?? 0) + 1);
      }
      const met = weeks.filter((w) => (counts.get(w) ?? 0) >= target.perWeek).length;
      const failedFinished = weeks.some((w) => w + 6 < today && (counts.get(w) ?? 0) < target.perWeek);
      const achieved = weeks.length > 0 && met === weeks.length;
      return { value: met, target: weeks.length, unit: 'weeks', fraction: weeks.length === 0 ? 0 : met / weeks.length, achieved, missed: !achieved && (failedFinished || over || weeks.length === 0) };
    }
    default: {
      const _: never = target;
      throw new Error(`unknown goal kind ${JSON.stringify(_)}`);
    }
  }
}
