import { createKeyStore, PhiCodec, type KeyStoreConfig } from '@fitledger/crypto';
import {
  consentDecider,
  consentStreamId,
  emergencyAccessDecider,
  emergencyAccessKey,
  emergencyAccessStreamId,
  eventRegistry,
  membershipOf,
  organisationDecider,
  organisationStreamId,
  type Membership,
  type ConsentState,
  type Decider,
  type EmergencyAccessState,
} from '@fitledger/domain';
import { EventCodec } from '@fitledger/event-codec';
import { PostgresEventStore, type EventStore } from '@fitledger/event-store';
import { LRUCache } from 'lru-cache';
import type pg from 'pg';

/** A subject's consent and emergency-access streams folded as they are now. */
export interface ConsentReader {
  current(subjectId: string): Promise<ConsentState>;
  /** Emergency grants to the subject's data in one organisation. */
  emergency(tenantId: string, subjectId: string): Promise<EmergencyAccessState>;
  /** A person's membership in an organisation (a token's tenant is an organisation id), from the organisation's stream. */
  membership(organisationId: string, sub: string): Promise<Membership | undefined>;
}

/**
 * A per-subject stream folded as it is now: one indexed query for the events newer than the
 * state kept per subject, so a change counts on the very next request. An erased subject's
 * stream reads as empty.
 */
function streamStateReader<S, E>(deps: { store: EventStore; codec: EventCodec; maxSubjects?: number }, decider: Pick<Decider<S, never, E>, 'initialState' | 'evolve'>, streamIdOf: (subjectId: string) => string) {
  const cache = new LRUCache<string, { revision: number; state: S }>({ max: deps.maxSubjects ?? 10_000 });
  return async (subjectId: string): Promise<S> => {
    const streamId = streamIdOf(subjectId);
    const cached = cache.get(streamId);
    const newer = await deps.store.readStream(streamId, cached === undefined ? {} : { fromRevision: cached.revision + 1 });
    if (newer.length === 0) return cached?.state ?? decider.initialState();
    let state = cached?.state ?? decider.initialState();
    for (const decoded of await deps.codec.decodeAll(newer)) {
      if (decoded.erased) {
        cache.delete(streamId);
        return decider.initialState();
      }
      state = decider.evolve(state, decoded as unknown as E);
    }
    cache.set(streamId, { revision: (newer.at(-1) as { revision: number }).revision, state });
    return state;
  };
}

/** Reads the consent, emergency-access and organisation streams themselves, not a read model. */
export function eventStoreConsentReader(deps: { store: EventStore; codec: EventCodec; maxSubjects?: number }): ConsentReader {
  const emergency = streamStateReader(deps, emergencyAccessDecider, emergencyAccessStreamId);
  const organisation = streamStateReader(deps, organisationDecider, organisationStreamId);
  return {
    current: streamStateReader(deps, consentDecider, consentStreamId),
    emergency: (tenantId, subjectId) => emergency(emergencyAccessKey(tenantId, subjectId)),
    membership: async (organisationId, sub) => membershipOf(await organisation(organisationId), sub),
  };
}

/**
 * The reader over the event store in `pool`, decrypting with the subjects' keys from the configured
 * key store (local or Vault; its rows in `pool`, crypto schema migrated). `close` closes the key store, not the pool.
 */
export function consentReaderOnPool(pool: pg.Pool, keyStore: KeyStoreConfig): { reader: ConsentReader; store: EventStore; codec: EventCodec; close(): Promise<void> } {
  const store = new PostgresEventStore({ pool });
  const keys = createKeyStore(keyStore, pool);
  const codec = new EventCodec(new PhiCodec(keys), eventRegistry);
  const reader = eventStoreConsentReader({ store, codec });
  return {
    reader,
    store,
    codec,
    close: async () => {
      await store.close();
      await keys.close();
    },
  };
}
