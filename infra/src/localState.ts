import { createHash, randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, parse, resolve } from 'node:path';
import { userInfo } from 'node:os';

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

/** Reads the local master key, creating a random one (mode 0600) on the first start. */
export function loadOrCreateMasterKey(file: string): string {
  if (existsSync(file)) {
    accessSync(file, constants.R_OK);
    return readFileSync(file, 'utf8').trim();
  }
  const key = randomBytes(32).toString('base64');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** Reads the browser sessions' secret, creating a random one (mode 0600) on the first start: sessions survive restarts. */
export function loadOrCreateSessionSecret(file: string): string {
  // The same shape as the master key (base64 of 32 random bytes); a separate secret all the same.
  return loadOrCreateMasterKey(file);
}

/** Reads the access log's pseudonym secret, creating a random one (mode 0600) on the first start: pseudonyms stay stable across restarts. */
export function loadOrCreatePseudonymSecret(file: string): string {
  return loadOrCreateMasterKey(file);
}
