import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from './randomPool';

describe('pooledRandomBytes', () => {
  it('returns the number of bytes asked for, small and large', () => {
    for (const size of [0, 1, 10, 12, 16, 256, 257, 10_000]) expect(pooledRandomBytes(size)).toHaveLength(size);
  });

  it('never hands out the same bytes twice, across pool refills', () => {
    // 2,000 × 12 bytes spans several 4 KiB pools; a repeat of 96 random bits would mean reuse.
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) seen.add(pooledRandomBytes(12).toString('hex'));
    expect(seen.size).toBe(2_000);
  });

  it('gives each caller its own copy: changing one result changes no other', () => {
    const a = pooledRandomBytes(16);
    const b = pooledRandomBytes(16);
    const bBefore = Buffer.from(b);
    a.fill(0xff);
    expect(b.equals(bBefore)).toBe(true);
    expect(a.buffer === b.buffer && a.byteOffset === b.byteOffset).toBe(false);
  });

  it('looks uniformly random (byte frequencies of 64 KiB within a wide band)', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 4_096; i++) for (const byte of pooledRandomBytes(16)) counts[byte] = (counts[byte] ?? 0) + 1;
    // Expected 256 per value; a stuck or zeroed pool would put thousands on one value.
    expect(Math.max(...counts)).toBeLessThan(400);
    expect(Math.min(...counts)).toBeGreaterThan(140);
  });

  it('refuses sizes that are not non-negative integers', () => {
    for (const size of [-1, 1.5, Number.NaN]) expect(() => pooledRandomBytes(size)).toThrow(RangeError);
  });
});
