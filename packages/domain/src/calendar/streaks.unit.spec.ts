import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors';
import { addDays, isoWeekday, localDateOf, utcOffsetMinutes, weekStartOf, weekStartOfLocale, zonedInstant, type LocalDate, type TimeZonePeriod } from './calendar';
import { dayStreaks, weekStreaks } from './streaks';

const d = (s: string): LocalDate => s as LocalDate;
const at = (date: string, hhmm: string, zone: string): Date => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return zonedInstant(d(date), h * 60 + m, zone);
};
const living = (timeZone: string): TimeZonePeriod[] => [{ from: new Date(0), timeZone }];
const daily = (from: string, days: number, hhmm: string, zone: string): Date[] => Array.from({ length: days }, (_, i) => at(addDays(d(from), i), hhmm, zone));

describe('local dates and wall-clock instants', () => {
  it('reads the offset before and after the DST switches', () => {
    expect(utcOffsetMinutes(new Date('2025-03-30T00:59:00Z'), 'Europe/Berlin')).toBe(60);
    expect(utcOffsetMinutes(new Date('2025-03-30T01:00:00Z'), 'Europe/Berlin')).toBe(120);
    expect(utcOffsetMinutes(new Date('2025-11-02T05:59:00Z'), 'America/New_York')).toBe(-240);
    expect(utcOffsetMinutes(new Date('2025-11-02T06:00:00Z'), 'America/New_York')).toBe(-300);
  });

  it('moves a wall time skipped by spring-forward to after the jump, and takes the first of a doubled one', () => {
    expect(at('2025-03-30', '02:30', 'Europe/Berlin').toISOString()).toBe('2025-03-30T01:30:00.000Z'); // 03:30 CEST
    expect(at('2025-10-26', '02:30', 'Europe/Berlin').toISOString()).toBe('2025-10-26T00:30:00.000Z'); // first 02:30 (CEST)
    expect(at('2025-03-09', '02:30', 'America/New_York').toISOString()).toBe('2025-03-09T07:30:00.000Z'); // 03:30 EDT
    expect(at('2025-11-02', '01:30', 'America/New_York').toISOString()).toBe('2025-11-02T05:30:00.000Z'); // first 01:30 (EDT)
  });

  it('round-trips wall time → instant → local date in any zone and on any day (property)', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham', 'UTC', 'America/Santiago'];
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: 0, max: 3_650 }), fc.integer({ min: 0, max: 1_439 }), (zone, day, minute) => {
        const date = addDays(d('2020-01-01'), day);
        expect(localDateOf(zonedInstant(date, minute, zone), zone)).toBe(date);
      }),
    );
  });

  it('refuses an unknown time zone and locale naming the field', () => {
    expect(() => localDateOf(new Date(), 'Mars/Olympus_Mons')).toThrow(DomainError);
    try {
      localDateOf(new Date(), 'Mars/Olympus_Mons');
    } catch (error) {
      expect((error as DomainError).field).toBe('timeZone');
    }
    try {
      weekStartOfLocale('not a locale!');
      expect.unreachable();
    } catch (error) {
      expect((error as DomainError).field).toBe('locale');
    }
  });

  it('takes the first day of the week from the locale', () => {
    expect(weekStartOfLocale('de-DE')).toBe(1);
    expect(weekStartOfLocale('en-US')).toBe(7);
    expect(weekStartOfLocale('ar-EG')).toBe(6);
    expect(isoWeekday(d('2025-03-09'))).toBe(7);
    expect(weekStartOf(d('2025-03-09'), 1)).toBe('2025-03-03');
    expect(weekStartOf(d('2025-03-09'), 7)).toBe('2025-03-09');
  });
});

describe('day streaks across DST nights', () => {
  // Every day just after midnight and just before midnight: the hours a naive UTC or 24-hour rule gets wrong.
  for (const { zone, spring, fall } of [
    { zone: 'Europe/Berlin', spring: '2025-03-30', fall: '2025-10-26' },
    { zone: 'America/New_York', spring: '2025-03-09', fall: '2025-11-02' },
  ]) {
    for (const hhmm of ['00:15', '02:30', '23:45']) {
      it(`counts one day per night through spring-forward and fall-back in ${zone} at ${hhmm}`, () => {
        for (const night of [spring, fall]) {
          const from = addDays(d(night), -5);
          const activities = daily(from, 11, hhmm, zone);
          const streaks = dayStreaks(activities, living(zone), at(addDays(from, 10), '23:59', zone));
          expect(streaks).toEqual({ current: 11, longest: 11, activeDays: 11, lastActiveDate: addDays(from, 10) });
        }
      });
    }

    it(`counts the doubled hour of the fall-back night in ${zone} once, and breaks on a missed day`, () => {
      const before = daily(addDays(d(fall), -3), 3, '20:00', zone);
      const doubled = [at(fall, '01:30', zone), new Date(at(fall, '01:30', zone).getTime() + 3_600_000)]; // 01:30 twice
      expect(localDateOf(doubled[1] as Date, zone)).toBe(fall);
      const s = dayStreaks([...before, ...doubled], living(zone), at(fall, '22:00', zone));
      expect(s).toMatchObject({ current: 4, longest: 4, activeDays: 4 });

      const gap = dayStreaks([...before, ...daily(addDays(d(fall), 1), 2, '20:00', zone)], living(zone), at(addDays(d(fall), 2), '22:00', zone));
      expect(gap).toMatchObject({ current: 2, longest: 3, activeDays: 5 });
    });
  }

  it('keeps today’s streak alive until the day is over, and ends it after a whole missed day', () => {
    const zone = 'Europe/Berlin';
    const acts = daily('2025-06-01', 5, '07:00', zone); // 1–5 June
    expect(dayStreaks(acts, living(zone), at('2025-06-06', '21:00', zone)).current).toBe(5); // 6 June not over
    expect(dayStreaks(acts, living(zone), at('2025-06-07', '00:30', zone)).current).toBe(0);
    // Activities after `now` do not count yet.
    expect(dayStreaks(acts, living(zone), at('2025-06-03', '06:00', zone))).toMatchObject({ current: 2, activeDays: 2 });
  });

  it('a random daily routine across a year of DST switches is one unbroken streak (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Europe/Berlin', 'America/New_York', 'Australia/Sydney'),
        fc.integer({ min: 0, max: 365 }),
        fc.array(fc.integer({ min: 0, max: 1_439 }), { minLength: 2, maxLength: 60 }),
        fc.nat(),
        (zone, offset, minutes, missedSeed) => {
          const from = addDays(d('2025-01-01'), offset);
          const acts = minutes.map((m, i) => zonedInstant(addDays(from, i), m, zone));
          const end = at(addDays(from, minutes.length - 1), '23:59', zone);
          expect(dayStreaks(acts, living(zone), end)).toMatchObject({ current: minutes.length, longest: minutes.length });
          // Missing one day in between splits it in two.
          const missed = 1 + (missedSeed % Math.max(1, minutes.length - 2));
          if (missed < minutes.length - 1) {
            const s = dayStreaks(acts.filter((_, i) => i !== missed), living(zone), end);
            expect(s.longest).toBe(Math.max(missed, minutes.length - missed - 1));
            expect(s.current).toBe(minutes.length - missed - 1);
          }
        },
      ),
    );
  });
});

