import { hkdfSync } from 'node:crypto';
import type { DataKey } from './keyStore';

/**
 * A 32-byte subkey of a subject's data key for one purpose (HKDF-SHA256, RFC 5869). The data key is
 * uniformly random, so an empty salt is fine; `info` separates the purposes.
 */
export function deriveSubkey(dataKey: DataKey, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey.key, Buffer.alloc(0), info, 32));
}
