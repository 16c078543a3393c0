import { describe, expect, it } from 'vitest';
import { ifNoneMatchHits } from './workouts';

describe('ifNoneMatchHits (RFC 9110 §13.1.2, weak comparison)', () => {
  it.each([
    [undefined, false],
    ['"7"', true],
    ['W/"7"', true],
    ['"6", "7"', true],
    ['*', true],
    ['"6"', false],
    ['"77"', false],
  ])('%s → %s', (header, hit) => {
    expect(ifNoneMatchHits(header, '"7"')).toBe(hit);
  });
});
