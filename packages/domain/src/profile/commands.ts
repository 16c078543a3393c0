import type { Entered } from '../bodyMetrics/events';
import type { Command } from '../events/envelope';
import type { PreferredDistanceUnit, PreferredLengthUnit, PreferredMassUnit, PreferredVolumeUnit, UnitSystem } from '../units/displayUnits';
import type { MassUnit } from '../units/units';
import type { HeightUnit, NotificationPreferences, ProfileVisibility, Sex } from './events';

/** Unit preferences as a client sends them: `system` sets all four, a named quantity overrides it. */
export interface UnitPreferencesInput {
  readonly system?: UnitSystem;
  readonly mass?: PreferredMassUnit;
  readonly length?: PreferredLengthUnit;
  readonly distance?: PreferredDistanceUnit;
  readonly volume?: PreferredVolumeUnit;
}

/**
 * A partial update of the caller's own profile (created by the first one). Absent fields keep
 * their value; height and weight are entered values, the decider derives the canonical ones.
 */
export type UpdateProfile = Command<
  'UpdateProfile',
  {
    readonly birthDate?: string;
    readonly sex?: Sex;
    readonly height?: Entered<HeightUnit>;
    readonly weight?: Entered<MassUnit>;
    readonly timeZone?: string;
    readonly locale?: string;
    /** ISO weekday 1 (Monday) … 7 (Sunday); derived from the locale when absent and the locale changes. */
    readonly weekStart?: number;
    readonly unitPreferences?: UnitPreferencesInput;
    readonly notificationPreferences?: Partial<NotificationPreferences>;
    readonly profileVisibility?: ProfileVisibility;
  }
>;

export type ProfileCommand = UpdateProfile;
