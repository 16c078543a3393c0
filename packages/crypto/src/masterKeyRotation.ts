import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { CryptoError } from './errors';
import { LocalKeyStore } from './localKeyStore';
import {
  generateMasterKeyBase64,
  loadMasterKey,
  loadMasterKeyRing,
  MASTER_KEY_ENV,
  MASTER_KEY_FILE_ENV,
  PREVIOUS_MASTER_KEY_FILES_ENV,
  type MasterKey,
  type MasterKeyRing,
} from './masterKey';

type Env = Readonly<Record<string, string | undefined>>;

/** Where the rotation CLI writes: lines for people, on stdout and stderr. */
export interface RotationIo {
  out(line: string): void;
  err(line: string): void;
}

/** The key files of the local layout: `master.key`, and beside it the staged and the previous key. */
export interface MasterKeyFiles {
  readonly current: string;
  /** Staged by `stage`, becomes current on `promote`. */
  readonly next: string;
  /** The old current key after `promote`, until `retire` deletes it. */
  readonly previous: string;
}

export const ROTATION_USAGE = `usage: npm run keys:rotate-master -- <step> [--batch-size N]

Rotates the master key of the local key store without downtime. Steps, in order:
  stage     write a new random key to master.next.key beside the current key file.
            Deploy it to every instance as an unwrap-only key (FITLEDGER_PREVIOUS_MASTER_KEY_FILES)
            and restart them: from then on every instance can read rows wrapped under it.
  promote   master.key becomes master.previous.key, master.next.key becomes master.key (without
            a staged key one is generated here: only safe where all instances restart together,
            as with npm start). Deploy current=new, previous=[old] everywhere and restart.
  rewrap    re-wrap every live subject key still under an unwrap-only key with the current key,
            in short transactions of --batch-size rows (default 500), while services run.
  retire    check that no live subject key is left under the previous key, then delete
            master.previous.key. Remove it from every instance's configuration.
  status    show the key files and how many live subject keys each master key wraps.

Environment: FITLEDGER_MASTER_KEY_FILE (default: $FITLEDGER_STATE_DIR/master.key, i.e.
.fitledger/master.key), FITLEDGER_PREVIOUS_MASTER_KEYS / FITLEDGER_PREVIOUS_MASTER_KEY_FILES (extra
unwrap-only keys), DATABASE_URL (rewrap, retire, status). Runbook: packages/crypto/MASTER_KEY_ROTATION.md`;

/** The local layout's files, from FITLEDGER_MASTER_KEY_FILE or the `npm start` default; undefined when the key is given inline. */
export function masterKeyFiles(env: Env, cwd = process.cwd()): MasterKeyFiles | undefined {
  const configured = env[MASTER_KEY_FILE_ENV];
  if ((configured === undefined || configured === '') && env[MASTER_KEY_ENV]) return undefined;
  // The default mirrors infra/src/localState.ts (localPaths): $FITLEDGER_STATE_DIR or ./.fitledger.
  const current = resolve(cwd, configured || join(env['FITLEDGER_STATE_DIR'] ?? '.fitledger', 'master.key'));
  const stem = basename(current).replace(/\.key$/, '');
  return { current, next: join(dirname(current), `${stem}.next.key`), previous: join(dirname(current), `${stem}.previous.key`) };
}

/**
 * The keys the CLI works with: what a service would load from `env`, with the current key read
 * from the layout's file, and the layout's previous and staged files (where present) added as
 * unwrap-only keys.
 */
export function rotationKeyRing(env: Env, files: MasterKeyFiles | undefined): MasterKeyRing {
  if (files === undefined) return loadMasterKeyRing(env);
  const extra = [files.previous, files.next].filter((f) => existsSync(f));
  const listed = env[PREVIOUS_MASTER_KEY_FILES_ENV] ?? '';
  return loadMasterKeyRing({
    ...env,
    [MASTER_KEY_ENV]: undefined,
    [MASTER_KEY_FILE_ENV]: files.current,
    [PREVIOUS_MASTER_KEY_FILES_ENV]: [listed, ...extra].filter((s) => s !== '').join(','),
  });
}

