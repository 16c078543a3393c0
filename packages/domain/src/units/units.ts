/**
 * Unit conversions. Factors are the exact definitions of the international yard and pound
 * agreement (1959): 1 lb = 0.45359237 kg, 1 yd = 0.9144 m, 1 ft = 0.3048 m, 1 in = 2.54 cm,
 * 1 mi = 1609.344 m. Events store what the user entered plus the canonical SI value.
 */
export const KG_PER_LB = 0.45359237;
export const M_PER_MI = 1609.344;
export const M_PER_YD = 0.9144;
export const M_PER_FT = 0.3048;
export const M_PER_IN = 0.0254;
export const CM_PER_IN = 2.54;

export const MASS_UNITS = ['kg', 'lb'] as const;
export type MassUnit = (typeof MASS_UNITS)[number];

export const DISTANCE_UNITS = ['m', 'km', 'mi', 'yd', 'ft', 'in'] as const;
export type DistanceUnit = (typeof DISTANCE_UNITS)[number];

export const kgToLb = (kg: number): number => kg / KG_PER_LB;
export const lbToKg = (lb: number): number => lb * KG_PER_LB;
export const mToMi = (m: number): number => m / M_PER_MI;
export const miToM = (mi: number): number => mi * M_PER_MI;
export const mToFt = (m: number): number => m / M_PER_FT;
export const ftToM = (ft: number): number => ft * M_PER_FT;
export const mToIn = (m: number): number => m / M_PER_IN;
export const inToM = (inches: number): number => inches * M_PER_IN;
export const cmToIn = (cm: number): number => cm / CM_PER_IN;
export const inToCm = (inches: number): number => inches * CM_PER_IN;

/** Canonical kilograms of a mass as entered. */
export function toKg(value: number, unit: MassUnit): number {
  switch (unit) {
    case 'kg':
      return value;
    case 'lb':
      return lbToKg(value);
    default: {
      const _: never = unit;
      throw new Error(`unknown mass unit ${String(_)}`);
    }
  }
}

/** A canonical mass in the unit the user wants to see. */
export function fromKg(kg: number, unit: MassUnit): number {
  switch (unit) {
    case 'kg':
      return kg;
    case 'lb':
      return kgToLb(kg);
    default: {
      const _: never = unit;
      throw new Error(`unknown mass unit ${String(_)}`);
    }
  }
}

const METRES_PER: Readonly<Record<DistanceUnit, number>> = { m: 1, km: 1000, mi: M_PER_MI, yd: M_PER_YD, ft: M_PER_FT, in: M_PER_IN };

/** Canonical metres of a distance as entered. */
export function toMetres(value: number, unit: DistanceUnit): number {
  return unit === 'm' ? value : value * METRES_PER[unit];
}

/** A canonical distance in the unit the user wants to see. */
export function fromMetres(m: number, unit: DistanceUnit): number {
  return unit === 'm' ? m : m / METRES_PER[unit];
}
