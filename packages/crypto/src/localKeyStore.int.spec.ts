import { randomBytes } from 'node:crypto';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CiphertextTamperedError, MasterKeyUnavailableError, SubjectKeyDestroyedError, SubjectKeyNotFoundError } from './errors';
import { LocalKeyStore, type KeyCacheOptions } from './localKeyStore';
import { masterKeyFromBytes, type MasterKey } from './masterKey';
import { migrateCryptoSchema } from './migrations';
import { keyStoreContract } from './testing/keyStoreContract';

let db: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
const masterKey = masterKeyFromBytes(randomBytes(32));
let subjectCounter = 0;
const stores: LocalKeyStore[] = [];

function newSubject(): string {
  subjectCounter += 1;
  return `subject-${subjectCounter}-${randomBytes(4).toString('hex')}`;
}

function store(options: { masterKey?: MasterKey; previousMasterKeys?: MasterKey[]; cache?: KeyCacheOptions } = {}): LocalKeyStore {
  const s = new LocalKeyStore({ pool, masterKey: options.masterKey ?? masterKey, ...options });
  stores.push(s);
  return s;
}

async function row(subjectId: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await pool.query<Record<string, unknown>>('SELECT * FROM crypto_subject_keys WHERE subject_id = $1', [subjectId]);
  return rows[0];
}

beforeAll(async () => {
  db = await testDatabase('crypto');
  pool = new pg.Pool({ connectionString: db.url, max: 10 });
  await migrateCryptoSchema(pool);
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await pool?.end();
  await db?.drop();
});