/** Runs one step of the rotation (argv as after `--`). Returns the exit code: 0 done, 1 refused or failed, 2 usage. */
export async function runMasterKeyRotation(argv: readonly string[], env: Env, io: RotationIo, cwd = process.cwd()): Promise<number> {
  const [step, ...rest] = argv;
  let batchSize = 500;
  for (let i = 0; i < rest.length; i += 1) {
    if (rest[i] === '--batch-size' && step === 'rewrap') {
      batchSize = Number(rest[i + 1]);
      i += 1;
      if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
        io.err('--batch-size must be a positive integer');
        return 2;
      }
    } else {
      io.err(ROTATION_USAGE);
      return 2;
    }
  }
  try {
    switch (step) {
      case 'stage':
        return stage(env, io, cwd);
      case 'promote':
        return promote(env, io, cwd);
      case 'rewrap':
        return await rewrap(env, io, cwd, batchSize);
      case 'retire':
        return await retire(env, io, cwd);
      case 'status':
        return await status(env, io, cwd);
      case undefined:
      default:
        io.err(ROTATION_USAGE);
        return 2;
    }
  } catch (error) {
    // Our errors name variables and key ids, never key material.
    if (error instanceof CryptoError || error instanceof RotationRefusedError) {
      io.err(error.message);
      return 1;
    }
    throw error;
  }
}

class RotationRefusedError extends Error {}

function requireFiles(env: Env, cwd: string, step: string): MasterKeyFiles {
  const files = masterKeyFiles(env, cwd);
  if (files === undefined) {
    throw new RotationRefusedError(
      `${step} works on key files: set ${MASTER_KEY_FILE_ENV} instead of ${MASTER_KEY_ENV} (or stage the new key in your secret store and use rewrap, status and retire)`,
    );
  }
  if (!existsSync(files.current)) throw new RotationRefusedError(`no current master key at ${files.current}: nothing to rotate`);
  return files;
}

function readKeyFile(path: string): MasterKey {
  return loadMasterKey({ [MASTER_KEY_FILE_ENV]: path });
}

function stage(env: Env, io: RotationIo, cwd: string): number {
  const files = requireFiles(env, cwd, 'stage');
  if (existsSync(files.previous)) {
    throw new RotationRefusedError(`a rotation is still in progress (${files.previous} exists): finish it with rewrap and retire first`);
  }
  if (existsSync(files.next)) throw new RotationRefusedError(`a key is already staged: ${files.next} (master key ${readKeyFile(files.next).id})`);
  const next = writeNewKeyFile(files.next);
  io.out(`staged master key ${next.id} in ${files.next} (current: ${readKeyFile(files.current).id})`);
  io.out(`next: give every instance ${PREVIOUS_MASTER_KEY_FILES_ENV}=${files.next} (unwrap-only), restart them all, then run promote`);
  return 0;
}

function promote(env: Env, io: RotationIo, cwd: string): number {
  const files = requireFiles(env, cwd, 'promote');
  if (existsSync(files.previous)) {
    throw new RotationRefusedError(`a rotation is still in progress (${files.previous} exists): finish it with rewrap and retire first`);
  }
  const old = readKeyFile(files.current);
  let next: MasterKey;
  if (existsSync(files.next)) {
    next = readKeyFile(files.next);
    if (next.id === old.id) throw new RotationRefusedError(`${files.next} holds the current key ${old.id}: nothing to promote`);
  } else {
    next = writeNewKeyFile(files.next);
    io.out(`no staged key: generated master key ${next.id} (safe only if every instance restarts at once, e.g. npm start)`);
  }
  // A hard link first, then an atomic rename over the current file: at no moment is there no
  // master.key (which `npm start` would replace with a fresh random key).
  linkSync(files.current, files.previous);
  chmodSync(files.previous, 0o600);
  renameSync(files.next, files.current);
  fsyncDirectory(dirname(files.current));
  io.out(`promoted master key ${next.id} to ${files.current}; the old key ${old.id} is now ${files.previous}`);
  io.out(`next: give every instance current=${files.current}, ${PREVIOUS_MASTER_KEY_FILES_ENV}=${files.previous}, restart them all, then run rewrap`);
  return 0;
}

