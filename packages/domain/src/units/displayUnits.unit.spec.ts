import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lengthToMetres, volumeToLitres } from '../bodyMetrics/bodyMeasurement';
import { canonicalOf, displayIn, IMPERIAL_UNITS, METRIC_UNITS, type Quantity, type UnitPreferences } from './displayUnits';
import { toKg, toMetres } from './units';

const relativelyClose = (actual: number, expected: number): boolean => Math.abs(actual - expected) <= 1e-9 * Math.abs(expected);

/** How each quantity is entered elsewhere in the domain (body metrics, workout sets): the same conversions must be used. */
const enteredToCanonical: Record<Quantity, (value: number, unit: string) => number> = {
  mass: (v, u) => toKg(v, u as 'kg' | 'lb'),
  length: (v, u) => lengthToMetres(v, u as 'cm' | 'in'),
  distance: (v, u) => toMetres(v, u as 'km' | 'mi'),
  volume: (v, u) => volumeToLitres(v, u as 'ml' | 'fl_oz'),
};

const cases: [Quantity, keyof UnitPreferences, string, string][] = [
  ['mass', 'mass', 'kg', 'lb'],
  ['length', 'length', 'cm', 'in'],
  ['distance', 'distance', 'km', 'mi'],
  ['volume', 'volume', 'ml', 'fl_oz'],
];

describe('display units', () => {
  it.each(cases)('%s: entered → canonical → display round-trips in both units within 1e-9 relative (property)', (quantity, _key, metric, imperial) => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e6, noNaN: true, noDefaultInfinity: true }), fc.constantFrom(metric, imperial), (value, unit) => {
        const canonical = enteredToCanonical[quantity](value, unit);
        expect(relativelyClose(canonicalOf(quantity, value, unit), canonical)).toBe(true);
        const preferences = unit === metric ? METRIC_UNITS : IMPERIAL_UNITS;
        const shown = displayIn(quantity, canonical, preferences);
        expect(shown.unit).toBe(unit);
        expect(relativelyClose(shown.value, value), `${value} ${unit} came back as ${shown.value}`).toBe(true);
      }),
    );
  });

  it.each(cases)('%s: a value entered in one unit shows in the other and back (property)', (quantity, _key, metric, imperial) => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e6, noNaN: true, noDefaultInfinity: true }), (value) => {
        const asImperial = displayIn(quantity, canonicalOf(quantity, value, metric), IMPERIAL_UNITS);
        expect(asImperial.unit).toBe(imperial);
        const back = displayIn(quantity, canonicalOf(quantity, asImperial.value, imperial), METRIC_UNITS);
        expect(relativelyClose(back.value, value)).toBe(true);
      }),
    );
  });

  it('uses the exact definitions: 1 lb = 0.45359237 kg, 1 in = 2.54 cm, 1 mi = 1609.344 m, 1 US fl oz = 29.5735295625 ml', () => {
    expect(displayIn('mass', 0.45359237, IMPERIAL_UNITS)).toEqual({ value: 1, unit: 'lb' });
    expect(displayIn('length', 0.0254, IMPERIAL_UNITS)).toEqual({ value: 1, unit: 'in' });
    expect(displayIn('distance', 1609.344, IMPERIAL_UNITS)).toEqual({ value: 1, unit: 'mi' });
    expect(displayIn('volume', 0.0295735295625, IMPERIAL_UNITS).value).toBeCloseTo(1, 12);
    expect(displayIn('length', 1.8, METRIC_UNITS)).toEqual({ value: 180, unit: 'cm' });
    expect(displayIn('distance', 5000, METRIC_UNITS)).toEqual({ value: 5, unit: 'km' });
    expect(displayIn('volume', 0.5, METRIC_UNITS)).toEqual({ value: 500, unit: 'ml' });
  });
});
