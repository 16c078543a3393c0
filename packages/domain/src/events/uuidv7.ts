/**
 * UUID version 7 (RFC 9562 §5.7): 48-bit Unix milliseconds, version 7, 74 random bits, variant 10.
 * Pure: the caller passes the clock and at least 10 random bytes (e.g. from crypto.getRandomValues),
 * so ids sort by creation time and tests are deterministic.
 */
export function uuidv7(now: Date, random: Uint8Array): string {
  const ms = now.getTime();
  if (!Number.isInteger(ms) || ms < 0 || ms > 0xffff_ffff_ffff) throw new RangeError('uuidv7: time must be within 1970..10889 (48-bit ms)');
  if (random.length < 10) throw new RangeError(`uuidv7: needs 10 random bytes, got ${random.length}`);
  const r = (i: number): number => random[i] as number;
  const bytes = new Array<number>(16);
  let t = ms;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes[6] = 0x70 | (r(0) & 0x0f);
  bytes[7] = r(1);
  bytes[8] = 0x80 | (r(2) & 0x3f);
  for (let i = 9; i < 16; i++) bytes[i] = r(i - 6);
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuidV7(value: string): boolean {
  return UUID_V7.test(value);
}

/** The creation time embedded in a UUIDv7. */
export function uuidv7Time(id: string): Date {
  if (!isUuidV7(id)) throw new RangeError('not a lowercase UUIDv7');
  return new Date(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
}
