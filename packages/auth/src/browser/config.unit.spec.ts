import { describe, expect, it } from 'vitest';
import { BrowserLoginConfigError, browserLoginConfigFromEnv, DEFAULT_LOGIN_SCOPE } from './config';

const SECRET = Buffer.alloc(32, 7).toString('base64');
const base = {
  OIDC_ISSUER: 'https://id.example.com/realms/fitledger',
  OIDC_CLIENT_ID: 'fitledger-web',
  OIDC_REDIRECT_URI: 'https://app.example.com/auth/callback',
  FITLEDGER_SESSION_SECRET: SECRET,
};

function variableOf(env: Record<string, string>): string {
  try {
    browserLoginConfigFromEnv(env);
  } catch (error) {
    if (error instanceof BrowserLoginConfigError) return error.variable;
    throw error;
  }
  return 'OK';
}

describe('browserLoginConfigFromEnv', () => {
  it('is off (undefined) without OIDC_REDIRECT_URI', () => {
    expect(browserLoginConfigFromEnv({ OIDC_ISSUER: base.OIDC_ISSUER })).toBeUndefined();
  });

  it('reads a public https client with the defaults: 30 min idle, 12 h absolute, Secure cookies', () => {
    expect(browserLoginConfigFromEnv(base)).toEqual({
      issuer: base.OIDC_ISSUER,
      clientId: 'fitledger-web',
      redirectUri: base.OIDC_REDIRECT_URI,
      scope: DEFAULT_LOGIN_SCOPE,
      sessionSecret: Buffer.alloc(32, 7),
      idleTimeoutS: 1800,
      absoluteLifetimeS: 43_200,
      cookieSecure: true,
      loginTimeoutS: 600,
      allowInsecureIssuer: false,
    });
  });

  it('reads a confidential client, lifetimes, scopes, resource and post-logout URI', () => {
    const config = browserLoginConfigFromEnv({
      ...base,
      OIDC_CLIENT_SECRET: 's3cret',
      SESSION_IDLE_TIMEOUT_S: '600',
      SESSION_ABSOLUTE_LIFETIME_S: '3600',
      OIDC_SCOPES: 'openid fitledger:read',
      OIDC_RESOURCE: 'urn:fitledger:api',
      OIDC_POST_LOGOUT_REDIRECT_URI: 'https://app.example.com/',
    });
    expect(config).toMatchObject({
      clientSecret: 's3cret',
      idleTimeoutS: 600,
      absoluteLifetimeS: 3600,
      scope: 'openid fitledger:read',
      resource: 'urn:fitledger:api',
      postLogoutRedirectUri: 'https://app.example.com/',
    });
  });

  it('uses plain cookies for an http loopback redirect URI (dev), and the setting overrides auto', () => {
    const dev = { ...base, OIDC_ISSUER: 'http://127.0.0.1:4010', OIDC_REDIRECT_URI: 'http://127.0.0.1:3002/auth/callback' };
    expect(browserLoginConfigFromEnv(dev)).toMatchObject({ cookieSecure: false, allowInsecureIssuer: true });
    expect(browserLoginConfigFromEnv({ ...dev, SESSION_COOKIE_SECURE: 'true' })?.cookieSecure).toBe(true);
    expect(browserLoginConfigFromEnv({ ...base, SESSION_COOKIE_SECURE: 'false' })?.cookieSecure).toBe(false);
  });

  it('names the variable of each wrong setting', () => {
    const cases: [Record<string, string>, string][] = [
      [{ ...base, OIDC_REDIRECT_URI: 'not a url' }, 'OIDC_REDIRECT_URI'],
      [{ ...base, OIDC_REDIRECT_URI: 'http://app.example.com/auth/callback' }, 'OIDC_REDIRECT_URI'],
      [{ ...base, OIDC_REDIRECT_URI: 'https://app.example.com/auth/callback?x=1' }, 'OIDC_REDIRECT_URI'],
      [{ ...base, OIDC_ISSUER: '' }, 'OIDC_ISSUER'],
      [{ ...base, OIDC_ISSUER: 'http://id.example.com' }, 'OIDC_ISSUER'],
      [{ ...base, OIDC_CLIENT_ID: ' ' }, 'OIDC_CLIENT_ID'],
      [{ ...base, OIDC_SCOPES: 'profile email' }, 'OIDC_SCOPES'],
      [{ ...base, FITLEDGER_SESSION_SECRET: '' }, 'FITLEDGER_SESSION_SECRET'],
      [{ ...base, FITLEDGER_SESSION_SECRET: 'c2hvcnQ=' }, 'FITLEDGER_SESSION_SECRET'],
      [{ ...base, SESSION_IDLE_TIMEOUT_S: '0' }, 'SESSION_IDLE_TIMEOUT_S'],
      [{ ...base, SESSION_IDLE_TIMEOUT_S: '1.5' }, 'SESSION_IDLE_TIMEOUT_S'],
      [{ ...base, SESSION_ABSOLUTE_LIFETIME_S: '-1' }, 'SESSION_ABSOLUTE_LIFETIME_S'],
      [{ ...base, SESSION_IDLE_TIMEOUT_S: '7200', SESSION_ABSOLUTE_LIFETIME_S: '3600' }, 'SESSION_IDLE_TIMEOUT_S'],
      [{ ...base, SESSION_COOKIE_SECURE: 'yes' }, 'SESSION_COOKIE_SECURE'],
      [{ ...base, OIDC_POST_LOGOUT_REDIRECT_URI: 'javascript:alert(1)' }, 'OIDC_POST_LOGOUT_REDIRECT_URI'],
    ];
    expect(cases.map(([env]) => variableOf(env))).toEqual(cases.map(([, variable]) => variable));
  });
});
