import {
  KEY_STORE_ENV,
  KeyStoreConfigError,
  loadKeyStoreConfig,
  MASTER_KEY_ENV,
  MASTER_KEY_FILE_ENV,
  MasterKeyConfigError,
  PREVIOUS_MASTER_KEY_FILES_ENV,
  PREVIOUS_MASTER_KEYS_ENV,
  type KeyStoreConfig,
} from '@fitledger/crypto';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from '@fitledger/http';

/** Thrown for a missing or malformed setting; the message names the variable. */
export class QueryServiceConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueryServiceConfigError';
  }
}

export interface QueryServiceConfig {
  /** PostgreSQL holding the read models. */
  readonly databaseUrl: string;
  /** OIDC issuer whose JWT access tokens are accepted (exact `iss`). */
  readonly oidcIssuer: string;
  /** Expected `aud` of access tokens. */
  readonly oidcAudience: string;
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** Per-user and per-organisation request budgets (also per client IP for unauthenticated requests). */
  readonly rateLimits: RateLimitSettings;
  /**
   * The key store, as the command service has it (see loadQueryKeyStoreConfig): with it the service
   * reads subjects' consent streams (decrypting them) and mounts the trainer routes under
   * `/clients/{clientId}`. Absent when no key store variable is set.
   */
  readonly keyStore?: KeyStoreConfig;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function required(env: Readonly<Record<string, string | undefined>>, name: string, hint: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new QueryServiceConfigError(name, `${name} is not set: ${hint}`);
  return value.trim();
}

function url(name: string, value: string, protocols: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new QueryServiceConfigError(name, `${name} is not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) throw new QueryServiceConfigError(name, `${name} must be a ${protocols.join(' or ')} URL`);
  return value;
}

function enabled(env: Readonly<Record<string, string | undefined>>, name: string, fallback: boolean): boolean {
  const text = env[name]?.trim().toLowerCase();
  if (text === undefined || text === '') return fallback;
  if (text === 'true' || text === 'false') return text === 'true';
  throw new QueryServiceConfigError(name, `${name} must be true or false`);
}

const MAX_REQUESTS_PER_MINUTE = 10_000_000;

function perMinute(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_REQUESTS_PER_MINUTE) {
    throw new QueryServiceConfigError(name, `${name} must be a whole number from 1 to ${MAX_REQUESTS_PER_MINUTE}`);
  }
  return Number(text);
}

/** The variables whose presence means a key store is configured (its other settings are read only then). */
const KEY_STORE_SELECTORS = [KEY_STORE_ENV, MASTER_KEY_ENV, MASTER_KEY_FILE_ENV, PREVIOUS_MASTER_KEYS_ENV, PREVIOUS_MASTER_KEY_FILES_ENV] as const;

/**
 * The optional key store of the query service: none when KEY_STORE and every master key variable
 * are unset (the trainer routes are then not mounted); otherwise loadKeyStoreConfig's settings
 * (KEY_STORE=local with the master key and the unwrap-only keys of a rotation, or KEY_STORE=vault
 * with VAULT_*), a wrong one failing as QueryServiceConfigError naming the variable. A previous
 * key without a current one fails rather than quietly leaving the key store off.
 */
export function loadQueryKeyStoreConfig(env: Readonly<Record<string, string | undefined>>, readFile?: (path: string) => string): KeyStoreConfig | undefined {
  if (KEY_STORE_SELECTORS.every((name) => (env[name] ?? '').trim() === '')) return undefined;
  try {
    return readFile === undefined ? loadKeyStoreConfig(env) : loadKeyStoreConfig(env, readFile);
  } catch (error) {
    if (error instanceof MasterKeyConfigError || error instanceof KeyStoreConfigError) throw new QueryServiceConfigError(error.variable, error.message);
    throw error;
  }
}

/**
 * Reads DATABASE_URL, OIDC_ISSUER, OIDC_AUDIENCE (required), PORT (default 3002), HOST (default
 * 127.0.0.1), LOG_LEVEL (default info), RATE_LIMIT_ENABLED (default true), RATE_LIMIT_USER_PER_MINUTE
 * (default 1200), RATE_LIMIT_ORG_PER_MINUTE (default 20000) and the optional key store
 * (loadQueryKeyStoreConfig) into a frozen config; a wrong setting throws QueryServiceConfigError naming the variable.
 */
export function loadQueryServiceConfig(env: Readonly<Record<string, string | undefined>>, readFile?: (path: string) => string): QueryServiceConfig {
  const databaseUrl = url('DATABASE_URL', required(env, 'DATABASE_URL', 'give the PostgreSQL connection string of the read models'), ['postgres:', 'postgresql:']);
  const oidcIssuer = url('OIDC_ISSUER', required(env, 'OIDC_ISSUER', 'give the OIDC issuer URL whose access tokens are accepted'), ['https:', 'http:']);
  const oidcAudience = required(env, 'OIDC_AUDIENCE', 'give the audience (resource indicator) of access tokens, e.g. urn:fitledger:api');
  const rawPort = env.PORT?.trim();
  const port = rawPort === undefined || rawPort === '' ? 3002 : Number(rawPort);
  if (!/^\d+$/.test(rawPort ?? '3002') || !Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new QueryServiceConfigError('PORT', 'PORT must be an integer from 0 to 65535');
  }
  const host = env.HOST?.trim() || '127.0.0.1';
  const rawLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(rawLevel)) throw new QueryServiceConfigError('LOG_LEVEL', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const rateLimits = Object.freeze({
    enabled: enabled(env, 'RATE_LIMIT_ENABLED', DEFAULT_RATE_LIMITS.enabled),
    userPerMinute: perMinute(env, 'RATE_LIMIT_USER_PER_MINUTE', DEFAULT_RATE_LIMITS.userPerMinute),
    orgPerMinute: perMinute(env, 'RATE_LIMIT_ORG_PER_MINUTE', DEFAULT_RATE_LIMITS.orgPerMinute),
  });
  const keyStore = loadQueryKeyStoreConfig(env, readFile);
  return Object.freeze({ databaseUrl, oidcIssuer, oidcAudience, port, host, logLevel: rawLevel as LogLevel, rateLimits, ...(keyStore ? { keyStore } : {}) });
}
