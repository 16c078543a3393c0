import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { LocalKeyStore, PhiCodec, masterKeyFromBytes, migrateCryptoSchema, type JsonObject } from '@fitledger/crypto';
import { eventRegistry } from '@fitledger/domain';
import { createDatabase, type PostgresServerInfo } from '@fitledger/testing';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Cost of sealing one SetLogged event (PHI fields into one AES-256-GCM token plus the keyed content
 * digest) and of opening it again, through the production PhiCodec and LocalKeyStore (keys cached).
 */
export async function measureEncryption(server: PostgresServerInfo, events: number): Promise<{ encryptMicros: number; decryptMicros: number; events: number }> {
  const db = await createDatabase(server, 'bench_crypto');
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  await migrateCryptoSchema(pool);
  const keys = new LocalKeyStore({ pool, masterKey: masterKeyFromBytes(randomBytes(32)) });
  const codec = new PhiCodec(keys);
  const fixture = JSON.parse(readFileSync(join(here, '../../packages/domain/fixtures/events/SetLogged.v1.json'), 'utf8')) as { data: JsonObject };
  const plainFields = eventRegistry.plainFields('SetLogged');
  const subjects = Array.from({ length: 100 }, () => randomUUID());
  for (const s of subjects) await keys.getOrCreate(s);
  const inputs = Array.from({ length: events }, (_, i) => ({ subject: subjects[i % subjects.length] as string, data: { ...fixture.data, setId: randomUUID(), reps: 1 + (i % 12) } }));

  const t0 = process.hrtime.bigint();
  const sealed: JsonObject[] = [];
  for (const input of inputs) sealed.push((await codec.seal(input.subject, 'SetLogged', 1, input.data, plainFields)).data);
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < sealed.length; i++) await codec.open((inputs[i] as { subject: string }).subject, 'SetLogged', 1, sealed[i] as JsonObject);
  const t2 = process.hrtime.bigint();

  await keys.close();
  await pool.end();
  return { encryptMicros: Number(t1 - t0) / 1e3 / events, decryptMicros: Number(t2 - t1) / 1e3 / events, events };
}
