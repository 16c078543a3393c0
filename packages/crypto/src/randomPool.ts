import { randomBytes, randomFillSync } from 'node:crypto';

/** Bytes fetched from the CSPRNG at once. */
const POOL_BYTES = 4096;
/** Larger requests go to the CSPRNG directly: pooling pays for small, frequent ones. */
const MAX_POOLED_REQUEST = 256;

let pool = Buffer.alloc(0);
let offset = 0;

/**
 * `size` cryptographically secure random bytes (the same CSPRNG as `crypto.randomBytes`), served
 * from a pre-filled pool.
 *
 * Why: every `randomBytes`/`randomFillSync` call is a native job through OpenSSL 3's locked DRBG,
 * which costs 10–20 µs whatever the size; a command needs several 10-byte UUIDv7 tails and a 12-byte
 * AES-GCM IV, and the profile of the write path showed ~9 % of its CPU there. One 4 KiB fill serves
 * hundreds of them (Node's own `randomUUID()` buffers its entropy the same way).
 *
 * Every byte is handed out once: a spent pool is replaced by a newly filled buffer (never refilled
 * in place), and callers get a copy, so nothing they keep can change or be seen by another caller.
 * Not shared across threads: each worker thread has its own module instance and pool.
 */
export function pooledRandomBytes(size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('size must be a non-negative integer');
  if (size > MAX_POOLED_REQUEST) return randomBytes(size);
  if (offset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    offset = 0;
  }
  const out = Buffer.allocUnsafe(size);
  pool.copy(out, 0, offset, offset + size);
  // Wipe what was handed out, so the pool never holds bytes a caller already has.
  pool.fill(0, offset, offset + size);
  offset += size;
  return out;
}
