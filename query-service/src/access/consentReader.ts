import { LocalKeyStore, PhiCodec, type MasterKey } from '@fitledger/crypto';
import { consentDecider, consentStreamId, eventRegistry, initialConsentState, type ConsentEvent, type ConsentState } from '@fitledger/domain';
import { EventCodec } from '@fitledger/event-codec';
import { PostgresEventStore, type EventStore } from '@fitledger/event-store';
import { LRUCache } from 'lru-cache';
import type pg from 'pg';

/** A subject's consent stream folded as it is now; `erased` when the subject's key was destroyed. */
export interface ConsentReader {
  current(subjectId: string): Promise<ConsentState>;
}

/**
 * Reads the consent stream itself (not a read model), so a withdrawal is seen by the very next
 * request: one indexed query for events newer than the folded state kept per subject. An erased
 * subject's consents read as none.
 */
export function eventStoreConsentReader(deps: { store: EventStore; codec: EventCodec; maxSubjects?: number }): ConsentReader {
  const cache = new LRUCache<string, { revision: number; state: ConsentState }>({ max: deps.maxSubjects ?? 10_000 });
  return {
    async current(subjectId) {
      const streamId = consentStreamId(subjectId);
      const cached = cache.get(streamId);
      const newer = await deps.store.readStream(streamId, cached === undefined ? {} : { fromRevision: cached.revision + 1 });
      if (newer.length === 0) return cached?.state ?? initialConsentState();
      let state = cached?.state ?? initialConsentState();
      for (const decoded of await deps.codec.decodeAll(newer)) {
        if (decoded.erased) {
          cache.delete(streamId);
          return initialConsentState();
        }
        state = consentDecider.evolve(state, decoded as unknown as ConsentEvent);
      }
      cache.set(streamId, { revision: (newer.at(-1) as { revision: number }).revision, state });
      return state;
    },
  };
}

/** The reader over the event store in `pool`, decrypting with the subjects' keys under `masterKey`. */
export function consentReaderOnPool(pool: pg.Pool, masterKey: MasterKey): { reader: ConsentReader; close(): Promise<void> } {
  const store = new PostgresEventStore({ pool });
  const keys = new LocalKeyStore({ pool, masterKey });
  const reader = eventStoreConsentReader({ store, codec: new EventCodec(new PhiCodec(keys), eventRegistry) });
  return { reader, close: async () => { await store.close(); await keys.close(); } };
}
