/**
 * Display units: a person's preferred unit per quantity, and canonical SI values (kg, m, l) shown
 * in it. Conversions here are unrounded — rounding is the client's choice — so entered → canonical
 * → display in the entered unit gives the entered value back (to floating-point precision).
 */
import { CM_PER_IN, fromKg, fromMetres, toKg, toMetres } from './units';

export const PREFERRED_MASS_UNITS = ['kg', 'lb'] as const;
export const PREFERRED_LENGTH_UNITS = ['cm', 'in'] as const;
export const PREFERRED_DISTANCE_UNITS = ['km', 'mi'] as const;
export const PREFERRED_VOLUME_UNITS = ['ml', 'fl_oz'] as const;
export const UNIT_SYSTEMS = ['metric', 'imperial'] as const;

export type PreferredMassUnit = (typeof PREFERRED_MASS_UNITS)[number];
export type PreferredLengthUnit = (typeof PREFERRED_LENGTH_UNITS)[number];
export type PreferredDistanceUnit = (typeof PREFERRED_DISTANCE_UNITS)[number];
export type PreferredVolumeUnit = (typeof PREFERRED_VOLUME_UNITS)[number];
export type UnitSystem = (typeof UNIT_SYSTEMS)[number];

/** The unit a person wants to see, per quantity. Length is body length (height, circumferences); distance is travelled distance. */
export interface UnitPreferences {
  readonly mass: PreferredMassUnit;
  readonly length: PreferredLengthUnit;
  readonly distance: PreferredDistanceUnit;
  readonly volume: PreferredVolumeUnit;
}

export const METRIC_UNITS: UnitPreferences = Object.freeze({ mass: 'kg', length: 'cm', distance: 'km', volume: 'ml' });
export const IMPERIAL_UNITS: UnitPreferences = Object.freeze({ mass: 'lb', length: 'in', distance: 'mi', volume: 'fl_oz' });

export function unitsOfSystem(system: UnitSystem): UnitPreferences {
  return system === 'metric' ? METRIC_UNITS : IMPERIAL_UNITS;
}

/** US customary fluid ounce: 1/128 US gallon of 231 in³ = 29.5735295625 ml exactly. */
export const ML_PER_US_FL_OZ = 29.5735295625;

/** The quantities that have a display preference, with their canonical SI unit. */
export type Quantity = keyof UnitPreferences;
export const CANONICAL_SI_UNIT: Readonly<Record<Quantity, 'kg' | 'm' | 'l'>> = Object.freeze({ mass: 'kg', length: 'm', distance: 'm', volume: 'l' });

/** A value in a named unit (what a representation's `display` holds). */
export interface Displayed<U extends string = string> {
  readonly value: number;
  readonly unit: U;
}

/** Canonical kilograms in the preferred mass unit. */
export function displayMass(kg: number, unit: PreferredMassUnit): Displayed<PreferredMassUnit> {
  return { value: fromKg(kg, unit), unit };
}

/** Canonical metres of a body length (height, circumference) in the preferred length unit. */
export function displayLength(m: number, unit: PreferredLengthUnit): Displayed<PreferredLengthUnit> {
  return { value: unit === 'cm' ? m * 100 : (m * 100) / CM_PER_IN, unit };
}

/** Canonical metres of a travelled distance in the preferred distance unit. */
export function displayDistance(m: number, unit: PreferredDistanceUnit): Displayed<PreferredDistanceUnit> {
  return { value: fromMetres(m, unit), unit };
}

/** Canonical litres in the preferred volume unit. */
export function displayVolume(l: number, unit: PreferredVolumeUnit): Displayed<PreferredVolumeUnit> {
  return { value: unit === 'ml' ? l * 1000 : (l * 1000) / ML_PER_US_FL_OZ, unit };
}

/** A canonical SI value of `quantity` (kg, m or l) as the preferences want it shown. */
export function displayIn(quantity: Quantity, canonical: number, preferences: UnitPreferences): Displayed {
  switch (quantity) {
    case 'mass':
      return displayMass(canonical, preferences.mass);
    case 'length':
      return displayLength(canonical, preferences.length);
    case 'distance':
      return displayDistance(canonical, preferences.distance);
    case 'volume':
      return displayVolume(canonical, preferences.volume);
    default: {
      const _: never = quantity;
      throw new Error(`unknown quantity ${String(_)}`);
    }
  }
}

/** The canonical SI value (kg, m or l) of a value entered in one of the preferable units. */
export function canonicalOf(quantity: Quantity, value: number, unit: string): number {
  switch (quantity) {
    case 'mass':
      return toKg(value, unit as PreferredMassUnit);
    case 'length':
      return unit === 'cm' ? value / 100 : (value * CM_PER_IN) / 100;
    case 'distance':
      return toMetres(value, unit as PreferredDistanceUnit);
    case 'volume':
      return unit === 'ml' ? value / 1000 : (value * ML_PER_US_FL_OZ) / 1000;
    default: {
      const _: never = quantity;
      throw new Error(`unknown quantity ${String(_)}`);
    }
  }
}