async function rewrap(env: Env, io: RotationIo, cwd: string, batchSize: number): Promise<number> {
  const ring = rotationKeyRing(env, masterKeyFiles(env, cwd));
  return withPool(env, async (pool) => {
    const store = new LocalKeyStore({ pool, masterKey: ring.current, previousMasterKeys: ring.previous });
    try {
      io.out(`re-wrapping under master key ${ring.current.id} the live keys under ${ring.previous.map((k) => k.id).join(', ') || '(no unwrap-only key configured)'}`);
      const result = await store.rewrapUnderCurrentMasterKey(batchSize, (p) => io.out(`  ${p.rewrapped} re-wrapped so far${p.unreadable ? `, ${p.unreadable} unreadable` : ''}`));
      io.out(`re-wrapped ${result.rewrapped} subject keys`);
      await printCounts(pool, ring, io);
      if (result.unreadableSubjectIds.length > 0) {
        io.err(`${result.unreadableSubjectIds.length} rows failed authentication and were left unchanged (investigate: tampering?): ${result.unreadableSubjectIds.join(', ')}`);
        return 1;
      }
      return 0;
    } finally {
      await store.close();
    }
  });
}

async function retire(env: Env, io: RotationIo, cwd: string): Promise<number> {
  const files = masterKeyFiles(env, cwd);
  const ring = rotationKeyRing(env, files);
  const staged = files && existsSync(files.next) ? readKeyFile(files.next).id : undefined;
  const retiring = ring.previous.filter((k) => k.id !== staged);
  if (retiring.length === 0) throw new RotationRefusedError('no previous master key to retire');
  return withPool(env, async (pool) => {
    const counts = await liveCounts(pool);
    const left = retiring.filter((k) => (counts.get(k.id) ?? 0) > 0);
    if (left.length > 0) {
      for (const k of left) io.err(`${counts.get(k.id)} live subject keys are still wrapped under master key ${k.id}: run rewrap first`);
      return 1;
    }
    if (files && existsSync(files.previous)) {
      const id = readKeyFile(files.previous).id;
      shred(files.previous);
      io.out(`deleted ${files.previous} (master key ${id})`);
    }
    io.out(`no live subject key depends on ${retiring.map((k) => k.id).join(', ')} any more: remove it from every instance's ${PREVIOUS_MASTER_KEY_FILES_ENV} / FITLEDGER_PREVIOUS_MASTER_KEYS`);
    return 0;
  });
}

async function status(env: Env, io: RotationIo, cwd: string): Promise<number> {
  const files = masterKeyFiles(env, cwd);
  if (files) {
    for (const [label, path] of [['current', files.current], ['staged', files.next], ['previous', files.previous]] as const) {
      io.out(`${label.padEnd(8)} ${existsSync(path) ? `${readKeyFile(path).id}  ${path}` : `-  (no ${basename(path)})`}`);
    }
  }
  if (!env['DATABASE_URL']) {
    io.out('DATABASE_URL is not set: no counts');
    return 0;
  }
  const ring = rotationKeyRing(env, files);
  return withPool(env, async (pool) => {
    await printCounts(pool, ring, io);
    return 0;
  });
}

async function printCounts(pool: pg.Pool, ring: MasterKeyRing, io: RotationIo): Promise<void> {
  const counts = await liveCounts(pool);
  const previous = new Set(ring.previous.map((k) => k.id));
  for (const [id, n] of counts) {
    const role = id === ring.current.id ? 'current' : previous.has(id) ? 'unwrap-only' : id.startsWith('vault-transit:') ? 'vault' : 'UNKNOWN key: not configured';
    io.out(`live subject keys under ${id}: ${n} (${role})`);
  }
  if (counts.size === 0) io.out('no live subject keys');
}

/** Live (not destroyed) rows per wrapping key id. */
async function liveCounts(pool: pg.Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ master_key_id: string; n: string }>(
    `SELECT master_key_id, count(*) AS n FROM crypto_subject_keys WHERE destroyed_at IS NULL GROUP BY master_key_id ORDER BY master_key_id`,
  );
  return new Map(rows.map((r) => [r.master_key_id, Number(r.n)]));
}

async function withPool<T>(env: Env, run: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const url = env['DATABASE_URL'];
  if (!url) throw new RotationRefusedError('DATABASE_URL is not set');
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    return await run(pool);
  } finally {
    await pool.end();
  }
}

/** A new random key in a new file (never over an existing one), mode 0600, synced to disk. */
function writeNewKeyFile(path: string): MasterKey {
  const text = generateMasterKeyBase64();
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${text}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDirectory(dirname(path));
  return readKeyFile(path);
}

/** Overwrites the file before unlinking it (best effort: copy-on-write file systems and SSDs may keep old blocks). */
function shred(path: string): void {
  const { size } = statSync(path);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(size), 0, size, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
  fsyncDirectory(dirname(path));
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
