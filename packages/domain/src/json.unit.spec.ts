import { describe, expect, it } from 'vitest';
import { withoutNegativeZero } from './json';

describe('withoutNegativeZero', () => {
  it('replaces -0 at any depth, in literal and null-prototype objects alike (JSON cannot carry -0)', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { value: -0, unit: 'kg' });
    const out = withoutNegativeZero({ load: bare, list: [-0, 1, { x: -0 }], n: -0 });
    expect(Object.is((out.load as { value: number }).value, 0)).toBe(true);
    expect(Object.is(out.n, 0)).toBe(true);
    expect(Object.is(out.list[0], 0)).toBe(true);
    expect(Object.is((out.list[2] as { x: number }).x, 0)).toBe(true);
    expect(out.load).toEqual({ value: 0, unit: 'kg' });
  });

  it('leaves class instances such as Dates alone', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(withoutNegativeZero({ at }).at).toBe(at);
  });
});
