import { createHash, randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, parse, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { masterKeyFiles, MASTER_KEY_FILE_ENV } from '@fitledger/crypto';

/** Where `npm start` keeps its state between runs (PostgreSQL data, keys, URLs). */
export interface LocalPaths {
  readonly stateDir: string;
  readonly pgDataDir: string;
  readonly masterKeyFile: string;
  /** FITLEDGER_SESSION_SECRET of query-service's browser login (encrypts session tokens, keys CSRF tokens). */
  readonly sessionSecretFile: string;
  /** AUDIT_PSEUDONYM_KEY of the access log (keyed subject pseudonyms). */
  readonly pseudonymSecretFile: string;
  /** AUDIT_SIGNING_KEY_FILE: the audit checkpoints' Ed25519 signing key. */
  readonly auditSigningKeyFile: string;
  /** AUDIT_PUBLIC_KEYS_FILE: the published verifier keys, for `npm run audit:verify`. */
  readonly auditPublicKeysFile: string;
  /** AUDIT_CHECKPOINT_DIR: the signed checkpoints, outside the database. */
  readonly auditCheckpointDir: string;
  readonly oidcKeyFile: string;
  readonly runtimeFile: string;
}

export function localPaths(root = process.cwd(), env: NodeJS.ProcessEnv = process.env): LocalPaths {
  const stateDir = resolve(env['FITLEDGER_STATE_DIR'] ?? join(root, '.fitledger'));
  return {
    stateDir,
    pgDataDir: postgresDataDir(stateDir),
    masterKeyFile: join(stateDir, 'master.key'),
    sessionSecretFile: join(stateDir, 'session.secret'),
    pseudonymSecretFile: join(stateDir, 'audit-pseudonym.key'),
    auditSigningKeyFile: join(stateDir, 'audit', 'signing-key.pem'),
    auditPublicKeysFile: join(stateDir, 'audit', 'public-keys.json'),
    auditCheckpointDir: join(stateDir, 'audit', 'checkpoints'),
    oidcKeyFile: join(stateDir, 'dev-oidc-signing-key.json'),
    runtimeFile: join(stateDir, 'runtime.json'),
  };
}

/**
 * As root, embedded PostgreSQL runs as the `postgres` user, which must be able to reach its data
 * directory. When some parent folder is closed to others (e.g. /root), keep the data under /var/tmp.
 */
function postgresDataDir(stateDir: string): string {
  if (userInfo().uid !== 0 || everyParentTraversable(stateDir)) return join(stateDir, 'pg');
  const tag = createHash('sha256').update(stateDir).digest('hex').slice(0, 12);
  return join('/var/tmp', `fitledger-${tag}`, 'pg');
}

function everyParentTraversable(dir: string): boolean {
  let current = dirname(join(dir, 'x'));
  const { root } = parse(current);
  while (current !== root) {
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) return false;
    current = dirname(current);
  }
  return true;
}

export function ensureDir(dir: string, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
  chmodSync(dir, mode);
}

/** Reads a base64 secret of 32 random bytes, creating it (mode 0600) on the first start. */
function loadOrCreateSecret(file: string): string {
  if (existsSync(file)) {
    accessSync(file, constants.R_OK);
    return readFileSync(file, 'utf8').trim();
  }
  const key = randomBytes(32).toString('base64');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/**
 * The unwrap-only key files of a master key rotation beside `masterKeyFile` that exist, in the
 * order previous, next: `master.previous.key` (the old key after `keys:rotate-master promote`,
 * until `retire`) and `master.next.key` (staged by `stage`). Names as the rotation CLI makes them
 * (masterKeyFiles of @fitledger/crypto); see packages/crypto/MASTER_KEY_ROTATION.md.
 */
export function rotationKeyFiles(masterKeyFile: string): string[] {
  const files = masterKeyFiles({ [MASTER_KEY_FILE_ENV]: masterKeyFile });
  return files === undefined ? [] : [files.previous, files.next].filter((f) => existsSync(f));
}

/** A half-done master key rotation is missing its current key: a fresh one would hide that. */
export class MasterKeyMissingError extends Error {
  constructor(
    readonly masterKeyFile: string,
    readonly rotationFiles: readonly string[],
  ) {
    super(
      `${masterKeyFile} is missing while a master key rotation is under way (${rotationFiles.join(', ')} exist): ` +
        'not creating a new master key. Restore the current key to that file, see packages/crypto/MASTER_KEY_ROTATION.md (npm run keys:rotate-master -- status).',
    );
    this.name = 'MasterKeyMissingError';
  }
}

/**
 * Reads the local master key, creating a random one (mode 0600) on the first start. Refuses to
 * create one while a rotation's `master.previous.key` or `master.next.key` exists beside it
 * (MasterKeyMissingError): the current key was lost mid-rotation, and a fresh key would wrap new
 * subjects' data keys under a key no other instance knows.
 */
export function loadOrCreateMasterKey(file: string): string {
  if (!existsSync(file)) {
    const rotation = rotationKeyFiles(file);
    if (rotation.length > 0) throw new MasterKeyMissingError(file, rotation);
  }
  return loadOrCreateSecret(file);
}

/** Reads the browser sessions' secret, creating a random one (mode 0600) on the first start: sessions survive restarts. */
export function loadOrCreateSessionSecret(file: string): string {
  // The same shape as the master key (base64 of 32 random bytes); a separate secret all the same.
  return loadOrCreateSecret(file);
}

/** Reads the access log's pseudonym secret, creating a random one (mode 0600) on the first start: pseudonyms stay stable across restarts. */
export function loadOrCreatePseudonymSecret(file: string): string {
  return loadOrCreateSecret(file);
}
