import { randomBytes, randomUUID } from 'node:crypto';
import { LocalKeyStore, PhiCodec, masterKeyFromBytes, migrateCryptoSchema } from '@fitledger/crypto';
import { eventRegistry, type EventEnvelope } from '@fitledger/domain';
import { PostgresEventStore, migrateEventStore } from '@fitledger/event-store';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec } from './eventCodec';

describe('EventCodec with the PostgreSQL store and local key store', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let pool: pg.Pool;
  let store: PostgresEventStore;
  let keys: LocalKeyStore;
  let codec: EventCodec;

  beforeAll(async () => {
    db = await testDatabase('codec');
    pool = new pg.Pool({ connectionString: db.url, max: 5 });
    await migrateEventStore(pool);
    await migrateCryptoSchema(pool);
    keys = new LocalKeyStore({ pool, masterKey: masterKeyFromBytes(randomBytes(32)) });
    store = new PostgresEventStore({ pool });
    codec = new EventCodec(new PhiCodec(keys), eventRegistry);
  });
  afterAll(async () => {
    await store.close();
    await keys.close();
    await pool.end();
    await db.drop();
  });

  function setLogged(subjectId: string, workoutId: string, notes: string): EventEnvelope {
    return {
      eventId: randomUUID(),
      type: 'SetLogged',
      schemaVersion: 1,
      streamId: `workout-${workoutId}`,
      data: {
        workoutId,
        setId: randomUUID(),
        occurredAt: '2026-03-03T07:21:40.000Z',
        exerciseId: randomUUID(),
        reps: 7,
        load: { value: 143.5, unit: 'kg' },
        loadKg: 143.5,
        warmUp: false,
        toFailure: false,
        notes,
      },
      metadata: { tenantId: 'tenant-a', subjectId, actor: { sub: subjectId, role: 'client' }, source: { kind: 'manual' }, correlationId: randomUUID() },
    };
  }

  it('stores health data encrypted from the first append and reads it back decrypted', async () => {
    const subjectId = randomUUID();
    const workoutId = randomUUID();
    const secretNote = `knee pain ${randomUUID()}`;
    const envelope = setLogged(subjectId, workoutId, secretNote);
    await store.appendToStream(envelope.streamId, [await codec.encode(envelope)], { expectedRevision: 'no-stream' });

    const raw = await pool.query<{ row: string }>('SELECT row_to_json(e)::text AS row FROM es_events e WHERE stream_id = $1', [envelope.streamId]);
    expect(raw.rows).toHaveLength(1);
    const stored = raw.rows[0]?.row ?? '';
    expect(stored).not.toContain(secretNote);
    expect(stored).not.toContain('2026-03-03T07:21:40');
    expect(stored).not.toContain('143.5');
    expect(stored).toContain(workoutId); // opaque ids stay readable for routing

    const [decoded] = await codec.decodeAll(await store.readStream(envelope.streamId));
    expect(decoded?.erased).toBeFalsy();
    expect(decoded && !decoded.erased ? decoded.data : undefined).toEqual(envelope.data);
  });

  it('recognises a retried append of the same event as a duplicate although the ciphertext differs', async () => {
    const subjectId = randomUUID();
    const envelope = setLogged(subjectId, randomUUID(), 'same');
    const first = await codec.encode(envelope);
    const retry = await codec.encode(envelope);
    expect(retry.data).not.toEqual(first.data);
    await store.appendToStream(envelope.streamId, [first]);
    const again = await store.appendToStream(envelope.streamId, [retry]);
    expect(again.duplicate).toBe(true);
  });

  it('returns erased events without data once the subject key is destroyed', async () => {
    const subjectId = randomUUID();
    const envelope = setLogged(subjectId, randomUUID(), 'to be forgotten');
    await store.appendToStream(envelope.streamId, [await codec.encode(envelope)]);
    await keys.destroy(subjectId);
    const [decoded] = await codec.decodeAll(await store.readStream(envelope.streamId));
    expect(decoded).toMatchObject({ erased: true, type: 'SetLogged', eventId: envelope.eventId });
    expect(decoded && 'data' in decoded).toBe(false);
    await expect(codec.encode(setLogged(subjectId, randomUUID(), 'new data after erasure'))).rejects.toMatchObject({ code: 'SUBJECT_KEY_DESTROYED' });
  });
});
