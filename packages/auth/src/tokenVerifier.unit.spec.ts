import { describe, expect, it } from 'vitest';
import { AuthenticationError } from './errors';
import { identityFromClaims } from './tokenVerifier';

const claims = {
  sub: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61',
  role: 'client',
  tenant_id: '3f1e2d4c-5b6a-4798-8c0b-1a2b3c4d5e6f',
  scope: 'fitledger:read fitledger:write',
  amr: ['pwd'],
  jti: 'token-1',
  client_id: 'fitledger-dev',
  exp: 2_000_000_000,
};

function codeOf(payload: Record<string, unknown>): string {
  try {
    identityFromClaims(payload);
    return 'OK';
  } catch (error) {
    if (error instanceof AuthenticationError) return error.code;
    throw error;
  }
}

describe('identityFromClaims', () => {
  it('maps the token claims to an identity', () => {
    expect(identityFromClaims(claims)).toEqual({
      sub: claims.sub,
      role: 'client',
      tenantId: claims.tenant_id,
      scopes: ['fitledger:read', 'fitledger:write'],
      amr: ['pwd'],
      tokenId: 'token-1',
      clientId: 'fitledger-dev',
      expiresAtEpochS: 2_000_000_000,
    });
  });

  it('accepts every human role', () => {
    for (const role of ['client', 'trainer', 'org_admin', 'auditor', 'researcher', 'platform_admin']) {
      expect(codeOf({ ...claims, role }), role).toBe('OK');
    }
  });

  it('rejects an unknown role, and the workflow-only system role, as TOKEN_CLAIMS_INVALID', () => {
    expect(codeOf({ ...claims, role: 'superuser' })).toBe('TOKEN_CLAIMS_INVALID');
    expect(codeOf({ ...claims, role: 'system' })).toBe('TOKEN_CLAIMS_INVALID');
    expect(codeOf({ ...claims, role: ['client'] })).toBe('TOKEN_CLAIMS_INVALID');
    expect(codeOf({ ...claims, role: undefined })).toBe('TOKEN_CLAIMS_INVALID');
  });

  it('rejects a token without sub or tenant_id as TOKEN_CLAIMS_INVALID', () => {
    expect(codeOf({ ...claims, sub: undefined })).toBe('TOKEN_CLAIMS_INVALID');
    expect(codeOf({ ...claims, sub: '' })).toBe('TOKEN_CLAIMS_INVALID');
    expect(codeOf({ ...claims, tenant_id: undefined })).toBe('TOKEN_CLAIMS_INVALID');
    expect(codeOf({ ...claims, tenant_id: 42 })).toBe('TOKEN_CLAIMS_INVALID');
  });

  it('rejects a scope that is not a string and an amr that is not a string list', () => {
    expect(codeOf({ ...claims, scope: ['fitledger:read'] })).toBe('TOKEN_CLAIMS_INVALID');
    expect(codeOf({ ...claims, amr: 'pwd' })).toBe('TOKEN_CLAIMS_INVALID');
  });

  it('reads a missing scope or amr as empty lists', () => {
    const { scope: _s, amr: _a, ...rest } = claims;
    expect(identityFromClaims(rest)).toMatchObject({ scopes: [], amr: [] });
  });

  it('keeps claim values out of error messages', () => {
    try {
      identityFromClaims({ ...claims, role: 'superuser-secret-value' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('superuser-secret-value');
      expect((error as Error).message).not.toContain(claims.sub);
    }
  });
});
