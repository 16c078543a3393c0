import { isTimeZone, weekStartOfLocale, type IsoWeekday } from '../calendar/calendar';
import type { Decider } from '../decider';
import { DomainError } from '../errors';
import { jsonEqual, withoutNegativeZero } from '../json';
import { canonicalOf, METRIC_UNITS, unitsOfSystem, type UnitPreferences } from '../units/displayUnits';
import { toKg } from '../units/units';
import type { ValidationIssue } from '../validation/validator';
import type { ProfileCommand, UpdateProfile } from './commands';
import type { NotificationPreferences, ProfileEvent, ProfileUpdatedData } from './events';
import { PROFILE_LIMITS, profileUpdatedValidator, timeZoneChangedValidator } from './profileEventTypes';

/**
 * One stream per person (`profile-<subjectId>`), keyed by the caller's own subject id: nobody can
 * address another person's profile. Profile changes are rare (tens over a lifetime), so the stream
 * stays short without snapshots.
 */
export const profileStreamId = (subjectId: string): string => `profile-${subjectId}`;

/** The profile as the events left it; absent fields were never set. */
export type Profile = ProfileUpdatedData & { readonly timeZone?: string };

export type ProfileState = { readonly status: 'none' } | { readonly status: 'active'; readonly profile: Profile };

export const initialProfileState = (): ProfileState => ({ status: 'none' });

/** Until a person says otherwise: metric units, no notifications (opt-in), a profile nobody else sees. */
export const DEFAULT_UNIT_PREFERENCES: UnitPreferences = METRIC_UNITS;
export const DEFAULT_NOTIFICATION_PREFERENCES: NotificationPreferences = Object.freeze({ email: false, push: false, weeklySummary: false });
export const DEFAULT_PROFILE_VISIBILITY = 'private' as const;

/** Whole years from `birthDate` (YYYY-MM-DD) to the UTC calendar date of `now`. */
export function ageInYears(birthDate: string, now: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  const years = now.getUTCFullYear() - y;
  const beforeBirthday = now.getUTCMonth() + 1 < m || (now.getUTCMonth() + 1 === m && now.getUTCDate() < d);
  return beforeBirthday ? years - 1 : years;
}

/** The zone's canonical IANA spelling (`europe/berlin` → `Europe/Berlin`), or undefined for a zone the platform does not know. */
function canonicalTimeZone(zone: string): string | undefined {
  if (!isTimeZone(zone)) return undefined;
  return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
}

