import { hkdfSync } from 'node:crypto';
import type { DataKey } from './keyStore';

/**
 * A 32-byte subkey of a subject's data key for one purpose (HKDF-SHA256, RFC 5869). The data key is
 * uniformly random, so an empty salt is fine; `info` separates the purposes.
 */
export function deriveSubkey(dataKey: DataKey, info: string): Buffer {
  // Memoised per DataKey object: the key cache hands out the same object while the key is cached,
  // and a destroyed key's object is evicted with it, so the subkeys go with it.
  let perKey = subkeys.get(dataKey);
  if (!perKey) {
    perKey = new Map();
    subkeys.set(dataKey, perKey);
  }
  let subkey = perKey.get(info);
  if (!subkey) {
    subkey = Buffer.from(hkdfSync('sha256', dataKey.key, Buffer.alloc(0), info, 32));
    perKey.set(info, subkey);
  }
  return subkey;
}

const subkeys = new WeakMap<DataKey, Map<string, Buffer>>();
