import { displayLength, displayMass, type Displayed, type UnitPreferences } from '@fitledger/domain';

/** A person's profile as GET /profile shows it (from `rm_profiles` and `rm_profile_time_zones`). */
export interface ProfileRepresentation {
  readonly birthDate: string | null;
  readonly sex: string | null;
  readonly height: { readonly display: Displayed; readonly heightM: number; readonly entered: Displayed } | null;
  readonly weight: { readonly display: Displayed; readonly weightKg: number; readonly entered: Displayed } | null;
  readonly timeZone: string | null;
  /** Every time-zone change, oldest first: streaks and weeks are counted in the zone in force at each instant. */
  readonly timeZoneHistory: readonly { readonly timeZone: string; readonly effectiveFrom: string }[];
  readonly locale: string | null;
  /** ISO weekday the person's weeks start on (1 = Monday … 7 = Sunday). */
  readonly weekStart: number;
  readonly unitPreferences: UnitPreferences;
  readonly notificationPreferences: { readonly email: boolean; readonly push: boolean; readonly weeklySummary: boolean };
  readonly profileVisibility: string;
  readonly revision: number;
}

export interface ProfileRow {
  readonly birth_date: string | null;
  readonly sex: string | null;
  readonly height_m: number | null;
  readonly height_value: number | null;
  readonly height_unit: string | null;
  readonly weight_kg: number | null;
  readonly weight_value: number | null;
  readonly weight_unit: string | null;
  readonly time_zone: string | null;
  readonly locale: string | null;
  readonly week_start: number | null;
  readonly mass_unit: string;
  readonly length_unit: string;
  readonly distance_unit: string;
  readonly volume_unit: string;
  readonly notify_email: boolean;
  readonly notify_push: boolean;
  readonly notify_weekly_summary: boolean;
  readonly profile_visibility: string;
  readonly revision: string | number;
}

export function profile(row: ProfileRow, history: readonly { time_zone: string; effective_from: Date | string }[]): ProfileRepresentation {
  const unitPreferences = { mass: row.mass_unit, length: row.length_unit, distance: row.distance_unit, volume: row.volume_unit } as UnitPreferences;
  return {
    birthDate: row.birth_date,
    sex: row.sex,
    height:
      row.height_m === null || row.height_value === null || row.height_unit === null
        ? null
        : { display: displayLength(row.height_m, unitPreferences.length), heightM: row.height_m, entered: { value: row.height_value, unit: row.height_unit } },
    weight:
      row.weight_kg === null || row.weight_value === null || row.weight_unit === null
        ? null
        : { display: displayMass(row.weight_kg, unitPreferences.mass), weightKg: row.weight_kg, entered: { value: row.weight_value, unit: row.weight_unit } },
    timeZone: row.time_zone,
    timeZoneHistory: history.map((h) => ({ timeZone: h.time_zone, effectiveFrom: new Date(h.effective_from).toISOString() })),
    locale: row.locale,
    // Stored whenever a locale or a choice set it; Monday (ISO 8601) before either.
    weekStart: row.week_start ?? 1,
    unitPreferences,
    notificationPreferences: { email: row.notify_email, push: row.notify_push, weeklySummary: row.notify_weekly_summary },
    profileVisibility: row.profile_visibility,
    revision: Number(row.revision),
  };
}

const displayed = { type: 'object', additionalProperties: false, required: ['value', 'unit'], properties: { value: { type: 'number' }, unit: { type: 'string' } } } as const;

export const profileSchema = {
  $id: 'Profile',
  type: 'object',
  additionalProperties: false,
  required: ['birthDate', 'sex', 'height', 'weight', 'timeZone', 'timeZoneHistory', 'locale', 'weekStart', 'unitPreferences', 'notificationPreferences', 'profileVisibility', 'revision'],
  properties: {
    birthDate: { type: ['string', 'null'], format: 'date' },
    sex: { type: ['string', 'null'] },
    height: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['display', 'heightM', 'entered'],
      description: 'In the preferred length unit (`display`, unrounded), canonical metres, and as entered.',
      properties: { display: displayed, heightM: { type: 'number' }, entered: displayed },
    },
    weight: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['display', 'weightKg', 'entered'],
      description: 'In the preferred mass unit (`display`, unrounded), canonical kilograms, and as entered.',
      properties: { display: displayed, weightKg: { type: 'number' }, entered: displayed },
    },
    timeZone: { type: ['string', 'null'], description: 'IANA time zone in force now.' },
    timeZoneHistory: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['timeZone', 'effectiveFrom'], properties: { timeZone: { type: 'string' }, effectiveFrom: { type: 'string', format: 'date-time' } } },
    },
    locale: { type: ['string', 'null'] },
    weekStart: { type: 'integer', minimum: 1, maximum: 7 },
    unitPreferences: {
      type: 'object',
      additionalProperties: false,
      required: ['mass', 'length', 'distance', 'volume'],
      properties: { mass: { type: 'string' }, length: { type: 'string' }, distance: { type: 'string' }, volume: { type: 'string' } },
    },
    notificationPreferences: {
      type: 'object',
      additionalProperties: false,
      required: ['email', 'push', 'weeklySummary'],
      properties: { email: { type: 'boolean' }, push: { type: 'boolean' }, weeklySummary: { type: 'boolean' } },
    },
    profileVisibility: { type: 'string' },
    revision: { type: 'integer', description: 'The ETag of the profile.' },
  },
} as const;
