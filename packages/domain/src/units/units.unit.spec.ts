import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cmToIn,
  DISTANCE_UNITS,
  fromKg,
  fromMetres,
  ftToM,
  inToCm,
  inToM,
  kgToLb,
  lbToKg,
  MASS_UNITS,
  miToM,
  mToFt,
  mToIn,
  mToMi,
  toKg,
  toMetres,
} from './units';

/** Round trips may lose the last bits of a double, nothing more. */
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
const magnitude = fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true });

describe('units', () => {
  it('uses the exact international definitions', () => {
    expect(lbToKg(1)).toBe(0.45359237);
    expect(miToM(1)).toBe(1609.344);
    expect(ftToM(1)).toBe(0.3048);
    expect(inToM(1)).toBe(0.0254);
    expect(inToCm(1)).toBe(2.54);
    expect(toMetres(1, 'km')).toBe(1000);
    expect(toMetres(1, 'yd')).toBe(0.9144);
  });

  it.each([
    ['kg → lb → kg', (x: number) => lbToKg(kgToLb(x))],
    ['lb → kg → lb', (x: number) => kgToLb(lbToKg(x))],
    ['m → mi → m', (x: number) => miToM(mToMi(x))],
    ['m → ft → m', (x: number) => ftToM(mToFt(x))],
    ['m → in → m', (x: number) => inToM(mToIn(x))],
    ['cm → in → cm', (x: number) => inToCm(cmToIn(x))],
  ])('round-trips %s for every magnitude', (_name, roundTrip) => {
    fc.assert(fc.property(magnitude, (x) => close(roundTrip(x), x)));
  });

  it('round-trips every mass and distance unit through the canonical value', () => {
    fc.assert(fc.property(magnitude, fc.constantFrom(...MASS_UNITS), (x, unit) => close(fromKg(toKg(x, unit), unit), x)));
    fc.assert(fc.property(magnitude, fc.constantFrom(...DISTANCE_UNITS), (x, unit) => close(fromMetres(toMetres(x, unit), unit), x)));
  });

  it('preserves order: a heavier entry is never a lighter canonical value', () => {
    fc.assert(fc.property(magnitude, magnitude, (a, b) => (a <= b ? lbToKg(a) <= lbToKg(b) : lbToKg(a) >= lbToKg(b))));
  });
});
