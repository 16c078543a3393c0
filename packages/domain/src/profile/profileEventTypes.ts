import { defineEventType, type EventTypeDefinition } from '../events/eventRegistry';
import {
  PREFERRED_DISTANCE_UNITS,
  PREFERRED_LENGTH_UNITS,
  PREFERRED_MASS_UNITS,
  PREFERRED_VOLUME_UNITS,
} from '../units/displayUnits';
import { MASS_UNITS } from '../units/units';
import { boolean, isoDateTime, number, object, oneOf, optional, string, type ObjectValidator, type ValidationIssue, type Validator } from '../validation/validator';
import { HEIGHT_UNITS, PROFILE_VISIBILITIES, SEXES, type ProfileEventType, type ProfileUpdatedData, type TimeZoneChangedData } from './events';

/**
 * Plausibility of profile values, on the canonical value (so 9 ft is refused like 274 cm). Wide
 * enough for every real person from the age of five, narrow enough to catch a unit mix-up.
 * Loosening is free; tightening needs a new schema version.
 */
export const PROFILE_LIMITS = {
  heightM: { min: 0.5, max: 2.6 },
  weightKg: { min: 1, max: 650 },
  /** Age in whole years at the time of the update. */
  ageYears: { min: 5, max: 120 },
  weekStart: { min: 1, max: 7 },
} as const;

const L = PROFILE_LIMITS;

/** A calendar date `YYYY-MM-DD` that exists (no 2025-02-30). */
export function localDateString(): Validator<string> {
  return {
    check(value, path = '') {
      const field = path === '' ? '(root)' : path;
      if (typeof value !== 'string') return { ok: false, issues: [{ field, code: 'type', message: `${field} must be a date string` }] };
      const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
      const [y, m, d] = match === null ? [] : [Number(match[1]), Number(match[2]), Number(match[3])];
      const valid = y !== undefined && m !== undefined && d !== undefined && new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10) === value;
      return valid ? { ok: true, value } : { ok: false, issues: [{ field, code: 'format', message: `${field} must be a calendar date like 1990-04-23` }] };
    },
  };
}

/** An IANA zone name's shape (`Europe/Berlin`, `UTC`, `Etc/GMT+5`); that the zone exists is the decider's check. */
export const TIME_ZONE_PATTERN = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+){0,2}$/;
const timeZone = string({ min: 1, max: 64, pattern: TIME_ZONE_PATTERN, patternName: 'an IANA time zone such as Europe/Berlin' });
/** BCP 47 language tags are at most 35 characters in practice (RFC 5646 §4.4.1). */
const locale = string({ min: 2, max: 35, pattern: /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/, patternName: 'a BCP 47 language tag such as de-DE' });
const entered = <U extends string>(units: readonly U[]) => object({ value: number({ min: 0 }), unit: oneOf(units) });

function pairs(data: { height?: unknown; heightM?: unknown; weight?: unknown; weightKg?: unknown }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if ((data.height === undefined) !== (data.heightM === undefined)) issues.push({ field: 'heightM', code: 'inconsistent', message: 'height and heightM go together' });
  if ((data.weight === undefined) !== (data.weightKg === undefined)) issues.push({ field: 'weightKg', code: 'inconsistent', message: 'weight and weightKg go together' });
  return issues;
}

export const profileUpdatedValidator: ObjectValidator<ProfileUpdatedData> = object(
  {
    birthDate: optional(localDateString()),
    sex: optional(oneOf(SEXES)),
    height: optional(entered(HEIGHT_UNITS)),
    heightM: optional(number({ min: L.heightM.min, max: L.heightM.max, unit: 'm' })),
    weight: optional(entered(MASS_UNITS)),
    weightKg: optional(number({ min: L.weightKg.min, max: L.weightKg.max, unit: 'kg' })),
    locale: optional(locale),
    weekStart: optional(number({ min: L.weekStart.min, max: L.weekStart.max, integer: true })),
    unitPreferences: optional(
      object({ mass: oneOf(PREFERRED_MASS_UNITS), length: oneOf(PREFERRED_LENGTH_UNITS), distance: oneOf(PREFERRED_DISTANCE_UNITS), volume: oneOf(PREFERRED_VOLUME_UNITS) }),
    ),
    notificationPreferences: optional(object({ email: boolean(), push: boolean(), weeklySummary: boolean() })),
    profileVisibility: optional(oneOf(PROFILE_VISIBILITIES)),
  },
  pairs,
) as ObjectValidator<ProfileUpdatedData>;

export const timeZoneChangedValidator: ObjectValidator<TimeZoneChangedData> = object({ timeZone, effectiveFrom: isoDateTime() });

/**
 * Profile events, schema version 1. Everything in them is about the person (a birth date, a home
 * time zone, even a unit preference hints at where they live), so no field is stored in clear: the
 * stream id and the metadata carry the subject id.
 */
export const profileEventTypes = [
  defineEventType({ type: 'ProfileUpdated', schemaVersion: 1, plainFields: [], validator: profileUpdatedValidator, upcasters: {} }),
  defineEventType({ type: 'TimeZoneChanged', schemaVersion: 1, plainFields: [], validator: timeZoneChangedValidator, upcasters: {} }),
] as const satisfies readonly EventTypeDefinition<ProfileEventType, unknown>[];
