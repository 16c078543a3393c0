import { describe, expect, it } from 'vitest';
import { AuthenticationError } from './errors';
import { DEFAULT_MFA_POLICY, MfaPolicyConfigError, mfaPolicyFromEnv, PAPE_MULTI_FACTOR_ACR, requireMfa, satisfiesMfaPolicy } from './mfaPolicy';

describe('satisfiesMfaPolicy', () => {
  it('accepts a trainer whose amr holds otp', () => {
    expect(satisfiesMfaPolicy({ role: 'trainer', amr: ['pwd', 'otp'] }, DEFAULT_MFA_POLICY)).toBe(true);
  });

  it('refuses a trainer who logged in with a password only', () => {
    expect(satisfiesMfaPolicy({ role: 'trainer', amr: ['pwd'] }, DEFAULT_MFA_POLICY)).toBe(false);
  });

  it('refuses every privileged role without a second factor, and never a client', () => {
    const outcomes = Object.fromEntries(
      (['client', 'trainer', 'org_admin', 'auditor', 'researcher', 'platform_admin'] as const).map((role) => [role, satisfiesMfaPolicy({ role, amr: ['pwd'] }, DEFAULT_MFA_POLICY)]),
    );
    expect(outcomes).toEqual({ client: true, trainer: false, org_admin: false, auditor: false, researcher: false, platform_admin: false });
  });

  it('accepts an acr the issuer uses for multi-factor logins', () => {
    expect(satisfiesMfaPolicy({ role: 'auditor', amr: [], acr: PAPE_MULTI_FACTOR_ACR }, DEFAULT_MFA_POLICY)).toBe(true);
    expect(satisfiesMfaPolicy({ role: 'auditor', amr: [], acr: '0' }, DEFAULT_MFA_POLICY)).toBe(false);
  });

  it('accepts a hardware key (hwk) and the explicit mfa value', () => {
    expect(satisfiesMfaPolicy({ role: 'platform_admin', amr: ['hwk'] }, DEFAULT_MFA_POLICY)).toBe(true);
    expect(satisfiesMfaPolicy({ role: 'platform_admin', amr: ['mfa'] }, DEFAULT_MFA_POLICY)).toBe(true);
  });
});

describe('requireMfa', () => {
  it('throws MFA_REQUIRED: 401 with the RFC 9470 insufficient_user_authentication challenge and acr_values', () => {
    let error: unknown;
    try {
      requireMfa({ role: 'trainer', amr: ['pwd'] }, DEFAULT_MFA_POLICY);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthenticationError);
    const e = error as AuthenticationError;
    expect(e.code).toBe('MFA_REQUIRED');
    expect(e.status).toBe(401);
    expect(e.headers['www-authenticate']).toBe(
      `Bearer realm="fitledger", error="insufficient_user_authentication", error_description="Multi-factor authentication required", acr_values="${PAPE_MULTI_FACTOR_ACR}"`,
    );
    expect(e.toProblem()).toEqual({
      type: 'https://fitledger.dev/problems/mfa-required',
      title: 'Multi-factor authentication required',
      status: 401,
      detail: 'the trainer role requires a multi-factor login',
      code: 'MFA_REQUIRED',
    });
  });

  it('leaves acr_values out of the challenge when the policy has none', () => {
    try {
      requireMfa({ role: 'trainer', amr: ['pwd'] }, { ...DEFAULT_MFA_POLICY, acrValues: [] });
    } catch (e) {
      expect((e as AuthenticationError).headers['www-authenticate']).not.toContain('acr_values');
      return;
    }
    throw new Error('not refused');
  });
});

describe('mfaPolicyFromEnv', () => {
  it('enforces the default policy when nothing is set', () => {
    expect(mfaPolicyFromEnv({})).toEqual(DEFAULT_MFA_POLICY);
  });

  it('reads roles, amr and acr values (comma or space separated)', () => {
    expect(mfaPolicyFromEnv({ OIDC_MFA_ROLES: 'auditor, platform_admin', OIDC_MFA_AMR: 'mfa otp', OIDC_MFA_ACR: 'gold' })).toEqual({
      roles: ['auditor', 'platform_admin'],
      amrValues: ['mfa', 'otp'],
      acrValues: ['gold'],
    });
  });

  it('turns enforcement off with OIDC_MFA_ROLES=none, and acr values off with OIDC_MFA_ACR=none', () => {
    expect(mfaPolicyFromEnv({ OIDC_MFA_ROLES: 'none' })).toBeUndefined();
    expect(mfaPolicyFromEnv({ OIDC_MFA_ACR: 'none' })?.acrValues).toEqual([]);
  });

  it('names the variable of an unknown role', () => {
    expect(() => mfaPolicyFromEnv({ OIDC_MFA_ROLES: 'trainer,coach' })).toThrow(MfaPolicyConfigError);
    expect(() => mfaPolicyFromEnv({ OIDC_MFA_ROLES: 'trainer,coach' })).toThrow(/OIDC_MFA_ROLES/);
  });

  it('refuses a value that would break the quoted challenge parameter', () => {
    expect(() => mfaPolicyFromEnv({ OIDC_MFA_ACR: 'a"b' })).toThrow(/OIDC_MFA_ACR/);
  });
});
