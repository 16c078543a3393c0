import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

const KEY = Buffer.alloc(32, 7).toString('base64');
const valid = {
  DATABASE_URL: 'postgres://fitledger:secret@db.internal:5432/fitledger',
  OIDC_ISSUER: 'https://id.example.com',
  OIDC_AUDIENCE: 'urn:fitledger:api',
  FITLEDGER_MASTER_KEY: KEY,
};

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
    expect(config.masterKey.key.equals(Buffer.alloc(32, 7))).toBe(true);
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
    expect(config.masterKey.key.equals(Buffer.alloc(32, 7))).toBe(true);
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
    for (const value of Object.values(change)) if (value) expect(error.message).not.toContain(value);
  });

  it('accepts plain http only for a loopback issuer (the dev provider)', () => {
    expect(loadConfig({ ...valid, OIDC_ISSUER: 'http://127.0.0.1:4000' }).oidcIssuer).toBe('http://127.0.0.1:4000');
  });
});
