import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterKeyUnavailableError, SubjectKeyDestroyedError } from './errors';
import type { KeyStore } from './keyStore';
import { createKeyStore, loadKeyStoreConfig } from './keyStoreConfig';
import { masterKeyFromBytes } from './masterKey';
import { runMasterKeyRotation } from './masterKeyRotation';
import { migrateCryptoSchema } from './migrations';
import { PhiCodec, type SealedData } from './phiCodec';

let db: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let dir: string;
const stores: KeyStore[] = [];

beforeAll(async () => {
  db = await testDatabase('cryptorotation');
  pool = new pg.Pool({ connectionString: db.url, max: 10 });
  await migrateCryptoSchema(pool);
  dir = mkdtempSync(join(tmpdir(), 'fitledger-rotation-'));
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await pool?.end();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A key store configured the way a service is: from its environment. */
function service(env: Record<string, string>): KeyStore {
  const keys = createKeyStore(loadKeyStoreConfig(env), pool);
  stores.push(keys);
  return keys;
}

async function rotate(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runMasterKeyRotation(argv, { FITLEDGER_MASTER_KEY_FILE: join(dir, 'master.key'), DATABASE_URL: db.url }, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function keyIdOf(file: string): string {
  return masterKeyFromBytes(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).id;
}

async function liveWrappingIds(): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    'SELECT DISTINCT master_key_id AS id FROM crypto_subject_keys WHERE destroyed_at IS NULL ORDER BY 1',
  );
  return rows.map((r) => r.id);
}

const open = (keys: KeyStore, subjectId: string, sealed: SealedData) => new PhiCodec(keys).open(subjectId, 'BodyMetricRecorded', 1, sealed.data);

describe('master key rotation (npm run keys:rotate-master)', () => {
  it('rotates while services run: every subject stays readable, every row ends under the new key, erased subjects stay erased', async () => {
    const current = join(dir, 'master.key');
    const [next, previous] = [join(dir, 'master.next.key'), join(dir, 'master.previous.key')];
    // As `npm start` leaves it on the first start (infra/src/localState.ts), but readable by others
    // (a hand-made file): the rotation must not spread that to the files it makes.
    writeFileSync(current, `${randomBytes(32).toString('base64')}\n`, { mode: 0o644 });
    const oldId = keyIdOf(current);

    // Before: a service on the old key alone writes PHI for 30 subjects; 3 of them are erased.
    const before = service({ FITLEDGER_MASTER_KEY_FILE: current });
    const sealed = new Map<string, SealedData>();
    for (let i = 0; i < 30; i += 1) {
      const subjectId = `rot-${i}-${randomBytes(4).toString('hex')}`;
      sealed.set(subjectId, await new PhiCodec(before).seal(subjectId, 'BodyMetricRecorded', 1, { metricId: `m-${i}`, weightKg: 70 + i }, ['metricId']));
    }
    const erased = [...sealed.keys()].slice(0, 3);
    for (const s of erased) await before.destroy(s);
    const live = [...sealed.keys()].slice(3);

    // 1. stage: a new key beside the current one, which every instance learns as unwrap-only.
    expect(await rotate('stage')).toMatchObject({ code: 0 });
    const newId = keyIdOf(next);
    expect(newId).not.toBe(oldId);
    expect(statSync(next).mode & 0o777).toBe(0o600);
    expect(keyIdOf(current)).toBe(oldId);
    const staged = service({ FITLEDGER_MASTER_KEY_FILE: current, FITLEDGER_PREVIOUS_MASTER_KEY_FILES: next });

    // 2. promote: the new key wraps from now on; the old one stays as previous.
    expect(await rotate('promote')).toMatchObject({ code: 0 });
    expect(keyIdOf(current)).toBe(newId);
    expect(keyIdOf(previous)).toBe(oldId);
    expect(statSync(previous).mode & 0o777).toBe(0o600);
    expect(existsSync(next)).toBe(false);
    expect(await rotate('stage')).toMatchObject({ code: 1, err: expect.stringContaining('still in progress') as unknown });
    const promoted = service({ FITLEDGER_MASTER_KEY_FILE: current, FITLEDGER_PREVIOUS_MASTER_KEY_FILES: previous });
    const late = `rot-late-${randomBytes(4).toString('hex')}`;
    sealed.set(late, await new PhiCodec(promoted).seal(late, 'BodyMetricRecorded', 1, { metricId: 'm-late', weightKg: 99 }, ['metricId']));
    live.push(late);
    // An instance still on the staged config reads what a promoted one wrote; one on the old key alone could not.
    expect(await open(staged, late, sealed.get(late) as SealedData)).toEqual({ metricId: 'm-late', weightKg: 99 });
    await expect(open(service({ FITLEDGER_MASTER_KEY_FILE: previous }), late, sealed.get(late) as SealedData)).rejects.toBeInstanceOf(
      MasterKeyUnavailableError,
    );
    // Retiring before the re-wrap is refused: rows still depend on the old key.
    expect(await rotate('retire')).toMatchObject({ code: 1, err: expect.stringContaining(oldId) as unknown });
    expect(existsSync(previous)).toBe(true);

    // 3. rewrap, in batches of 4, while the services keep serving.
    const rewrap = await rotate('rewrap', '--batch-size', '4');
    expect(rewrap.code).toBe(0);
    expect(rewrap.out).toContain('re-wrapped 27 subject keys');
    expect(await liveWrappingIds()).toEqual([newId]);
    for (const s of live) expect(await open(staged, s, sealed.get(s) as SealedData)).toMatchObject({ metricId: expect.any(String) as unknown });

    // 4. retire: the old key file goes away.
    expect(await rotate('retire')).toMatchObject({ code: 0 });
    expect(existsSync(previous)).toBe(false);

    // After: a store given only the new key reads every live subject; the erased stay erased.
    const after = service({ FITLEDGER_MASTER_KEY_FILE: current });
    for (const [i, s] of [...sealed.keys()].entries()) {
      if (erased.includes(s)) {
        await expect(open(after, s, sealed.get(s) as SealedData)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
        await expect(after.getOrCreate(s)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
      } else {
        expect(await open(after, s, sealed.get(s) as SealedData)).toEqual(s === late ? { metricId: 'm-late', weightKg: 99 } : { metricId: `m-${i}`, weightKg: 70 + i });
      }
    }
    const { rows } = await pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM crypto_subject_keys WHERE subject_id = ANY($1) AND destroyed_at IS NOT NULL AND wrapped_key IS NULL',
      [erased],
    );
    expect(rows[0]?.n).toBe('3');
    expect((await rotate('status')).out).toContain(`live subject keys under ${newId}: 28 (current)`);
  });

  it('refuses unknown steps and options with the usage', async () => {
    for (const argv of [[], ['spin'], ['rewrap', '--batch-size', '0'], ['stage', '--force']]) {
      const result = await rotate(...argv);
      expect(result.code).toBe(2);
      expect(result.err).not.toBe('');
    }
  });

  it('runs as the npm script does, through tsx', async () => {
    const root = resolve(import.meta.dirname, '../../..');
    const stateDir = mkdtempSync(join(dir, 'state-'));
    writeFileSync(join(stateDir, 'master.key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    // The default location, as `npm start` lays it out: $FITLEDGER_STATE_DIR/master.key.
    const { FITLEDGER_MASTER_KEY: _, FITLEDGER_MASTER_KEY_FILE: __, ...env } = process.env;
    const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/tsx'), ['packages/crypto/src/cli/rotateMasterKey.ts', 'status'], {
      cwd: root,
      env: { ...env, FITLEDGER_STATE_DIR: stateDir, DATABASE_URL: db.url },
    });
    expect(stdout).toContain(`current  ${keyIdOf(join(stateDir, 'master.key'))}`);
    expect(stdout).toMatch(/live subject keys|no live subject keys/);
  });
});
