import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyStore, loadKeyStoreConfig, masterKeyId, PhiCodec, type KeyStore } from '@fitledger/crypto';
import { eventRegistry } from '@fitledger/domain';
import { EventCodec } from '@fitledger/event-codec';
import { PostgresEventStore } from '@fitledger/event-store';
import { loadProjectionsConfig, openProjectionsService, workoutsProjection, WORKOUTS_PROJECTION } from '@fitledger/projections';
import { signTestToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, startCommandService, type RunningCommandService } from './app';

// The command service as main.ts and `npm start` start it (loadConfig → startCommandService), with
// the key store its environment configures.

const EXERCISE = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';

async function call(service: RunningCommandService, token: string, url: string, body: object): Promise<{ status: number; json: Record<string, string> }> {
  const response = await service.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  return { status: response.statusCode, json: response.json<Record<string, string>>() };
}

/** An access token of the dev provider for a fresh subject (a client of the demo tenant, as alice is). */
async function tokenFor(oidc: DevOidcProvider, sub: string): Promise<string> {
  return signTestToken({ ...oidc.accessTokenClaims('alice'), sub }, { privateKey: oidc.signingKey });
}

async function masterKeyIdOf(pool: pg.Pool, subjectId: string): Promise<string | null | undefined> {
  const { rows } = await pool.query<{ master_key_id: string | null }>('SELECT master_key_id FROM crypto_subject_keys WHERE subject_id = $1', [subjectId]);
  return rows[0]?.master_key_id;
}

