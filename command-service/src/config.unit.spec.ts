import { describe, expect, it } from 'vitest';
import { masterKeyId } from '@fitledger/crypto';
import { ConfigError, loadConfig, type CommandServiceConfig } from './config';

const KEY = Buffer.alloc(32, 7).toString('base64');
const PREVIOUS = Buffer.alloc(32, 8).toString('base64');
const NEXT = Buffer.alloc(32, 9).toString('base64');
const valid = {
  DATABASE_URL: 'postgres://fitledger:secret@db.internal:5432/fitledger',
  OIDC_ISSUER: 'https://id.example.com',
  OIDC_AUDIENCE: 'urn:fitledger:api',
  FITLEDGER_MASTER_KEY: KEY,
};

function localKeys(config: CommandServiceConfig) {
  if (config.keyStore.kind !== 'local') throw new Error(`expected the local key store, got ${config.keyStore.kind}`);
  return config.keyStore.masterKeys;
}

function failure(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env, () => {
      throw new Error('no file');
    });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads a valid environment into a frozen config with defaults', () => {
    const config = loadConfig(valid);
    expect(Object.isFrozen(config)).toBe(true);
    expect(config).toMatchObject({ databaseUrl: valid.DATABASE_URL, oidcIssuer: valid.OIDC_ISSUER, oidcAudience: 'urn:fitledger:api', port: 3001, host: '127.0.0.1', bodyLimitBytes: 65_536, logLevel: 'info' });
    expect(localKeys(config).current.key.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(localKeys(config).previous).toEqual([]);
    expect(config.rateLimits).toEqual({ enabled: true, userPerMinute: 1200, orgPerMinute: 20_000 });
    expect(Object.isFrozen(config.rateLimits)).toBe(true);
  });

  it('reads the rate limits from RATE_LIMIT_*', () => {
    const config = loadConfig({ ...valid, RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_USER_PER_MINUTE: '60', RATE_LIMIT_ORG_PER_MINUTE: '600' });
    expect(config.rateLimits).toEqual({ enabled: false, userPerMinute: 60, orgPerMinute: 600 });
    expect(loadConfig({ ...valid, RATE_LIMIT_ENABLED: 'True' }).rateLimits.enabled).toBe(true);
  });

  it('reads the age of digital consent (GDPR Art. 8: 13–16, default 16)', () => {
    expect(loadConfig(valid).ageOfDigitalConsent).toBe(16);
    expect(loadConfig({ ...valid, AGE_OF_DIGITAL_CONSENT: '13' }).ageOfDigitalConsent).toBe(13);
    expect(failure({ ...valid, AGE_OF_DIGITAL_CONSENT: '12' })).toMatchObject({ variable: 'AGE_OF_DIGITAL_CONSENT' });
    expect(failure({ ...valid, AGE_OF_DIGITAL_CONSENT: 'sixteen' })).toMatchObject({ variable: 'AGE_OF_DIGITAL_CONSENT' });
  });

  it('reads the master key from FITLEDGER_MASTER_KEY_FILE', () => {
    const { FITLEDGER_MASTER_KEY: _, ...rest } = valid;
    const config = loadConfig({ ...rest, FITLEDGER_MASTER_KEY_FILE: '/run/secrets/key' }, (path) => (path === '/run/secrets/key' ? `${KEY}\n` : ''));
    expect(localKeys(config).current.key.equals(Buffer.alloc(32, 7))).toBe(true);
  });

  it('reads the unwrap-only keys of a rotation from FITLEDGER_PREVIOUS_MASTER_KEY_FILES and FITLEDGER_PREVIOUS_MASTER_KEYS', () => {
    const files: Record<string, string> = { '/keys/master.previous.key': `${PREVIOUS}\n`, '/keys/master.next.key': `${NEXT}\n` };
    const config = loadConfig({ ...valid, FITLEDGER_PREVIOUS_MASTER_KEY_FILES: '/keys/master.previous.key,/keys/master.next.key', FITLEDGER_PREVIOUS_MASTER_KEYS: KEY }, (path) => {
      const text = files[path];
      if (text === undefined) throw new Error('no file');
      return text;
    });
    const keys = localKeys(config);
    expect(keys.current.id).toBe(masterKeyId(Buffer.alloc(32, 7)));
    // The current key listed again as previous is dropped; the others are unwrap-only.
    expect(keys.previous.map((k) => k.id)).toEqual([masterKeyId(Buffer.alloc(32, 8)), masterKeyId(Buffer.alloc(32, 9))]);
  });

  it('takes the Vault key store with KEY_STORE=vault, without reading the master key variables', () => {
    const { FITLEDGER_MASTER_KEY: _, ...rest } = valid;
    const config = loadConfig({ ...rest, KEY_STORE: 'vault', VAULT_ADDR: 'https://vault.internal:8200/', VAULT_TOKEN: 'hvs.service-token', VAULT_TRANSIT_MOUNT: 'fitledger/transit' });
    expect(config.keyStore).toEqual({ kind: 'vault', vault: { address: 'https://vault.internal:8200', token: 'hvs.service-token', transitMount: 'fitledger/transit' } });
    expect(Object.isFrozen(config.keyStore)).toBe(true);
  });

  it.each([
    ['DATABASE_URL', { DATABASE_URL: undefined }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['OIDC_ISSUER', { OIDC_ISSUER: 'http://id.example.com' }],
    ['OIDC_AUDIENCE', { OIDC_AUDIENCE: '' }],
    ['FITLEDGER_MASTER_KEY', { FITLEDGER_MASTER_KEY: undefined }],
    ['FITLEDGER_MASTER_KEY', { FITLEDGER_MASTER_KEY: 'c2hvcnQ=' }],
    ['FITLEDGER_MASTER_KEY_FILE', { FITLEDGER_MASTER_KEY: undefined, FITLEDGER_MASTER_KEY_FILE: '/missing' }],
    ['FITLEDGER_PREVIOUS_MASTER_KEYS', { FITLEDGER_PREVIOUS_MASTER_KEYS: 'c2hvcnQ=' }],
    ['FITLEDGER_PREVIOUS_MASTER_KEY_FILES', { FITLEDGER_PREVIOUS_MASTER_KEY_FILES: '/missing/master.previous.key' }],
    ['KEY_STORE', { KEY_STORE: 'hsm' }],
    ['VAULT_ADDR', { KEY_STORE: 'vault' }],
    ['VAULT_ADDR', { KEY_STORE: 'vault', VAULT_ADDR: 'vault.internal:8200', VAULT_TOKEN: 'hvs.x' }],
    ['VAULT_TOKEN', { KEY_STORE: 'vault', VAULT_ADDR: 'https://vault.internal:8200' }],
    ['VAULT_TRANSIT_MOUNT', { KEY_STORE: 'vault', VAULT_ADDR: 'https://vault.internal:8200', VAULT_TOKEN: 'hvs.x', VAULT_TRANSIT_MOUNT: '../sys' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: 'eighty' }],
    ['BODY_LIMIT_BYTES', { BODY_LIMIT_BYTES: '-1' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['RATE_LIMIT_ENABLED', { RATE_LIMIT_ENABLED: 'maybe' }],
    ['RATE_LIMIT_USER_PER_MINUTE', { RATE_LIMIT_USER_PER_MINUTE: '-1' }],
    ['RATE_LIMIT_USER_PER_MINUTE', { RATE_LIMIT_USER_PER_MINUTE: 'many' }],
    ['RATE_LIMIT_ORG_PER_MINUTE', { RATE_LIMIT_ORG_PER_MINUTE: '2.5' }],
    ['RATE_LIMIT_ORG_PER_MINUTE', { RATE_LIMIT_ORG_PER_MINUTE: '99999999999' }],
  ])('fails naming %s when it is wrong, without echoing the value', (variable, change) => {
    const error = failure({ ...valid, ...change });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    // KEY_STORE=vault selects the adapter and is named in the Vault errors; no other value may show.
    for (const [name, value] of Object.entries(change)) if (value && (name === variable || name !== 'KEY_STORE')) expect(error.message).not.toContain(value);
  });

  it('accepts plain http only for a loopback issuer (the dev provider)', () => {
    expect(loadConfig({ ...valid, OIDC_ISSUER: 'http://127.0.0.1:4000' }).oidcIssuer).toBe('http://127.0.0.1:4000');
  });
});