describe('crypto schema migrations', () => {
  it('are idempotent and keep their own migration table', async () => {
    await migrateCryptoSchema(pool);
    const { rows } = await pool.query<{ name: string }>('SELECT name FROM crypto_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(['0001_subject_keys']);
    const { rows: tables } = await pool.query<{ t: string | null }>("SELECT to_regclass('kysely_migration') AS t");
    expect(tables[0]?.t).toBeNull();
  });
});

keyStoreContract('LocalKeyStore on PostgreSQL', ({ cache }) => store(cache ? { cache } : {}));

describe('LocalKeyStore', () => {
  it('stores the data key only wrapped: the row never contains the raw key bytes', async () => {
    const subjectId = newSubject();
    const { key, keyId } = await store().getOrCreate(subjectId);
    expect(key).toHaveLength(32);
    const stored = await row(subjectId);
    expect(stored).toMatchObject({ key_id: keyId, master_key_id: masterKey.id, destroyed_at: null });
    const wrapped = stored?.wrapped_key as Buffer;
    expect(wrapped.indexOf(key)).toBe(-1);
    const { rows } = await pool.query<{ text: string }>('SELECT t::text AS text FROM crypto_subject_keys t WHERE subject_id = $1', [subjectId]);
    const text = rows[0]?.text ?? '';
    for (const encoding of ['hex', 'base64', 'base64url'] as const) expect(text).not.toContain(key.toString(encoding));
  });

  it('cannot unwrap keys with a different master key', async () => {
    const subjectId = newSubject();
    await store().getOrCreate(subjectId);
    const otherMaster = masterKeyFromBytes(randomBytes(32));
    const error: unknown = await store({ masterKey: otherMaster }).get(subjectId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MasterKeyUnavailableError);
    expect(error).toMatchObject({ code: 'MASTER_KEY_UNAVAILABLE', masterKeyId: masterKey.id });
  });

  it('detects a row relabelled to claim another master key as tampered', async () => {
    const subjectId = newSubject();
    await store().getOrCreate(subjectId);
    const otherMaster = masterKeyFromBytes(randomBytes(32));
    await pool.query('UPDATE crypto_subject_keys SET master_key_id = $2 WHERE subject_id = $1', [subjectId, otherMaster.id]);
    await expect(store({ masterKey: otherMaster }).get(subjectId)).rejects.toBeInstanceOf(CiphertextTamperedError);
  });

  it('detects a wrapped key copied onto another subject as tampered', async () => {
    const [victim, thief] = [newSubject(), newSubject()];
    await store().getOrCreate(victim);
    await store().getOrCreate(thief);
    await pool.query(
      'UPDATE crypto_subject_keys SET wrapped_key = (SELECT wrapped_key FROM crypto_subject_keys WHERE subject_id = $1) WHERE subject_id = $2',
      [victim, thief],
    );
    await expect(store().get(thief)).rejects.toBeInstanceOf(CiphertextTamperedError);
  });

  it('after a master key rotation, reads old rows with the previous key and re-wraps them under the new one', async () => {
    const subjectIds = Array.from({ length: 7 }, () => newSubject());
    const originals = await Promise.all(subjectIds.map((s) => store().getOrCreate(s)));
    const destroyed = newSubject();
    await store().getOrCreate(destroyed);
    await store().destroy(destroyed);
    const next = masterKeyFromBytes(randomBytes(32));
    const rotated = store({ masterKey: next, previousMasterKeys: [masterKey] });
    expect((await rotated.get(subjectIds[0] ?? '')).key.equals(originals[0]?.key ?? Buffer.alloc(0))).toBe(true);

    // Small batches, so the walk over several transactions is exercised.
    const result = await rotated.rewrapUnderCurrentMasterKey(3);

    expect(result.rewrapped).toBeGreaterThanOrEqual(subjectIds.length);
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM crypto_subject_keys WHERE master_key_id = $1', [masterKey.id]);
    // Only the rows that failed authentication (planted by the tamper tests) stay under the old key.
    expect(Number(rows[0]?.n)).toBe(result.unreadableSubjectIds.length);
    const onlyNew = store({ masterKey: next });
    for (const [i, s] of subjectIds.entries()) {
      expect(await row(s)).toMatchObject({ master_key_id: next.id });
      expect((await onlyNew.get(s)).key.equals(originals[i]?.key ?? Buffer.alloc(0))).toBe(true);
    }
    await expect(store({ masterKey }).get(subjectIds[0] ?? '')).rejects.toBeInstanceOf(MasterKeyUnavailableError);
    await expect(onlyNew.get(destroyed)).rejects.toBeInstanceOf(SubjectKeyDestroyedError);
  });

  it('leaves a row that fails authentication alone during a rotation and reports it', async () => {
    const [victim, thief] = [newSubject(), newSubject()];
    const old = masterKeyFromBytes(randomBytes(32));
    await store({ masterKey: old }).getOrCreate(victim);
    await store({ masterKey: old }).getOrCreate(thief);
    await pool.query(
      'UPDATE crypto_subject_keys SET wrapped_key = (SELECT wrapped_key FROM crypto_subject_keys WHERE subject_id = $1) WHERE subject_id = $2',
      [victim, thief],
    );
    const result = await store({ masterKey: masterKeyFromBytes(randomBytes(32)), previousMasterKeys: [old] }).rewrapUnderCurrentMasterKey();
    expect(result).toEqual({ rewrapped: 1, unreadableSubjectIds: [thief] });
    expect(await row(thief)).toMatchObject({ master_key_id: old.id });
  });

  it('wipes the wrapped key on destroy but keeps the row, so the subject reads as destroyed', async () => {
    const subjectId = newSubject();
    const { keyId } = await store().getOrCreate(subjectId);
    await store().destroy(subjectId);
    await store().destroy(subjectId);
    const stored = await row(subjectId);
    expect(stored).toMatchObject({ key_id: keyId, wrapped_key: null, master_key_id: null });
    expect(stored?.destroyed_at).toBeInstanceOf(Date);
  });

  it('keeps at most maxEntries keys in memory, evicting the least recently used', async () => {
    const keys = store({ cache: { maxEntries: 3, ttlMs: 3_600_000 } });
    const subjects = Array.from({ length: 5 }, () => newSubject());
    for (const s of subjects) await keys.getOrCreate(s);
    expect(keys.cachedKeyCount).toBe(3);
    // With the rows gone, only what is still cached can be served.
    await pool.query('DELETE FROM crypto_subject_keys WHERE subject_id = ANY($1)', [subjects]);
    for (const s of subjects.slice(2)) await expect(keys.get(s)).resolves.toMatchObject({ subjectId: s });
    for (const s of subjects.slice(0, 2)) await expect(keys.get(s)).rejects.toBeInstanceOf(SubjectKeyNotFoundError);
  });
});
