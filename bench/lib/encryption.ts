import type { PostgresServerInfo } from '@fitledger/testing';

/** Placeholder until packages/crypto lands: replaced by the PhiCodec measurement. */
export function measureEncryption(_server: PostgresServerInfo, events: number): Promise<{ encryptMicros: number; decryptMicros: number; events: number }> {
  return Promise.resolve({ encryptMicros: Number.NaN, decryptMicros: Number.NaN, events });
}
