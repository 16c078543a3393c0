import { AuthenticationError } from './errors';
import type { Identity, TokenRole } from './tokenVerifier';

/**
 * Which roles must have logged in with more than one factor, and what in a token shows that it
 * did: any one of `amrValues` in `amr` (RFC 8176) or an `acr` from `acrValues`. Issuers differ
 * (Keycloak sends `acr` levels, Entra ID `amr: ["mfa"]`, Auth0 `amr: ["mfa"]`), hence per issuer.
 */
export interface MfaPolicy {
  readonly roles: readonly TokenRole[];
  readonly amrValues: readonly string[];
  readonly acrValues: readonly string[];
}

/** The roles that see other people's data (ARCHITECTURE.md "Roles"): everyone but a client. */
export const PRIVILEGED_ROLES = ['trainer', 'org_admin', 'auditor', 'researcher', 'platform_admin'] as const satisfies readonly TokenRole[];

/**
 * RFC 8176 §2 methods that are a second factor or a possession/inherence factor on their own:
 * `mfa` itself, one-time codes (otp, sms, tel), keys (hwk, swk, sc) and biometrics.
 */
export const MFA_AMR_VALUES = ['mfa', 'otp', 'sms', 'tel', 'hwk', 'swk', 'sc', 'fpt', 'face', 'iris', 'retina', 'vbm'] as const;

/** The OpenID PAPE multi-factor policy URI, which some issuers put in `acr`. */
export const PAPE_MULTI_FACTOR_ACR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

export const DEFAULT_MFA_POLICY: MfaPolicy = Object.freeze({
  roles: PRIVILEGED_ROLES,
  amrValues: MFA_AMR_VALUES,
  acrValues: [PAPE_MULTI_FACTOR_ACR],
});

/** Whether the identity satisfies the policy: roles outside it always do. */
export function satisfiesMfaPolicy(identity: Pick<Identity, 'role' | 'amr' | 'acr'>, policy: MfaPolicy): boolean {
  if (!policy.roles.includes(identity.role)) return true;
  if (identity.amr.some((method) => policy.amrValues.includes(method))) return true;
  return identity.acr !== undefined && policy.acrValues.includes(identity.acr);
}

/** Throws MFA_REQUIRED (RFC 9470) when a privileged identity logged in with one factor. */
export function requireMfa(identity: Pick<Identity, 'role' | 'amr' | 'acr'>, policy: MfaPolicy): void {
  if (satisfiesMfaPolicy(identity, policy)) return;
  // The role is named (it is what the policy is about); the subject and claim values are not.
  throw new AuthenticationError('MFA_REQUIRED', `the ${identity.role} role requires a multi-factor login`, { acrValues: policy.acrValues });
}

/** A setting the MFA policy cannot use; names the variable. */
export class MfaPolicyConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'MfaPolicyConfigError';
  }
}

const ROLE_NAMES: readonly string[] = ['client', ...PRIVILEGED_ROLES];
// Values end up in a quoted WWW-Authenticate parameter: no quotes, backslashes, spaces or controls.
const CLAIM_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function list(env: Readonly<Record<string, string | undefined>>, name: string): string[] | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  return raw.split(/[\s,]+/).filter((v) => v !== '');
}

function noneIsEmpty(values: string[] | undefined): string[] | undefined {
  return values?.length === 1 && values[0] === 'none' ? [] : values;
}

/**
 * The MFA policy from `OIDC_MFA_ROLES` (comma or space separated; default: the privileged roles;
 * `none` turns MFA enforcement off), `OIDC_MFA_AMR` (default MFA_AMR_VALUES) and `OIDC_MFA_ACR`
 * (default the PAPE multi-factor URI; `none` for no value). Undefined when turned off.
 */
export function mfaPolicyFromEnv(env: Readonly<Record<string, string | undefined>>): MfaPolicy | undefined {
  const roles = list(env, 'OIDC_MFA_ROLES');
  if (roles?.length === 1 && roles[0] === 'none') return undefined;
  for (const role of roles ?? []) {
    if (!ROLE_NAMES.includes(role)) throw new MfaPolicyConfigError('OIDC_MFA_ROLES', `OIDC_MFA_ROLES: unknown role "${role}" (one of ${ROLE_NAMES.join(', ')}, or none)`);
  }
  const amrValues = noneIsEmpty(list(env, 'OIDC_MFA_AMR')) ?? [...MFA_AMR_VALUES];
  const acrValues = noneIsEmpty(list(env, 'OIDC_MFA_ACR')) ?? [PAPE_MULTI_FACTOR_ACR];
  for (const [name, values] of [['OIDC_MFA_AMR', amrValues], ['OIDC_MFA_ACR', acrValues]] as const) {
    if (values.some((v) => !CLAIM_VALUE.test(v))) throw new MfaPolicyConfigError(name, `${name}: values are printable ASCII without quotes or backslashes`);
  }
  return Object.freeze({ roles: (roles as TokenRole[] | undefined) ?? [...PRIVILEGED_ROLES], amrValues, acrValues });
}
