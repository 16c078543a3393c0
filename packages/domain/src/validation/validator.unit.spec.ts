import { describe, expect, it } from 'vitest';
import { array, characterCount, isoDateTime, number, object, optional, record, string, uuid } from './validator';

describe('validators', () => {
  const shape = object(
    { id: uuid(), n: number({ min: 1, max: 10, integer: true }), note: optional(string({ max: 3 })), tags: optional(array(string({ max: 2 }), { max: 2 })) },
    (v) => (v.n === 7 ? [{ field: 'n', code: 'range', message: 'n is unlucky' }] : []),
  );

  it('reports every failing field by its path', () => {
    const result = shape.check({ id: 'nope', n: 11, note: 'abcd', tags: ['a', 'bcd'], extra: 1 });
    expect(result.ok ? [] : result.issues.map((i) => [i.field, i.code])).toEqual([
      ['extra', 'unknown_field'],
      ['id', 'format'],
      ['n', 'range'],
      ['note', 'too_long'],
      ['tags[1]', 'too_long'],
    ]);
  });

  it('requires non-optional fields and accepts missing optional ones', () => {
    const result = shape.check({ n: 2 });
    expect(result.ok ? [] : result.issues.map((i) => i.field)).toEqual(['id']);
    expect(shape.check({ id: '0190f3a2-7c1e-7a3b-8c4d-5e6f7a8b9c0d', n: 2 }).ok).toBe(true);
  });

  it('runs cross-field rules with nested paths', () => {
    const nested = object({ inner: shape });
    const result = nested.check({ inner: { id: '0190f3a2-7c1e-7a3b-8c4d-5e6f7a8b9c0d', n: 7 } });
    expect(result.ok ? [] : result.issues.map((i) => i.field)).toEqual(['inner.n']);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(characterCount('💪💪')).toBe(2);
    expect(string({ max: 2 }).check('💪💪').ok).toBe(true);
  });

  it('accepts only real ISO 8601 UTC instants', () => {
    expect(isoDateTime().check('2025-03-03T07:00:00.000Z').ok).toBe(true);
    expect(isoDateTime().check('2025-02-30T07:00:00Z').ok).toBe(false);
    expect(isoDateTime().check('2025-03-03T07:00:00+01:00').ok).toBe(false);
  });

  it('rejects non-finite numbers and too many map entries', () => {
    expect(number().check(Number.NaN).ok).toBe(false);
    expect(number().check(Infinity).ok).toBe(false);
    const map = record(number(), { maxKeys: 1, keyPattern: /^[a-z]+$/, keyPatternName: 'lowercase' });
    expect(map.check({ a: 1, b: 2 }).ok).toBe(false);
    expect(map.check({ A: 1 }).ok).toBe(false);
  });
});
