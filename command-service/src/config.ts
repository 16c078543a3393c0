import { KeyStoreConfigError, loadKeyStoreConfig, MasterKeyConfigError, type KeyStoreConfig } from '@fitledger/crypto';
import { DEFAULT_AGE_OF_DIGITAL_CONSENT } from '@fitledger/domain';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from '@fitledger/http';

/** Command service settings, read once at start from the environment. */
export interface CommandServiceConfig {
  /** DATABASE_URL: PostgreSQL holding the event store and the key store's rows (crypto_subject_keys). */
  readonly databaseUrl: string;
  /** OIDC_ISSUER: expected `iss` of access tokens; JWKS found through its discovery document. */
  readonly oidcIssuer: string;
  /** OIDC_AUDIENCE: expected `aud` (the API's resource indicator). */
  readonly oidcAudience: string;
  /**
   * The key store that wraps the subjects' data keys (loadKeyStoreConfig of @fitledger/crypto):
   * KEY_STORE=local (default) with FITLEDGER_MASTER_KEY or FITLEDGER_MASTER_KEY_FILE and the
   * unwrap-only keys of a rotation (FITLEDGER_PREVIOUS_MASTER_KEYS / _FILES), or KEY_STORE=vault
   * with VAULT_ADDR, VAULT_TOKEN, VAULT_TRANSIT_MOUNT, VAULT_NAMESPACE.
   */
  readonly keyStore: KeyStoreConfig;
  /** PORT (default 3001). */
  readonly port: number;
  /** HOST (default 127.0.0.1). */
  readonly host: string;
  /** BODY_LIMIT_BYTES (default 65536): larger request bodies get 413. */
  readonly bodyLimitBytes: number;
  /** LOG_LEVEL (default info). */
  /** Below this age a consent needs a guardian's confirmation (`AGE_OF_DIGITAL_CONSENT`, 13–16, default 16). */
  readonly ageOfDigitalConsent: number;
  readonly logLevel: LogLevel;
  /** RATE_LIMIT_ENABLED (default true), RATE_LIMIT_USER_PER_MINUTE (1200), RATE_LIMIT_ORG_PER_MINUTE (20000). */
  readonly rateLimits: RateLimitSettings;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_PORT = 3001;
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
const MAX_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
const MAX_REQUESTS_PER_MINUTE = 10_000_000;

/** A setting is missing or wrong; `variable` names it, the message says what is expected (never the value). */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (value === undefined || value === '') throw new ConfigError(name, `${name} is not set`);
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = optional(env, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new ConfigError(name, `${name} must be a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const text = optional(env, name)?.toLowerCase();
  if (text === undefined) return fallback;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new ConfigError(name, `${name} must be true or false`);
}

function url(env: Env, name: string, check: (u: URL) => string | undefined): string {
  const text = required(env, name);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    // The value itself is not echoed: a connection string holds a password.
    throw new ConfigError(name, `${name} is not a valid URL`);
  }
  const problem = check(parsed);
  if (problem !== undefined) throw new ConfigError(name, `${name} ${problem}`);
  return text;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Reads and validates the configuration; throws ConfigError naming the first wrong variable. */
export function loadConfig(env: Env, readFile?: (path: string) => string): CommandServiceConfig {
  const databaseUrl = url(env, 'DATABASE_URL', (u) =>
    u.protocol === 'postgres:' || u.protocol === 'postgresql:' ? undefined : 'must be a postgres:// or postgresql:// URL',
  );
  const oidcIssuer = url(env, 'OIDC_ISSUER', (u) => {
    if (u.protocol === 'https:') return undefined;
    // Plain HTTP only for the dev provider on this machine: tokens' keys must not travel in clear.
    if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) return undefined;
    return 'must be an https:// URL (http:// only on loopback, for the dev provider)';
  });
  const oidcAudience = required(env, 'OIDC_AUDIENCE');
  let keyStore: KeyStoreConfig;
  try {
    keyStore = readFile === undefined ? loadKeyStoreConfig(env) : loadKeyStoreConfig(env, readFile);
  } catch (error) {
    if (error instanceof MasterKeyConfigError || error instanceof KeyStoreConfigError) throw new ConfigError(error.variable, error.message);
    throw error;
  }
  const port = integer(env, 'PORT', DEFAULT_PORT, 0, 65_535);
  const host = optional(env, 'HOST') ?? '127.0.0.1';
  const bodyLimitBytes = integer(env, 'BODY_LIMIT_BYTES', DEFAULT_BODY_LIMIT_BYTES, 1_024, MAX_BODY_LIMIT_BYTES);
  const level = optional(env, 'LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError('LOG_LEVEL', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const rateLimits = Object.freeze({
    enabled: boolean(env, 'RATE_LIMIT_ENABLED', DEFAULT_RATE_LIMITS.enabled),
    userPerMinute: integer(env, 'RATE_LIMIT_USER_PER_MINUTE', DEFAULT_RATE_LIMITS.userPerMinute, 1, MAX_REQUESTS_PER_MINUTE),
    orgPerMinute: integer(env, 'RATE_LIMIT_ORG_PER_MINUTE', DEFAULT_RATE_LIMITS.orgPerMinute, 1, MAX_REQUESTS_PER_MINUTE),
  });
  // GDPR Art. 8 lets member states set 13–16.
  const ageOfDigitalConsent = integer(env, 'AGE_OF_DIGITAL_CONSENT', DEFAULT_AGE_OF_DIGITAL_CONSENT, 13, 16);
  return Object.freeze({ databaseUrl, oidcIssuer, oidcAudience, keyStore, port, host, bodyLimitBytes, logLevel: level as LogLevel, rateLimits, ageOfDigitalConsent });
}
