import type { Entered, LengthUnit } from '../bodyMetrics/events';
import type { Event } from '../events/envelope';
import type { IsoWeekday } from '../calendar/calendar';
import type { UnitPreferences } from '../units/displayUnits';
import type { MassUnit } from '../units/units';

export const SEXES = ['female', 'male', 'intersex', 'unspecified'] as const;
export type Sex = (typeof SEXES)[number];

export const PROFILE_VISIBILITIES = ['private', 'organisation'] as const;
export type ProfileVisibility = (typeof PROFILE_VISIBILITIES)[number];

/** Units a height may be entered in (body length). */
export const HEIGHT_UNITS = ['cm', 'in'] as const satisfies readonly LengthUnit[];
export type HeightUnit = (typeof HEIGHT_UNITS)[number];

export interface NotificationPreferences {
  readonly email: boolean;
  readonly push: boolean;
  readonly weeklySummary: boolean;
}

/**
 * One or more profile fields that changed, each with its new value (a field that did not change is
 * absent). Height and weight keep what was entered beside the canonical SI value. The time zone is
 * not here: it changes only through TimeZoneChanged, the one record of the time-zone history.
 * Preferences are written whole whenever any part of them changes.
 */
export type ProfileUpdatedData = {
  /** YYYY-MM-DD. */
  readonly birthDate?: string;
  readonly sex?: Sex;
  readonly height?: Entered<HeightUnit>;
  readonly heightM?: number;
  readonly weight?: Entered<MassUnit>;
  readonly weightKg?: number;
  /** Canonical BCP 47 tag (`Intl.getCanonicalLocales`). */
  readonly locale?: string;
  /** ISO weekday the person's weeks start on: from the locale unless chosen. */
  readonly weekStart?: IsoWeekday;
  readonly unitPreferences?: UnitPreferences;
  readonly notificationPreferences?: NotificationPreferences;
  readonly profileVisibility?: ProfileVisibility;
};

/** From `effectiveFrom` on (the command's time), the person lives in `timeZone` (IANA). */
export type TimeZoneChangedData = {
  readonly timeZone: string;
  readonly effectiveFrom: string;
};

export type ProfileUpdated = Event<'ProfileUpdated', ProfileUpdatedData>;
export type TimeZoneChanged = Event<'TimeZoneChanged', TimeZoneChangedData>;

export type ProfileEvent = ProfileUpdated | TimeZoneChanged;
export type ProfileEventType = ProfileEvent['type'];