describe('command service on its configured key store', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let oidc: DevOidcProvider;
  const services: RunningCommandService[] = [];

  beforeAll(async () => {
    db = await testDatabase('cmdkeystore');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    oidc = await startDevOidcProvider();
  });

  afterAll(async () => {
    for (const s of services) await s.close();
    await oidc?.close();
    await pool?.end();
    await db?.drop();
  });

  async function start(keyStoreEnv: Record<string, string | undefined>): Promise<RunningCommandService> {
    const config = loadConfig({ DATABASE_URL: db.url, OIDC_ISSUER: oidc.issuer, OIDC_AUDIENCE: oidc.audience, PORT: '0', LOG_LEVEL: 'silent', ...keyStoreEnv });
    const service = await startCommandService(config, { pseudonymSecret: randomBytes(32) });
    services.push(service);
    return service;
  }

  // Runs only against a real Vault (or OpenBao): the int tier starts a dev server when its CLI is installed (packages/crypto/VAULT.md).
  describe.skipIf(!process.env['VAULT_ADDR'])('KEY_STORE=vault', () => {
    const subject = randomUUID();
    let vaultKeys: KeyStore | undefined;

    afterAll(async () => {
      // Deletes the subject's Transit key: the suite leaves no keys behind in the Vault.
      await vaultKeys?.destroy(subject);
      await vaultKeys?.close();
    });

    it('seals a logged workout under a data key wrapped by Vault Transit', async () => {
      const vaultEnv = { KEY_STORE: 'vault', VAULT_ADDR: process.env['VAULT_ADDR'], VAULT_TOKEN: process.env['VAULT_TOKEN'], VAULT_TRANSIT_MOUNT: process.env['VAULT_TRANSIT_MOUNT'] };
      const service = await start(vaultEnv);
      const token = await tokenFor(oidc, subject);
      const created = await call(service, token, '/api/v1/workouts', { start: true, title: 'Vault leg day' });
      expect(created.status).toBe(201);
      const workoutId = created.json['workoutId'] ?? '';
      expect((await call(service, token, `/api/v1/workouts/${workoutId}/sets`, { set: { exerciseId: EXERCISE, reps: 5, load: { value: 140, unit: 'kg' }, notes: 'deep squat' } })).status).toBe(201);

      const mount = (process.env['VAULT_TRANSIT_MOUNT'] ?? '').trim() || 'transit';
      expect(await masterKeyIdOf(pool, subject)).toMatch(new RegExp(`^vault-transit:${mount}/`));
      // The PHI is in the ciphertext only.
      const { rows } = await pool.query<{ data: unknown }>('SELECT data FROM es_events WHERE stream_id = $1 ORDER BY revision', [`workout-${workoutId}`]);
      expect(rows).toHaveLength(2);
      expect(JSON.stringify(rows)).not.toMatch(/Vault leg day|deep squat/);
      // Another Vault-backed key store (a fresh process's) opens it; the local adapter cannot.
      vaultKeys = createKeyStore(loadKeyStoreConfig(vaultEnv), pool);
      const store = new PostgresEventStore({ pool });
      const decoded = await new EventCodec(new PhiCodec(vaultKeys), eventRegistry).decodeAll(await store.readStream(`workout-${workoutId}`));
      expect(decoded.map((e) => (e.erased ? undefined : e.data))).toMatchObject([{ title: 'Vault leg day' }, { notes: 'deep squat', reps: 5 }]);
      const local = createKeyStore(loadKeyStoreConfig({ FITLEDGER_MASTER_KEY: randomBytes(32).toString('base64') }), pool);
      await expect(local.get(subject)).rejects.toMatchObject({ code: 'MASTER_KEY_UNAVAILABLE' });
      await local.close();
      await store.close();
    });
  });

  describe('KEY_STORE=local in the middle of a master key rotation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fitledger-rotation-'));
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const oldFile = join(dir, 'master.previous.key');
    const newFile = join(dir, 'master.key');
    writeFileSync(oldFile, `${oldKey.toString('base64')}\n`, { mode: 0o600 });
    writeFileSync(newFile, `${newKey.toString('base64')}\n`, { mode: 0o600 });
    const client = randomUUID();
    let workoutId = '';

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    beforeAll(async () => {
      // Before the rotation: the old key is current.
      const before = await start({ FITLEDGER_MASTER_KEY_FILE: oldFile });
      const token = await tokenFor(oidc, client);
      const created = await call(before, token, '/api/v1/workouts', { start: true, title: 'Before the rotation' });
      expect(created.status).toBe(201);
      workoutId = created.json['workoutId'] ?? '';
      expect(await masterKeyIdOf(pool, client)).toBe(masterKeyId(oldKey));
      await before.close();
    });

    it('without the previous key the service cannot open data keys wrapped under it (control)', async () => {
      const newOnly = await start({ FITLEDGER_MASTER_KEY_FILE: newFile });
      const logged = await call(newOnly, await tokenFor(oidc, client), `/api/v1/workouts/${workoutId}/sets`, { set: { exerciseId: EXERCISE, reps: 3, load: { value: 50, unit: 'kg' } } });
      expect(logged.status).toBeGreaterThanOrEqual(500);
      await newOnly.close();
    });

    it('with FITLEDGER_PREVIOUS_MASTER_KEY_FILES the command service and the projections read data written under the old key and wrap new subjects under the new one', async () => {
      const rotationEnv = { FITLEDGER_MASTER_KEY_FILE: newFile, FITLEDGER_PREVIOUS_MASTER_KEY_FILES: oldFile };
      const service = await start(rotationEnv);
      const logged = await call(service, await tokenFor(oidc, client), `/api/v1/workouts/${workoutId}/sets`, { set: { exerciseId: EXERCISE, reps: 3, load: { value: 50, unit: 'kg' } } });
      expect(logged.status).toBe(201);
      // Not re-wrapped by reading: that is `keys:rotate-master rewrap`'s job.
      expect(await masterKeyIdOf(pool, client)).toBe(masterKeyId(oldKey));
      const newcomer = randomUUID();
      expect((await call(service, await tokenFor(oidc, newcomer), '/api/v1/workouts', { start: true, title: 'After the rotation' })).status).toBe(201);
      expect(await masterKeyIdOf(pool, newcomer)).toBe(masterKeyId(newKey));

      const projections = await openProjectionsService(loadProjectionsConfig({ DATABASE_URL: db.url, ...rotationEnv }), { projections: [workoutsProjection()] });
      try {
        projections.runner.start();
        await projections.runner.waitForPosition(WORKOUTS_PROJECTION, logged.json['position'] as Parameters<typeof projections.runner.waitForPosition>[1]);
      } finally {
        await projections.close();
      }
      const { rows } = await pool.query<{ title: string; sets: number }>(
        'SELECT w.title, (SELECT count(*)::int FROM rm_workout_sets s WHERE s.workout_id = w.workout_id) AS sets FROM rm_workouts w WHERE w.workout_id = $1',
        [workoutId],
      );
      expect(rows).toEqual([{ title: 'Before the rotation', sets: 1 }]);
    });
  });
});
