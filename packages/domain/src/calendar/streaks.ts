/**
 * Streaks and weeks on the person's calendar: an activity counts for the local date it happened on
 * in the time zone the person was in at that moment (their time-zone history), and consecutive
 * means consecutive calendar dates or weeks, so DST nights and moves neither break nor pad a streak.
 */
import { dayNumber, dateOfDayNumber, localDateOf, timeZoneAt, weekStartOf, type IsoWeekday, type LocalDate, type TimeZonePeriod } from './calendar';

export interface DayStreaks {
  /** Consecutive active days ending today or yesterday (today is not over yet); 0 otherwise. */
  readonly current: number;
  readonly longest: number;
  /** Distinct active local dates. */
  readonly activeDays: number;
  readonly lastActiveDate: LocalDate | undefined;
}

export interface WeekCount {
  /** First day of the week (local date). */
  readonly weekStart: LocalDate;
  readonly count: number;
}

export interface WeekStreaks {
  /** Consecutive weeks meeting the target ending with this week (once met) or last week. */
  readonly current: number;
  readonly longest: number;
  /** Activities per week, oldest first (weeks without any are absent). */
  readonly weeks: readonly WeekCount[];
}

/** The local date of every activity, each in the zone in force when it happened. */
export function activityDates(activities: readonly Date[], history: readonly TimeZonePeriod[]): LocalDate[] {
  return activities.map((at) => localDateOf(at, timeZoneAt(history, at)));
}

/** Activities that have happened by `now` (a streak never counts the future). */
function upTo(activities: readonly Date[], now: Date): Date[] {
  return activities.filter((a) => a.getTime() <= now.getTime());
}

/** Runs of consecutive integers in a sorted distinct list: [start, length] each. */
function runs(sorted: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const n of sorted) {
    const last = out.at(-1);
    if (last !== undefined && last[0] + last[1] === n) last[1] += 1;
    else out.push([n, 1]);
  }
  return out;
}

/** Day streaks as of `now` (today = the local date of `now` in the zone in force then). */
export function dayStreaks(activities: readonly Date[], history: readonly TimeZonePeriod[], now: Date): DayStreaks {
  const days = [...new Set(activityDates(upTo(activities, now), history).map(dayNumber))].sort((a, b) => a - b);
  const today = dayNumber(localDateOf(now, timeZoneAt(history, now)));
  const all = runs(days);
  const lastRun = all.at(-1);
  const current = lastRun !== undefined && lastRun[0] + lastRun[1] - 1 >= today - 1 ? lastRun[1] : 0;
  const lastDay = days.at(-1);
  return {
    current,
    longest: all.reduce((m, r) => Math.max(m, r[1]), 0),
    activeDays: days.length,
    lastActiveDate: lastDay === undefined ? undefined : dateOfDayNumber(lastDay),
  };
}

/**
 * Week streaks as of `now`: a week counts when it holds at least `perWeek` activities; weeks start
 * on `weekStart` (the locale's first day, see weekStartOfLocale).
 */
export function weekStreaks(activities: readonly Date[], history: readonly TimeZonePeriod[], now: Date, weekStart: IsoWeekday, perWeek: number): WeekStreaks {
  const counts = new Map<number, number>();
  const thisWeek = dayNumber(weekStartOf(localDateOf(now, timeZoneAt(history, now)), weekStart));
  for (const date of activityDates(upTo(activities, now), history)) {
    const week = dayNumber(weekStartOf(date, weekStart));
    counts.set(week, (counts.get(week) ?? 0) + 1);
  }
  const weeks = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([w, count]) => ({ weekStart: dateOfDayNumber(w), count }));
  // Consecutive weeks are 7 days apart: runs over week numbers.
  const met = weeks.filter((w) => w.count >= perWeek).map((w) => Math.round((dayNumber(w.weekStart) - thisWeek) / 7));
  const all = runs(met);
  const lastRun = all.at(-1);
  const current = lastRun !== undefined && lastRun[0] + lastRun[1] - 1 >= -1 ? lastRun[1] : 0;
  return { current, longest: all.reduce((m, r) => Math.max(m, r[1]), 0), weeks };
}
