/**
 * Civil calendar arithmetic for streaks and weeks: instants become the person's local calendar
 * dates in the IANA time zone in force at that instant, and everything after that works on dates,
 * never on 24-hour periods — a day is a day whether it had 23, 24 or 25 hours (DST) and wherever
 * the person was. Uses only the platform's ICU time-zone data (Intl); no clock is read.
 */
import { DomainError } from '../errors';

/** A local calendar date, `YYYY-MM-DD` (ISO 8601 extended). */
export type LocalDate = string & { readonly __localDate: unique symbol };

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** From `from` on (inclusive), the person lives in `timeZone` — the profile's time-zone history. */
export interface TimeZonePeriod {
  readonly from: Date;
  readonly timeZone: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', calendar: 'gregory', numberingSystem: 'latn' });
    } catch {
      throw DomainError.validation([{ field: 'timeZone', code: 'format', message: 'timeZone must be an IANA time zone such as Europe/Berlin' }]);
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether `timeZone` is an IANA zone the platform knows (e.g. `Europe/Berlin`). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The calendar date on the wall clocks of `timeZone` at `instant`. */
export function localDateOf(instant: Date, timeZone: string): LocalDate {
  const parts = formatterFor(timeZone).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  // Years beyond 9999 or before 1 are not dates a workout happens on.
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}` as LocalDate;
}

/** The zone in force at `instant`: the last period starting at or before it (the first one before any). */
export function timeZoneAt(history: readonly TimeZonePeriod[], instant: Date): string {
  if (history.length === 0) throw DomainError.validation([{ field: 'timeZone', code: 'required', message: 'a time zone is needed' }]);
  let zone = (history[0] as TimeZonePeriod).timeZone;
  let from = (history[0] as TimeZonePeriod).from.getTime();
  for (const period of history) {
    const t = period.from.getTime();
    if (t <= instant.getTime() && t >= from) {
      zone = period.timeZone;
      from = t;
    }
  }
  return zone;
}

/** Days since 1970-01-01 of a local date: civil arithmetic, no time zone involved. */
export function dayNumber(date: LocalDate): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Math.round(Date.UTC(y, m - 1, d) / 86_400_000);
}

export function dateOfDayNumber(day: number): LocalDate {
  return new Date(day * 86_400_000).toISOString().slice(0, 10) as LocalDate;
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return dateOfDayNumber(dayNumber(date) + days);
}

export function isoWeekday(date: LocalDate): IsoWeekday {
  // 1970-01-01 was a Thursday (4).
  return ((((dayNumber(date) + 3) % 7) + 7) % 7) + 1 as IsoWeekday;
}

/** The first day of the week containing `date`, weeks starting on `weekStart`. */
export function weekStartOf(date: LocalDate, weekStart: IsoWeekday): LocalDate {
  const back = (isoWeekday(date) - weekStart + 7) % 7;
  return addDays(date, -back);
}

/** The locale's first day of the week (CLDR week data: Monday in de-DE, Sunday in en-US). Monday when unknown. */
export function weekStartOfLocale(locale: string): IsoWeekday {
  try {
    const l = new Intl.Locale(locale) as Intl.Locale & { weekInfo?: { firstDay: number }; getWeekInfo?: () => { firstDay: number } };
    const info = l.getWeekInfo?.() ?? l.weekInfo;
    const first = info?.firstDay;
    return first !== undefined && first >= 1 && first <= 7 ? (first as IsoWeekday) : 1;
  } catch {
    throw DomainError.validation([{ field: 'locale', code: 'format', message: 'locale must be a BCP 47 language tag such as de-DE' }]);
  }
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of `timeZone` from UTC at `instant`, in minutes (+60 for Berlin in winter). */
export function utcOffsetMinutes(instant: Date, timeZone: string): number {
  formatterFor(timeZone); // validates the zone
  let formatter = offsetFormatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormatters.set(timeZone, formatter);
  }
  const name = formatter.formatToParts(instant).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (match === null || match[1] === undefined) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

/**
 * The instant at which the wall clocks of `timeZone` show `date` `minuteOfDay` (e.g. 07:30 = 450).
 * A time skipped by a DST jump moves forward by the jump (02:30 on a spring-forward night in Berlin
 * is 03:30); a time that occurs twice (fall back) is its first occurrence.
 */
export function zonedInstant(date: LocalDate, minuteOfDay: number, timeZone: string): Date {
  const wall = dayNumber(date) * 86_400_000 + minuteOfDay * 60_000;
  // The offset just before and just after the wall time bound the candidates.
  const before = utcOffsetMinutes(new Date(wall - 86_400_000), timeZone);
  const after = utcOffsetMinutes(new Date(wall + 86_400_000), timeZone);
  const candidates = [...new Set([before, after])].map((offset) => new Date(wall - offset * 60_000));
  const exact = candidates.filter((c) => c.getTime() + utcOffsetMinutes(c, timeZone) * 60_000 === wall).sort((a, b) => a.getTime() - b.getTime());
  if (exact[0] !== undefined) return exact[0];
  // In the gap: the wall time does not exist; read it with the offset from before the jump.
  return new Date(wall - before * 60_000);
}
