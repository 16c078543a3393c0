import fc from 'fast-check';
import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { isUuidV7, uuidv7, uuidv7Time } from './uuidv7';

const zeros = new Uint8Array(10);

describe('uuidv7', () => {
  it('encodes the time, version 7 and variant 10 as RFC 9562 §5.7 lays them out', () => {
    // 0x017F22E279B0 ms = 2022-02-22T19:22:22.000Z, the RFC's own example time (Appendix A.6).
    const id = uuidv7(new Date(0x017f22e279b0), Uint8Array.from([0xfc, 0xc3, 0x98, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f]));
    expect(id).toBe('017f22e2-79b0-7cc3-98c4-dc0c0c07398f');
  });

  it('is accepted as a version 7 UUID by an independent implementation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.uint8Array({ minLength: 10, maxLength: 10 }), (ms, random) => {
        const id = uuidv7(new Date(ms), random);
        expect(validate(id)).toBe(true);
        expect(version(id)).toBe(7);
        expect(isUuidV7(id)).toBe(true);
        expect(uuidv7Time(id).getTime()).toBe(ms);
      }),
    );
  });

  it('sorts by creation time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 2 }), fc.uint8Array({ minLength: 10, maxLength: 10 }), fc.uint8Array({ minLength: 10, maxLength: 10 }), (ms, a, b) => {
        expect(uuidv7(new Date(ms), a) < uuidv7(new Date(ms + 1), b)).toBe(true);
      }),
    );
  });

  it('refuses fewer than 10 random bytes and times outside 48 bits', () => {
    expect(() => uuidv7(new Date(0), new Uint8Array(9))).toThrow(RangeError);
    expect(() => uuidv7(new Date(-1), zeros)).toThrow(RangeError);
    expect(() => uuidv7(new Date(Number.NaN), zeros)).toThrow(RangeError);
  });
});