function canonicalLocale(tag: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** The client names `height` and `weight`: the canonical values are reported at the entered value they came from. */
const CLIENT_FIELD: Readonly<Record<string, string>> = { heightM: 'height.value', weightKg: 'weight.value' };

function valid(data: unknown): ProfileUpdatedData {
  const result = profileUpdatedValidator.check(data);
  if (result.ok) return result.value;
  throw DomainError.validation(
    result.issues.map((i) => {
      const field = CLIENT_FIELD[i.field] ?? i.field;
      return { ...i, field, message: field === i.field ? i.message : `${field}: ${i.message}` };
    }),
  );
}

function unitPreferencesOf(input: NonNullable<UpdateProfile['data']['unitPreferences']>, current: UnitPreferences): UnitPreferences {
  const base = input.system === undefined ? current : unitsOfSystem(input.system);
  return {
    mass: input.mass ?? base.mass,
    length: input.length ?? base.length,
    distance: input.distance ?? base.distance,
    volume: input.volume ?? base.volume,
  };
}

/**
 * The profile after the command, as the complete set of values it would write; every field is
 * checked (plausibility, a known zone and locale) and problems are named by request field.
 */
function proposed(command: UpdateProfile, current: Profile): { data: ProfileUpdatedData; timeZone: string | undefined } {
  const input = command.data;
  const { now } = command.metadata;
  const issues: ValidationIssue[] = [];

  if (input.birthDate !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(input.birthDate)) {
    const age = ageInYears(input.birthDate, now);
    if (age < PROFILE_LIMITS.ageYears.min || age > PROFILE_LIMITS.ageYears.max) {
      issues.push({ field: 'birthDate', code: 'range', message: `birthDate must give an age between ${PROFILE_LIMITS.ageYears.min} and ${PROFILE_LIMITS.ageYears.max} years` });
    }
  }
  let timeZone: string | undefined;
  if (input.timeZone !== undefined) {
    timeZone = typeof input.timeZone === 'string' && input.timeZone.length <= 64 ? canonicalTimeZone(input.timeZone) : undefined;
    if (timeZone === undefined) issues.push({ field: 'timeZone', code: 'format', message: 'timeZone must be an IANA time zone such as Europe/Berlin' });
  }
  let locale: string | undefined;
  if (input.locale !== undefined) {
    locale = typeof input.locale === 'string' ? canonicalLocale(input.locale) : undefined;
    if (locale === undefined) issues.push({ field: 'locale', code: 'format', message: 'locale must be a BCP 47 language tag such as de-DE' });
  }
  if (issues.length > 0) throw DomainError.validation(issues);

  // A chosen week start wins; otherwise a new locale brings its own (CLDR week data).
  const weekStart: number | undefined = input.weekStart ?? (locale !== undefined && locale !== current.locale ? weekStartOfLocale(locale) : undefined);
  const unitPreferences = input.unitPreferences === undefined ? undefined : unitPreferencesOf(input.unitPreferences, current.unitPreferences ?? DEFAULT_UNIT_PREFERENCES);
  const notificationPreferences =
    input.notificationPreferences === undefined ? undefined : { ...(current.notificationPreferences ?? DEFAULT_NOTIFICATION_PREFERENCES), ...input.notificationPreferences };
  const knownUnit = (units: readonly string[], unit: unknown): boolean => typeof unit === 'string' && units.includes(unit);

  const data = valid(
    Object.fromEntries(
      Object.entries({
        birthDate: input.birthDate,
        sex: input.sex,
        height: input.height,
        // Unknown units are left for validation to name.
        heightM: input.height === undefined ? undefined : knownUnit(['cm', 'in'], input.height?.unit) ? canonicalOf('length', input.height.value, input.height.unit) : Number.NaN,
        weight: input.weight,
        weightKg: input.weight === undefined ? undefined : knownUnit(['kg', 'lb'], input.weight?.unit) ? toKg(input.weight.value, input.weight.unit) : Number.NaN,
        locale,
        weekStart,
        unitPreferences,
        notificationPreferences,
        profileVisibility: input.profileVisibility,
      }).filter(([, v]) => v !== undefined),
    ),
  );
  return { data, timeZone };
}

/** Only the fields whose value differs from the current profile (preferences never set count as their defaults). */
function changes(data: ProfileUpdatedData, profile: Profile): ProfileUpdatedData {
  const current: Profile = {
    unitPreferences: DEFAULT_UNIT_PREFERENCES,
    notificationPreferences: DEFAULT_NOTIFICATION_PREFERENCES,
    profileVisibility: DEFAULT_PROFILE_VISIBILITY,
    ...profile,
  };
  const changed: Record<string, unknown> = {};
  const entries = Object.entries(data) as [keyof ProfileUpdatedData, unknown][];
  for (const [field, value] of entries) {
    // The canonical value travels with its entered value: it changes exactly when that does.
    if (field === 'heightM' || field === 'weightKg') continue;
    if (!jsonEqual(value, current[field])) changed[field] = value;
  }
  if ('height' in changed) changed['heightM'] = data.heightM;
  if ('weight' in changed) changed['weightKg'] = data.weightKg;
  return changed;
}

export function decideProfile(given: ProfileCommand, state: ProfileState): ProfileEvent[] {
  const command = { ...given, data: withoutNegativeZero(given.data) } as ProfileCommand;
  switch (command.type) {
    case 'UpdateProfile': {
      const current: Profile = state.status === 'active' ? state.profile : {};
      const { data, timeZone } = proposed(command, current);
      const changed = changes(data, current);
      const events: ProfileEvent[] = [];
      // The first update creates the profile, even when it sets nothing but the time zone.
      if (Object.keys(changed).length > 0 || state.status === 'none') events.push({ type: 'ProfileUpdated', data: changed });
      if (timeZone !== undefined && timeZone !== current.timeZone) {
        const tz = timeZoneChangedValidator.check({ timeZone, effectiveFrom: command.metadata.now.toISOString() });
        if (!tz.ok) throw DomainError.validation(tz.issues);
        events.push({ type: 'TimeZoneChanged', data: tz.value });
      }
      return events;
    }
    default: {
      const _: never = command.type;
      throw new Error(`unknown command ${JSON.stringify(_)}`);
    }
  }
}

export function evolveProfile(state: ProfileState, event: ProfileEvent): ProfileState {
  const current: Profile = state.status === 'active' ? state.profile : {};
  switch (event.type) {
    case 'ProfileUpdated':
      return { status: 'active', profile: { ...current, ...event.data } };
    case 'TimeZoneChanged':
      return { status: 'active', profile: { ...current, timeZone: event.data.timeZone } };
    default: {
      const _: never = event;
      return state;
    }
  }
}

/** Week start of a profile: the stored one, else the locale's, else Monday. */
export function weekStartOfProfile(profile: Profile): IsoWeekday {
  return profile.weekStart ?? (profile.locale === undefined ? 1 : weekStartOfLocale(profile.locale));
}

export const profileDecider: Decider<ProfileState, ProfileCommand, ProfileEvent> = {
  initialState: initialProfileState,
  evolve: evolveProfile,
  decide: decideProfile,
};
