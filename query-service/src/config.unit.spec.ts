import { describe, expect, it } from 'vitest';
import { loadQueryServiceConfig, QueryServiceConfigError } from './config';

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
  it('reads a frozen config with defaults for PORT, HOST and LOG_LEVEL', () => {
    const config = loadQueryServiceConfig(valid);
    expect(config).toEqual({ databaseUrl: valid.DATABASE_URL, oidcIssuer: valid.OIDC_ISSUER, oidcAudience: valid.OIDC_AUDIENCE, port: 3002, host: '127.0.0.1', logLevel: 'info' });
    expect(Object.isFrozen(config)).toBe(true);
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
  ])('fails naming the variable (%#)', (env, variable) => {
    expect(failingVariable(env)).toBe(variable);
  });
});
