/** Thrown for a malformed setting; the message names the variable. */
export class AuditConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuditConfigError';
  }
}

export interface AuditConfig {
  /** The log's identity on checkpoints, and the name of its signing key. */
  readonly origin: string;
  /** PEM (PKCS#8) Ed25519 private key. Kept outside the database: whoever can write the log must not also hold the key. */
  readonly signingKeyFile: string;
  /** Published verifier keys, current and retired (JSON). */
  readonly publicKeysFile: string;
  /** The external append-only folder checkpoints are written to. */
  readonly checkpointDir: string;
  /** Generate the signing key when it is absent (dev); in production a missing key is an error. */
  readonly createSigningKey: boolean;
  /** How often the audit projector looks for new events and access records (it can also be woken). */
  readonly projectorIntervalMs: number;
  /** Shortest time between two signed checkpoints; one is signed only when the tree grew. */
  readonly checkpointIntervalMs: number;
}

export const DEFAULT_AUDIT_ORIGIN = 'fitledger.local/audit';
export const DEFAULT_SIGNING_KEY_FILE = '.fitledger/audit/signing-key.pem';
export const DEFAULT_PUBLIC_KEYS_FILE = '.fitledger/audit/public-keys.json';
export const DEFAULT_CHECKPOINT_DIR = '.fitledger/audit/checkpoints';
export const DEFAULT_PROJECTOR_INTERVAL_MS = 1_000;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000;
/** Upper bound of both intervals: an hour. A longer silence would leave new entries unsigned for too long. */
const MAX_INTERVAL_MS = 3_600_000;

/**
 * Reads AUDIT_LOG_ORIGIN (default fitledger.local/audit), AUDIT_SIGNING_KEY_FILE (default
 * .fitledger/audit/signing-key.pem), AUDIT_PUBLIC_KEYS_FILE (default
 * .fitledger/audit/public-keys.json), AUDIT_CHECKPOINT_DIR (default .fitledger/audit/checkpoints)
 * AUDIT_SIGNING_KEY_CREATE (true or false; default true unless NODE_ENV is production),
 * AUDIT_PROJECTOR_INTERVAL_MS (default 1000) and AUDIT_CHECKPOINT_INTERVAL_MS (default 10000)
 * into a frozen config; a wrong setting throws AuditConfigError naming the variable.
 */
export function loadAuditConfig(env: Readonly<Record<string, string | undefined>>): AuditConfig {
  const origin = setting(env, 'AUDIT_LOG_ORIGIN', DEFAULT_AUDIT_ORIGIN);
  // eslint-disable-next-line no-control-regex
  if (/[\s+]/u.test(origin) || /[\u0000-\u001f]/.test(origin)) {
    throw new AuditConfigError('AUDIT_LOG_ORIGIN', 'AUDIT_LOG_ORIGIN must hold no spaces and no "+" (it is also the signing key name), e.g. fitledger.example/audit');
  }
  const createText = env.AUDIT_SIGNING_KEY_CREATE?.trim().toLowerCase();
  let createSigningKey = env.NODE_ENV !== 'production';
  if (createText !== undefined && createText !== '') {
    if (createText !== 'true' && createText !== 'false') throw new AuditConfigError('AUDIT_SIGNING_KEY_CREATE', 'AUDIT_SIGNING_KEY_CREATE must be true or false');
    createSigningKey = createText === 'true';
  }
  return Object.freeze({
    origin,
    signingKeyFile: setting(env, 'AUDIT_SIGNING_KEY_FILE', DEFAULT_SIGNING_KEY_FILE),
    publicKeysFile: setting(env, 'AUDIT_PUBLIC_KEYS_FILE', DEFAULT_PUBLIC_KEYS_FILE),
    checkpointDir: setting(env, 'AUDIT_CHECKPOINT_DIR', DEFAULT_CHECKPOINT_DIR),
    createSigningKey,
    projectorIntervalMs: intervalMs(env, 'AUDIT_PROJECTOR_INTERVAL_MS', DEFAULT_PROJECTOR_INTERVAL_MS),
    checkpointIntervalMs: intervalMs(env, 'AUDIT_CHECKPOINT_INTERVAL_MS', DEFAULT_CHECKPOINT_INTERVAL_MS),
  });
}

function intervalMs(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 10 || value > MAX_INTERVAL_MS) {
    throw new AuditConfigError(name, `${name} must be a whole number of milliseconds between 10 and ${MAX_INTERVAL_MS}`);
  }
  return value;
}

function setting(env: Readonly<Record<string, string | undefined>>, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? fallback : value;
}
