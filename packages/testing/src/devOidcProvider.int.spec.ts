import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS, DEV_CLIENT_ID, DEV_REDIRECT_URI, getDevToken, getDevTokenSet, startDevOidcProvider, type DevOidcProvider } from './devOidcProvider';

let provider: DevOidcProvider;

beforeAll(async () => {
  provider = await startDevOidcProvider();
});

afterAll(async () => {
  await provider.close();
});

/** An authorization request as a client would send it; answers the redirect target. */
async function authorize(params: Record<string, string>): Promise<URL> {
  const query = new URLSearchParams({ client_id: DEV_CLIENT_ID, response_type: 'code', redirect_uri: DEV_REDIRECT_URI, scope: 'openid', state: 's1', ...params });
  const res = await fetch(`${provider.issuer}/auth?${query.toString()}`, { redirect: 'manual' });
  await res.body?.cancel();
  const location = res.headers.get('location');
  if (!location) throw new Error(`no redirect (${res.status})`);
  return new URL(location, provider.issuer);
}

describe('dev OIDC provider', () => {
  it('issues RS256 JWT access tokens typed at+jwt for the API audience with role, tenant and amr', async () => {
    const token = await getDevToken(provider.issuer, 'alice');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: provider.signingKey.kid });
    expect(decodeJwt(token)).toMatchObject({
      iss: provider.issuer,
      aud: provider.audience,
      sub: DEMO_USERS.alice.sub,
      role: 'client',
      tenant_id: DEMO_USERS.alice.tenantId,
      amr: ['pwd'],
      scope: 'fitledger:read fitledger:write',
      client_id: DEV_CLIENT_ID,
    });
  });

  it('gives the coach the trainer role and an MFA amr', async () => {
    expect(decodeJwt(await getDevToken(provider.issuer, 'coach'))).toMatchObject({ sub: DEMO_USERS.coach.sub, role: 'trainer', amr: ['pwd', 'otp'] });
  });

  it('has a demo user for every role; the privileged ones log in with a second factor, except coach-nomfa', async () => {
    const claims = async (username: keyof typeof DEMO_USERS) => {
      const { role, amr } = decodeJwt(await getDevToken(provider.issuer, username));
      return { role, amr };
    };
    expect({
      'org-admin': await claims('org-admin'),
      auditor: await claims('auditor'),
      researcher: await claims('researcher'),
      'platform-admin': await claims('platform-admin'),
      'coach-nomfa': await claims('coach-nomfa'),
    }).toEqual({
      'org-admin': { role: 'org_admin', amr: ['pwd', 'otp'] },
      auditor: { role: 'auditor', amr: ['pwd', 'otp'] },
      researcher: { role: 'researcher', amr: ['pwd', 'otp'] },
      'platform-admin': { role: 'platform_admin', amr: ['pwd', 'hwk'] },
      'coach-nomfa': { role: 'trainer', amr: ['pwd'] },
    });
  });

  it('uses opaque UUID subjects, never a username or email', () => {
    for (const user of Object.values(provider.users)) {
      expect(user.sub).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(user.sub).not.toContain(user.username);
    }
  });

  it('publishes only the public half of the signing key in its JWKS', async () => {
    const jwks = (await (await fetch(provider.jwksUri)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', kid: provider.signingKey.kid });
    for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(jwks.keys[0]).not.toHaveProperty(privatePart);
  });

  it('rejects a wrong password at the login form', async () => {
    await expect(getDevToken(provider.issuer, 'alice', 'not-the-password')).rejects.toThrow(/login rejected/);
  });

  it('rejects an unknown user at the login form', async () => {
    await expect(getDevToken(provider.issuer, 'mallory')).rejects.toThrow(/login rejected/);
  });

  it('requires PKCE: an authorization request without code_challenge is refused', async () => {
    const target = await authorize({});
    expect(target.searchParams.get('error')).toBe('invalid_request');
    expect(target.searchParams.get('code')).toBeNull();
  });

  it('requires PKCE S256: the plain method is refused', async () => {
    const target = await authorize({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    expect(target.searchParams.get('error')).toBe('invalid_request');
  });

  it('sends a PKCE S256 authorization request to the login interaction (positive control)', async () => {
    const target = await authorize({ code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    expect(target.pathname).toMatch(/^\/interaction\//);
  });

  it('refuses a redirect uri that is not registered', async () => {
    const query = new URLSearchParams({
      client_id: DEV_CLIENT_ID,
      response_type: 'code',
      redirect_uri: 'http://evil.example/callback',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const res = await fetch(`${provider.issuer}/auth?${query.toString()}`, { redirect: 'manual' });
    await res.body?.cancel();
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('returns an ID token for the same subject alongside the access token', async () => {
    const tokens = await getDevTokenSet(provider.issuer, 'bob');
    expect(tokens.idToken).toBeDefined();
    expect(decodeJwt(tokens.idToken ?? '')).toMatchObject({ sub: DEMO_USERS.bob.sub, aud: DEV_CLIENT_ID });
  });
});

describe('dev OIDC provider signing key file', () => {
  it('keeps the signing key across restarts when given a key file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fitledger-oidc-'));
    try {
      const keyFile = join(dir, 'signing-key.json');
      const first = await startDevOidcProvider({ keyFile });
      await first.close();
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      const second = await startDevOidcProvider({ keyFile });
      await second.close();
      expect(second.signingKey.kid).toBe(first.signingKey.kid);
      expect(JSON.parse(await readFile(keyFile, 'utf8'))).toMatchObject({ kid: first.signingKey.kid, kty: 'RSA' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
