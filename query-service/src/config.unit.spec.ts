import { describe, expect, it } from 'vitest';
import { loadQueryServiceConfig, QueryServiceConfigError } from './config';

const KEY = Buffer.alloc(32, 7).toString('base64');
const PREVIOUS = Buffer.alloc(32, 8).toString('base64');
const valid = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/fitledger', OIDC_ISSUER: 'http://127.0.0.1:4000', OIDC_AUDIENCE: 'urn:fitledger:api' };

function failingVariable(env: Record<string, string | undefined>): string | undefined {
  try {
    loadQueryServiceConfig(env);
    return undefined;
  } catch (error) {
    if (!(error instanceof QueryServiceConfigError)) throw error;
    expect(error.message).toContain(error.variable);
    return error.variable;
  }
}

describe('loadQueryServiceConfig', () => {
  it('reads a frozen config with defaults for PORT, HOST, LOG_LEVEL and the rate limits', () => {
    const config = loadQueryServiceConfig(valid);
    expect(config).toEqual({
      databaseUrl: valid.DATABASE_URL,
      oidcIssuer: valid.OIDC_ISSUER,
      oidcAudience: valid.OIDC_AUDIENCE,
      port: 3002,
      host: '127.0.0.1',
      logLevel: 'info',
      rateLimits: { enabled: true, userPerMinute: 1200, orgPerMinute: 20_000 },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.rateLimits)).toBe(true);
  });

  it('reads the rate limits from RATE_LIMIT_*', () => {
    const config = loadQueryServiceConfig({ ...valid, RATE_LIMIT_ENABLED: 'FALSE', RATE_LIMIT_USER_PER_MINUTE: '60', RATE_LIMIT_ORG_PER_MINUTE: ' 600 ' });
    expect(config.rateLimits).toEqual({ enabled: false, userPerMinute: 60, orgPerMinute: 600 });
    expect(loadQueryServiceConfig({ ...valid, RATE_LIMIT_ENABLED: 'true' }).rateLimits.enabled).toBe(true);
  });

  it('has no key store when KEY_STORE and every master key variable are unset (trainer routes off)', () => {
    expect(loadQueryServiceConfig({ ...valid, VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_TOKEN: 't' }).keyStore).toBeUndefined();
  });

  it('reads the local key store with the unwrap-only keys of a rotation', () => {
    const files: Record<string, string> = { '/k/master.key': `${KEY}\n`, '/k/master.previous.key': `${PREVIOUS}\n` };
    const config = loadQueryServiceConfig({ ...valid, FITLEDGER_MASTER_KEY_FILE: '/k/master.key', FITLEDGER_PREVIOUS_MASTER_KEY_FILES: '/k/master.previous.key' }, (path) => files[path] ?? '');
    if (config.keyStore?.kind !== 'local') throw new Error('expected the local key store');
    expect(config.keyStore.masterKeys.current.key.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(config.keyStore.masterKeys.previous.map((k) => k.key.equals(Buffer.alloc(32, 8)))).toEqual([true]);
  });

  it('reads the Vault key store with KEY_STORE=vault', () => {
    const config = loadQueryServiceConfig({ ...valid, KEY_STORE: 'vault', VAULT_ADDR: 'https://vault.internal:8200', VAULT_TOKEN: 'hvs.t' });
    expect(config.keyStore).toEqual({ kind: 'vault', vault: { address: 'https://vault.internal:8200', token: 'hvs.t', transitMount: 'transit' } });
  });

  it.each([
    [{ ...valid, DATABASE_URL: undefined }, 'DATABASE_URL'],
    [{ ...valid, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ ...valid, OIDC_ISSUER: '' }, 'OIDC_ISSUER'],
    [{ ...valid, OIDC_ISSUER: 'not a url' }, 'OIDC_ISSUER'],
    [{ ...valid, OIDC_AUDIENCE: undefined }, 'OIDC_AUDIENCE'],
    [{ ...valid, PORT: '80a' }, 'PORT'],
    [{ ...valid, PORT: '70000' }, 'PORT'],
    [{ ...valid, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ...valid, RATE_LIMIT_ENABLED: 'yes' }, 'RATE_LIMIT_ENABLED'],
    [{ ...valid, RATE_LIMIT_ENABLED: '0' }, 'RATE_LIMIT_ENABLED'],
    [{ ...valid, RATE_LIMIT_USER_PER_MINUTE: '0' }, 'RATE_LIMIT_USER_PER_MINUTE'],
    [{ ...valid, RATE_LIMIT_USER_PER_MINUTE: '1.5' }, 'RATE_LIMIT_USER_PER_MINUTE'],
    [{ ...valid, RATE_LIMIT_USER_PER_MINUTE: 'lots' }, 'RATE_LIMIT_USER_PER_MINUTE'],
    [{ ...valid, RATE_LIMIT_ORG_PER_MINUTE: '-5' }, 'RATE_LIMIT_ORG_PER_MINUTE'],
    [{ ...valid, RATE_LIMIT_ORG_PER_MINUTE: '99999999999' }, 'RATE_LIMIT_ORG_PER_MINUTE'],
    [{ ...valid, FITLEDGER_MASTER_KEY: 'c2hvcnQ=' }, 'FITLEDGER_MASTER_KEY'],
    [{ ...valid, FITLEDGER_PREVIOUS_MASTER_KEYS: KEY }, 'FITLEDGER_MASTER_KEY'],
    [{ ...valid, FITLEDGER_MASTER_KEY: KEY, FITLEDGER_PREVIOUS_MASTER_KEY_FILES: '/missing' }, 'FITLEDGER_PREVIOUS_MASTER_KEY_FILES'],
    [{ ...valid, KEY_STORE: 'local' }, 'FITLEDGER_MASTER_KEY'],
    [{ ...valid, KEY_STORE: 'kms' }, 'KEY_STORE'],
    [{ ...valid, KEY_STORE: 'vault', VAULT_TOKEN: 't' }, 'VAULT_ADDR'],
  ])('fails naming the variable (%#)', (env, variable) => {
    expect(failingVariable(env)).toBe(variable);
  });
});
