import { describe, expect, it } from 'vitest';
import { lengthPrefixed } from './lengthPrefix';

describe('lengthPrefixed', () => {
  it('writes each part as its byte length (uint32, big-endian) and its bytes, strings as UTF-8', () => {
    expect(lengthPrefixed(['é', new Uint8Array([1, 2, 3]), '']).toString('hex')).toBe('00000002c3a9' + '00000003010203' + '00000000');
    expect(lengthPrefixed([]).length).toBe(0);
  });

  it('never encodes two different tuples alike', () => {
    expect(lengthPrefixed(['a', 'bc']).equals(lengthPrefixed(['ab', 'c']))).toBe(false);
    expect(lengthPrefixed(['💪', 'x']).equals(lengthPrefixed(['💪', 'x']))).toBe(true);
  });
});
