import {
  HEIGHT_UNITS,
  MASS_UNITS,
  PREFERRED_DISTANCE_UNITS,
  PREFERRED_LENGTH_UNITS,
  PREFERRED_MASS_UNITS,
  PREFERRED_VOLUME_UNITS,
  PROFILE_LIMITS as L,
  PROFILE_VISIBILITIES,
  SEXES,
  TIME_ZONE_PATTERN,
  UNIT_SYSTEMS,
} from '@fitledger/domain';

/**
 * JSON schema of PUT /profile. Types, enums and shapes are checked here (400 naming the field);
 * what needs a clock or the platform's time-zone and locale data (age, a zone that exists, a
 * locale, plausibility of the canonical height and weight) is the decider's (422 naming the field).
 */

const entered = (units: readonly string[], example: { value: number; unit: string }, description: string) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['value', 'unit'],
    description,
    properties: { value: { type: 'number', exclusiveMinimum: 0 }, unit: { type: 'string', enum: [...units] } },
    example,
  }) as const;

export const updateProfileBody = {
  type: 'object',
  additionalProperties: false,
  description: 'A partial update: absent fields keep their value. The first PUT creates the profile.',
  properties: {
    birthDate: { type: 'string', format: 'date', maxLength: 10, description: `YYYY-MM-DD; an age of ${L.ageYears.min}–${L.ageYears.max} years.`, example: '1988-06-14' },
    sex: { type: 'string', enum: [...SEXES] },
    height: entered(HEIGHT_UNITS, { value: 172, unit: 'cm' }, `As entered; ${L.heightM.min}–${L.heightM.max} m.`),
    weight: entered(MASS_UNITS, { value: 68.5, unit: 'kg' }, `As entered; ${L.weightKg.min}–${L.weightKg.max} kg.`),
    timeZone: { type: 'string', minLength: 1, maxLength: 64, pattern: TIME_ZONE_PATTERN.source, description: 'IANA time zone; streaks and weeks are counted in it from now on.', example: 'Europe/Berlin' },
    locale: { type: 'string', minLength: 2, maxLength: 35, pattern: '^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$', description: 'BCP 47 language tag; sets the week start unless weekStart is given.', example: 'de-DE' },
    weekStart: { type: 'integer', minimum: L.weekStart.min, maximum: L.weekStart.max, description: 'ISO weekday the week starts on: 1 = Monday … 7 = Sunday.' },
    unitPreferences: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      description: 'Display units per quantity; `system` sets all four, a named quantity overrides it.',
      properties: {
        system: { type: 'string', enum: [...UNIT_SYSTEMS] },
        mass: { type: 'string', enum: [...PREFERRED_MASS_UNITS] },
        length: { type: 'string', enum: [...PREFERRED_LENGTH_UNITS] },
        distance: { type: 'string', enum: [...PREFERRED_DISTANCE_UNITS] },
        volume: { type: 'string', enum: [...PREFERRED_VOLUME_UNITS] },
      },
      example: { system: 'imperial' },
    },
    notificationPreferences: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { email: { type: 'boolean' }, push: { type: 'boolean' }, weeklySummary: { type: 'boolean' } },
    },
    profileVisibility: { type: 'string', enum: [...PROFILE_VISIBILITIES], description: 'Who besides the person sees the profile.' },
  },
} as const;

export const profileResultSchema = {
  type: 'object',
  required: ['revision', 'position'],
  properties: {
    revision: { type: 'integer', description: 'Revision of the profile stream after the command; also the ETag.' },
    position: { type: 'string', description: 'Opaque $all position of the last event: read models are current once they reach it.' },
  },
} as const;
