import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '../../test/deciderSpecification';
import type { CommandMetadata } from '../events/envelope';
import { eventRegistry } from '../events/registry';
import type { UpdateProfile } from './commands';
import type { ProfileEvent } from './events';
import { ageInYears, profileDecider, profileStreamId, weekStartOfProfile } from './profile';

const NOW = new Date('2025-03-03T08:00:00.000Z');
const meta = (now: Date = NOW): CommandMetadata => ({ now, actor: { sub: 's-1', role: 'client' }, tenantId: 't-1', subjectId: 's-1', commandId: 'c-1', correlationId: 'r-1' });
const update = (data: UpdateProfile['data'], now: Date = NOW): UpdateProfile => ({ type: 'UpdateProfile', data, metadata: meta(now) });
const spec = deciderSpecification(profileDecider);

const created: ProfileEvent = {
  type: 'ProfileUpdated',
  data: { birthDate: '1990-04-23', sex: 'female', height: { value: 170, unit: 'cm' }, heightM: 1.7, locale: 'de-DE', weekStart: 1 },
};
const inBerlin: ProfileEvent = { type: 'TimeZoneChanged', data: { timeZone: 'Europe/Berlin', effectiveFrom: '2025-01-01T00:00:00.000Z' } };

describe('creating a profile', () => {
  it('creates the profile with the first update: entered height and weight kept, canonical SI derived, week start from the locale', () => {
    spec
      .given([])
      .when(update({ birthDate: '1988-06-14', sex: 'female', height: { value: 65, unit: 'in' }, weight: { value: 150, unit: 'lb' }, locale: 'en-US' }))
      .then([
        {
          type: 'ProfileUpdated',
          data: { birthDate: '1988-06-14', sex: 'female', height: { value: 65, unit: 'in' }, heightM: 1.651, weight: { value: 150, unit: 'lb' }, weightKg: 68.0388555, locale: 'en-US', weekStart: 7 },
        },
      ]);
  });

  it('records the time zone as TimeZoneChanged effective from the command time, in its canonical spelling', () => {
    spec.given([]).when(update({ timeZone: 'europe/berlin' })).then([
      { type: 'ProfileUpdated', data: {} },
      { type: 'TimeZoneChanged', data: { timeZone: 'Europe/Berlin', effectiveFrom: NOW.toISOString() } },
    ]);
  });

  it('creates an empty profile from an update that sets nothing (the first PUT always creates)', () => {
    spec.given([]).when(update({})).then([{ type: 'ProfileUpdated', data: {} }]);
  });

  it('names the stream after the subject', () => {
    expect(profileStreamId('0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61')).toBe('profile-0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61');
  });
});

describe('updating a profile', () => {
  it('records only the fields that changed', () => {
    spec.given([created]).when(update({ sex: 'female', weight: { value: 62, unit: 'kg' }, locale: 'de-DE' })).then([
      { type: 'ProfileUpdated', data: { weight: { value: 62, unit: 'kg' }, weightKg: 62 } },
    ]);
  });

  it('records nothing when nothing changes', () => {
    spec.given([created, inBerlin]).when(update({ birthDate: '1990-04-23', height: { value: 170, unit: 'cm' }, timeZone: 'Europe/Berlin', locale: 'de-de' })).thenNothingHappens();
    spec.given([created]).when(update({})).thenNothingHappens();
  });

  it('records a height entered in another unit as a change of the entered value', () => {
    spec.given([created]).when(update({ height: { value: 67, unit: 'in' } })).then([{ type: 'ProfileUpdated', data: { height: { value: 67, unit: 'in' }, heightM: 1.7018 } }]);
  });

  it('emits TimeZoneChanged only when the zone changes, so the log holds the time-zone history', () => {
    const later = new Date('2025-06-01T12:00:00.000Z');
    spec.given([created, inBerlin]).when(update({ timeZone: 'America/New_York' }, later)).then([
      { type: 'TimeZoneChanged', data: { timeZone: 'America/New_York', effectiveFrom: later.toISOString() } },
    ]);
    spec.given([created, inBerlin]).when(update({ timeZone: 'Europe/Berlin', sex: 'intersex' })).then([{ type: 'ProfileUpdated', data: { sex: 'intersex' } }]);
  });

  it('derives the week start from a new locale unless one is given; a chosen week start stands', () => {
    spec.given([created]).when(update({ locale: 'en-US' })).then([{ type: 'ProfileUpdated', data: { locale: 'en-US', weekStart: 7 } }]);
    spec.given([created]).when(update({ locale: 'en-US', weekStart: 1 })).then([{ type: 'ProfileUpdated', data: { locale: 'en-US' } }]);
    spec.given([created]).when(update({ weekStart: 6 })).then([{ type: 'ProfileUpdated', data: { weekStart: 6 } }]);
  });

  it('sets all four units with the system shortcut; a named quantity overrides it; a partial change keeps the others', () => {
    spec.given([created]).when(update({ unitPreferences: { system: 'imperial' } })).then([
      { type: 'ProfileUpdated', data: { unitPreferences: { mass: 'lb', length: 'in', distance: 'mi', volume: 'fl_oz' } } },
    ]);
    spec.given([created]).when(update({ unitPreferences: { system: 'imperial', volume: 'ml' } })).then([
      { type: 'ProfileUpdated', data: { unitPreferences: { mass: 'lb', length: 'in', distance: 'mi', volume: 'ml' } } },
    ]);
    const imperial: ProfileEvent = { type: 'ProfileUpdated', data: { unitPreferences: { mass: 'lb', length: 'in', distance: 'mi', volume: 'fl_oz' } } };
    spec.given([created, imperial]).when(update({ unitPreferences: { distance: 'km' } })).then([
      { type: 'ProfileUpdated', data: { unitPreferences: { mass: 'lb', length: 'in', distance: 'km', volume: 'fl_oz' } } },
    ]);
    spec.given([created]).when(update({ unitPreferences: { mass: 'kg' } })).thenNothingHappens();
  });

  it('merges notification preferences into the current ones (all off until chosen)', () => {
    spec.given([created]).when(update({ notificationPreferences: { weeklySummary: true } })).then([
      { type: 'ProfileUpdated', data: { notificationPreferences: { email: false, push: false, weeklySummary: true } } },
    ]);
    spec.given([created]).when(update({ notificationPreferences: { email: false } })).thenNothingHappens();
    spec.given([created]).when(update({ profileVisibility: 'organisation' })).then([{ type: 'ProfileUpdated', data: { profileVisibility: 'organisation' } }]);
  });
});

