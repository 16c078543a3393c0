import { createHmac } from 'node:crypto';
import { deriveSubkey } from './keyDerivation';
import type { DataKey } from './keyStore';
import { lengthPrefixed } from './lengthPrefix';

export const DEDUP_ID_INFO = 'fitledger/dedup-id/v1';

/**
 * A deterministic event id for a provider record: HMAC-SHA256 under a subkey of the subject's data
 * key over (provider, externalId, version), laid out as a UUID version 8 (RFC 9562 §5.8). A webhook
 * and a re-sync of the same record get the same id; after erasure the id links to nothing.
 */
export function dedupEventId(dataKey: DataKey, provider: string, externalId: string, version: string): string {
  const mac = createHmac('sha256', deriveSubkey(dataKey, DEDUP_ID_INFO))
    .update(lengthPrefixed([provider, externalId, version]))
    .digest();
  const bytes = mac.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10xx (RFC 9562)
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