describe('day streaks of a person who moves', () => {
  it('dates each activity in the zone the person was in, not where they live now', () => {
    const move = new Date('2025-05-13T06:00:00Z'); // flies Berlin → New York on Tuesday morning
    const history: TimeZonePeriod[] = [
      { from: new Date(0), timeZone: 'Europe/Berlin' },
      { from: move, timeZone: 'America/New_York' },
    ];
    const acts = [
      at('2025-05-11', '23:30', 'Europe/Berlin'), // Sunday late in Berlin (17:30 Sunday in New York)
      at('2025-05-12', '00:30', 'Europe/Berlin'), // Monday just after midnight in Berlin (Sunday 18:30 in New York)
      at('2025-05-13', '21:00', 'America/New_York'), // Tuesday evening in New York
      at('2025-05-14', '21:00', 'America/New_York'),
    ];
    const now = at('2025-05-14', '22:00', 'America/New_York');
    expect(dayStreaks(acts, history, now)).toEqual({ current: 4, longest: 4, activeDays: 4, lastActiveDate: '2025-05-14' });
    // Read with today's zone alone, Sunday and Monday in Berlin would both be Sunday in New York: a gap on Monday.
    expect(dayStreaks(acts, living('America/New_York'), now)).toMatchObject({ current: 2, activeDays: 3 });
  });

  it('does not invent a day when moving east skips one on the wall clock', () => {
    const history: TimeZonePeriod[] = [
      { from: new Date(0), timeZone: 'America/Los_Angeles' },
      { from: new Date('2025-07-02T12:00:00Z'), timeZone: 'Asia/Tokyo' },
    ];
    // Tuesday 1 July in LA, then Thursday 3 July in Tokyo: Wednesday had no activity on anyone's calendar.
    const acts = [at('2025-07-01', '20:00', 'America/Los_Angeles'), at('2025-07-03', '21:00', 'Asia/Tokyo')];
    expect(dayStreaks(acts, history, at('2025-07-03', '22:00', 'Asia/Tokyo'))).toMatchObject({ current: 1, longest: 1, activeDays: 2 });
  });
});

describe('week streaks', () => {
  it('groups activities into the locale’s weeks', () => {
    const zone = 'America/New_York';
    // Sunday 9 March (the spring-forward day) and Monday 10 March.
    const acts = [at('2025-03-09', '09:00', zone), at('2025-03-10', '09:00', zone)];
    const now = at('2025-03-12', '12:00', zone);
    expect(weekStreaks(acts, living(zone), now, weekStartOfLocale('en-US'), 2).weeks).toEqual([{ weekStart: '2025-03-09', count: 2 }]);
    expect(weekStreaks(acts, living(zone), now, weekStartOfLocale('de-DE'), 2).weeks).toEqual([
      { weekStart: '2025-03-03', count: 1 },
      { weekStart: '2025-03-10', count: 1 },
    ]);
  });

  it('counts consecutive weeks meeting the target; this week counts once met and does not break the streak before it ends', () => {
    const zone = 'Europe/Berlin';
    const threePerWeek = (monday: string): Date[] => [0, 2, 4].map((i) => at(addDays(d(monday), i), '18:00', zone));
    const acts = [...threePerWeek('2025-03-17'), ...threePerWeek('2025-03-24'), ...threePerWeek('2025-03-31'), at('2025-04-07', '18:00', zone)];
    const midWeek = at('2025-04-09', '12:00', zone);
    expect(weekStreaks(acts, living(zone), midWeek, 1, 3)).toMatchObject({ current: 3, longest: 3 });
    // Across the spring-forward Sunday (30 March) the weeks stay whole.
    const metThisWeek = [...acts, at('2025-04-08', '18:00', zone), at('2025-04-09', '08:00', zone)];
    expect(weekStreaks(metThisWeek, living(zone), midWeek, 1, 3)).toMatchObject({ current: 4, longest: 4 });
    // A week later without any: the streak is over, the record stays.
    expect(weekStreaks(acts, living(zone), at('2025-04-15', '12:00', zone), 1, 3)).toMatchObject({ current: 0, longest: 3 });
  });
});