describe('profile rules', () => {
  it.each([
    [{ birthDate: '2021-03-04' }, 'birthDate'], // 4 years old
    [{ birthDate: '1904-03-02' }, 'birthDate'], // 121 years old
    [{ birthDate: '2030-01-01' }, 'birthDate'], // not born yet
    [{ birthDate: '2001-02-29' }, 'birthDate'], // no such date
    [{ birthDate: '14.06.1988' }, 'birthDate'],
    [{ sex: 'other' }, 'sex'],
    [{ height: { value: 300, unit: 'cm' } }, 'height.value'],
    [{ height: { value: 12, unit: 'in' } }, 'height.value'],
    [{ height: { value: 6, unit: 'ft' } }, 'height.unit'],
    [{ weight: { value: 1_500, unit: 'lb' } }, 'weight.value'],
    [{ weight: { value: 0.5, unit: 'kg' } }, 'weight.value'],
    [{ weight: { value: -70, unit: 'kg' } }, 'weight.value'],
    [{ timeZone: 'Mars/Olympus_Mons' }, 'timeZone'],
    [{ timeZone: '+01:00' }, 'timeZone'],
    [{ timeZone: '' }, 'timeZone'],
    [{ locale: 'en_US' }, 'locale'],
    [{ locale: 'not a locale' }, 'locale'],
    [{ weekStart: 0 }, 'weekStart'],
    [{ weekStart: 8 }, 'weekStart'],
    [{ weekStart: 1.5 }, 'weekStart'],
    [{ unitPreferences: { mass: 'stone' } }, 'unitPreferences.mass'],
    [{ notificationPreferences: { email: 'yes' } }, 'notificationPreferences.email'],
    [{ profileVisibility: 'public' }, 'profileVisibility'],
  ])('refuses %j naming %s, and records nothing', (data, field) => {
    spec.given([created]).when(update(data as UpdateProfile['data'])).thenThrows('VALIDATION_FAILED', field);
    spec.given([]).when(update(data as UpdateProfile['data'])).thenThrows('VALIDATION_FAILED', field);
  });

  it('accepts the age limits themselves: 5 and 120 years on the day', () => {
    spec.given([created]).when(update({ birthDate: '2020-03-03' })).then([{ type: 'ProfileUpdated', data: { birthDate: '2020-03-03' } }]);
    spec.given([created]).when(update({ birthDate: '1905-03-03' })).then([{ type: 'ProfileUpdated', data: { birthDate: '1905-03-03' } }]);
    expect(ageInYears('2020-03-04', NOW)).toBe(4);
    expect(ageInYears('2020-03-03', NOW)).toBe(5);
  });

  it('never echoes the refused value in the error (PHI)', () => {
    const error = spec.given([]).when(update({ weight: { value: 1_234.5, unit: 'lb' }, birthDate: '1850-01-01' })).thenThrows('VALIDATION_FAILED', 'birthDate');
    expect(error.message).not.toMatch(/1234|1850/);
  });

  it('writes only events the registry accepts', () => {
    const events = profileDecider.decide(update({ birthDate: '1988-06-14', height: { value: 180, unit: 'cm' }, weight: { value: 80, unit: 'kg' }, timeZone: 'Asia/Tokyo', locale: 'ja-JP', unitPreferences: { system: 'metric' } }), profileDecider.initialState());
    for (const event of events) expect(eventRegistry.validate(event.type, event.data)).toMatchObject({ ok: true });
  });

  it('gives the week start of a profile: the stored one, else the locale’s, else Monday', () => {
    expect(weekStartOfProfile({ weekStart: 3 })).toBe(3);
    expect(weekStartOfProfile({ locale: 'en-US' })).toBe(7);
    expect(weekStartOfProfile({})).toBe(1);
  });
});
