import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { freePort } from '@fitledger/testing';
import { getDevToken, publicJwk, signTestToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, type AuthenticationErrorCode } from './errors';
import { DEFAULT_MFA_POLICY, PAPE_MULTI_FACTOR_ACR } from './mfaPolicy';
import { createTokenVerifier, type TokenVerifier } from './tokenVerifier';

let provider: DevOidcProvider;
let verifier: TokenVerifier;
let aliceToken: string;

beforeAll(async () => {
  provider = await startDevOidcProvider();
  verifier = createTokenVerifier({ issuer: provider.issuer, audience: provider.audience, jwksUri: provider.jwksUri });
  aliceToken = await getDevToken(provider.issuer, 'alice');
});

afterAll(async () => {
  await provider.close();
});

async function rejection(v: TokenVerifier, token: string): Promise<AuthenticationError> {
  try {
    await v.verify(token);
  } catch (error) {
    if (error instanceof AuthenticationError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

async function expectRejected(token: string, code: AuthenticationErrorCode): Promise<void> {
  const error = await rejection(verifier, token);
  expect(error.code).toBe(code);
  expect(error.status).toBe(401);
  if (token !== '') expect(error.message).not.toContain(token);
  expect(error.message).not.toContain(provider.users.alice.sub);
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowS = (): number => Math.floor(Date.now() / 1000);

/** Hand-made claims signed with the provider's own key: each negative case changes one thing. */
function trusted(claims: Record<string, unknown>, options: { typ?: string | null } = {}): Promise<string> {
  return signTestToken({ ...provider.accessTokenClaims('alice'), ...claims }, { privateKey: provider.signingKey, ...options });
}

describe('createTokenVerifier against the dev OIDC provider', () => {
  it("verifies a real access token from the authorization code + PKCE flow and yields alice's identity", async () => {
    const identity = await verifier.verify(aliceToken);
    expect(identity).toMatchObject({
      sub: provider.users.alice.sub,
      role: 'client',
      tenantId: provider.users.alice.tenantId,
      scopes: ['fitledger:read', 'fitledger:write'],
      amr: ['pwd'],
      clientId: 'fitledger-dev',
    });
    expect(identity.tokenId).toEqual(expect.any(String));
  });

  it("yields the coach's trainer role and MFA amr", async () => {
    const identity = await verifier.verify(await getDevToken(provider.issuer, 'coach'));
    expect(identity).toMatchObject({ sub: provider.users.coach.sub, role: 'trainer', amr: ['pwd', 'otp'] });
  });

  it('refuses a real trainer token without MFA when an MFA policy is set (MFA_REQUIRED), and accepts the MFA coach', async () => {
    const strict = createTokenVerifier({ issuer: provider.issuer, audience: provider.audience, jwksUri: provider.jwksUri, mfa: DEFAULT_MFA_POLICY });
    const error = await rejection(strict, await getDevToken(provider.issuer, 'coach-nomfa'));
    expect(error.code).toBe('MFA_REQUIRED');
    expect(error.status).toBe(401);
    expect(error.headers['www-authenticate']).toContain('error="insufficient_user_authentication"');
    await expect(strict.verify(await getDevToken(provider.issuer, 'coach'))).resolves.toMatchObject({ role: 'trainer' });
    await expect(strict.verify(aliceToken)).resolves.toMatchObject({ role: 'client', amr: ['pwd'] });
  });

  it('enforces no MFA without a policy (the default keeps earlier behaviour)', async () => {
    await expect(verifier.verify(await getDevToken(provider.issuer, 'coach-nomfa'))).resolves.toMatchObject({ role: 'trainer', amr: ['pwd'] });
  });

  it('accepts an acr from the policy in place of an MFA amr', async () => {
    const strict = createTokenVerifier({ issuer: provider.issuer, audience: provider.audience, jwksUri: provider.jwksUri, mfa: DEFAULT_MFA_POLICY });
    const auditor = { ...provider.accessTokenClaims('alice'), role: 'auditor', amr: ['pwd'] };
    expect((await rejection(strict, await signTestToken(auditor, { privateKey: provider.signingKey }))).code).toBe('MFA_REQUIRED');
    await expect(strict.verify(await signTestToken({ ...auditor, acr: PAPE_MULTI_FACTOR_ACR }, { privateKey: provider.signingKey }))).resolves.toMatchObject({
      role: 'auditor',
      acr: PAPE_MULTI_FACTOR_ACR,
    });
  });

  it('finds the JWKS through OIDC discovery when no jwksUri is given', async () => {
    const discovering = createTokenVerifier({ issuer: provider.issuer, audience: provider.audience });
    await expect(discovering.verify(aliceToken)).resolves.toMatchObject({ sub: provider.users.alice.sub });
  });

  it('accepts a hand-signed token with the provider key (positive control for the cases below)', async () => {
    await expect(verifier.verify(await trusted({}))).resolves.toMatchObject({ sub: provider.users.alice.sub });
  });

  it('accepts typ application/at+jwt (RFC 9068 §4)', async () => {
    await expect(verifier.verify(await trusted({}, { typ: 'application/at+jwt' }))).resolves.toMatchObject({ role: 'client' });
  });

  it('accepts a token expired by less than the clock tolerance', async () => {
    await expect(verifier.verify(await trusted({ iat: nowS() - 600, exp: nowS() - 10 }))).resolves.toMatchObject({ role: 'client' });
  });

  it('rejects an empty or non-JWT token as TOKEN_INVALID', async () => {
    await expectRejected('', 'TOKEN_INVALID');
    await expectRejected('not-a-jwt', 'TOKEN_INVALID');
  });

  it('rejects a token expired beyond the clock tolerance as TOKEN_EXPIRED', async () => {
    await expectRejected(await trusted({ iat: nowS() - 3600, exp: nowS() - 31 }), 'TOKEN_EXPIRED');
  });

  it('rejects a token not valid before a time beyond the clock tolerance (nbf)', async () => {
    await expectRejected(await trusted({ nbf: nowS() + 120 }), 'TOKEN_INVALID');
  });

  it('rejects a token signed by another key that claims the provider kid', async () => {
    const token = await signTestToken(provider.accessTokenClaims('alice'), { kid: provider.signingKey.kid ?? null });
    await expectRejected(token, 'TOKEN_INVALID');
  });

  it('rejects a token signed by another key without a kid', async () => {
    await expectRejected(await signTestToken(provider.accessTokenClaims('alice'), { kid: null }), 'TOKEN_INVALID');
  });

  it('rejects a token with a kid the issuer does not publish', async () => {
    await expectRejected(await signTestToken(provider.accessTokenClaims('alice'), { kid: 'unknown-kid' }), 'TOKEN_INVALID');
  });

  it('rejects alg none', async () => {
    const header = { alg: 'none', typ: 'at+jwt', kid: provider.signingKey.kid };
    await expectRejected(`${b64url(header)}.${b64url(provider.accessTokenClaims('alice'))}.`, 'TOKEN_INVALID');
  });

  it("rejects HS256 signed with the provider's RSA public key as the HMAC secret (alg confusion)", async () => {
    // The PEM an attacker could fetch and use: node:crypto, independent of the verifier's jose.
    const pem = createPublicKey({ key: publicJwk(provider.signingKey) as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    const signingInput = `${b64url({ alg: 'HS256', typ: 'at+jwt', kid: provider.signingKey.kid })}.${b64url(provider.accessTokenClaims('alice'))}`;
    for (const secret of [pem, JSON.stringify(publicJwk(provider.signingKey))]) {
      const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
      await expectRejected(`${signingInput}.${signature}`, 'TOKEN_INVALID');
    }
  });

  it('rejects a token from another issuer', async () => {
    await expectRejected(await trusted({ iss: 'http://127.0.0.1:1/' }), 'TOKEN_INVALID');
  });

  it('rejects a token for another audience', async () => {
    await expectRejected(await trusted({ aud: 'urn:other:api' }), 'TOKEN_INVALID');
  });

  it('rejects a token whose typ is not at+jwt (an ID token or a plain JWT)', async () => {
    await expectRejected(await trusted({}, { typ: 'JWT' }), 'TOKEN_INVALID');
    await expectRejected(await trusted({}, { typ: null }), 'TOKEN_INVALID');
  });

  it('rejects a real token whose payload was tampered with (role raised to platform_admin)', async () => {
    const [header = '', payload = '', signature = ''] = aliceToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    await expectRejected(`${header}.${b64url({ ...claims, role: 'platform_admin' })}.${signature}`, 'TOKEN_INVALID');
    await expectRejected(`${header}.${b64url({ ...claims, sub: provider.users.bob.sub })}.${signature}`, 'TOKEN_INVALID');
  });

  it('rejects a validly signed token with an unknown role or without a tenant as TOKEN_CLAIMS_INVALID', async () => {
    await expectRejected(await trusted({ role: 'superuser' }), 'TOKEN_CLAIMS_INVALID');
    await expectRejected(await trusted({ tenant_id: undefined }), 'TOKEN_CLAIMS_INVALID');
  });

  it('rejects a validly signed token without sub', async () => {
    await expectRejected(await trusted({ sub: undefined }), 'TOKEN_INVALID');
  });

  it('reports an unreachable issuer as ISSUER_UNAVAILABLE (503), not as a bad token', async () => {
    const port = await freePort();
    const offline = createTokenVerifier({ issuer: `http://127.0.0.1:${port}`, audience: provider.audience, jwksUri: `http://127.0.0.1:${port}/jwks` });
    const error = await rejection(offline, aliceToken);
    expect(error.code).toBe('ISSUER_UNAVAILABLE');
    expect(error.status).toBe(503);
  });
});

describe('JWKS key rotation', () => {
  it('verifies tokens signed with a new key without recreating the verifier, and drops the retired key', async () => {
    const first = await startDevOidcProvider();
    const rotating = createTokenVerifier({ issuer: first.issuer, audience: first.audience, jwksUri: first.jwksUri, jwksCooldownMs: 0 });
    let second: DevOidcProvider | undefined;
    try {
      const oldToken = await getDevToken(first.issuer, 'alice');
      await expect(rotating.verify(oldToken)).resolves.toMatchObject({ sub: first.users.alice.sub });

      await first.close();
      second = await startDevOidcProvider({ port: first.port });
      expect(second.issuer).toBe(first.issuer);
      expect(second.signingKey.kid).not.toBe(first.signingKey.kid);

      const newToken = await getDevToken(second.issuer, 'alice');
      await expect(rotating.verify(newToken)).resolves.toMatchObject({ sub: second.users.alice.sub });
      expect((await rejection(rotating, oldToken)).code).toBe('TOKEN_INVALID');
    } finally {
      await (second ?? first).close().catch(() => undefined);
    }
  });
});

describe('verified-token cache', () => {
  it('serves a verified token until it expires, then refuses it as expired', async () => {
    let clockMs = Date.now();
    const cached = createTokenVerifier({ issuer: provider.issuer, audience: provider.audience, jwksUri: provider.jwksUri, now: () => clockMs });
    const token = await trusted({ exp: nowS() + 120 });
    expect((await cached.verify(token)).sub).toBe(provider.users.alice.sub);
    expect((await cached.verify(token)).sub).toBe(provider.users.alice.sub);
    clockMs += 121_000 + 30_000; // past exp and the clock tolerance
    expect((await rejection(cached, token)).code).toBe('TOKEN_EXPIRED');
  });

  it('never lets a cached token vouch for a tampered copy of it', async () => {
    await verifier.verify(aliceToken);
    const [header, payload, signature] = aliceToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `${header}.${b64url({ ...claims, role: 'platform_admin' })}.${signature}`;
    expect((await rejection(verifier, forged)).code).toBe('TOKEN_INVALID');
    expect((await verifier.verify(aliceToken)).role).toBe('client');
  });
});
