import { problemType } from '@fitledger/http/problem';
/**
 * Stable codes of authentication failures. Messages name the rule that failed, never the token or
 * any claim value (tokens and subject ids must not reach logs through error messages).
 */
export type AuthenticationErrorCode =
  /** No `Authorization: Bearer` credentials (RFC 6750 §3.1: no error code in the challenge). */
  | 'TOKEN_MISSING'
  /** An `Authorization: Bearer` header that is not one b64token (RFC 6750 §2.1, `invalid_request`). */
  | 'TOKEN_MALFORMED'
  /** Bad signature, algorithm, key id, issuer, audience, `typ` or not yet valid (`nbf`). */
  | 'TOKEN_INVALID'
  /** `exp` is in the past by more than the clock tolerance. */
  | 'TOKEN_EXPIRED'
  /** Verified, but a FitLedger claim is missing or wrong (`sub`, `role`, `tenant_id`, `scope`, `amr`). */
  | 'TOKEN_CLAIMS_INVALID'
  /** The issuer's discovery document or JWKS could not be fetched: our problem, not the caller's (503). */
  | 'ISSUER_UNAVAILABLE'
  /**
   * Verified, but the role sees other people's data and the login was single-factor (no MFA `amr`
   * or `acr`): RFC 9470 `insufficient_user_authentication`.
   */
  | 'MFA_REQUIRED'
  /** A session cookie that names no live session (unknown, revoked, or unreadable). */
  | 'SESSION_INVALID'
  /** The session passed its idle timeout or absolute lifetime (it is deleted), or its refresh token was refused. */
  | 'SESSION_EXPIRED'
  /** A state-changing request authenticated by the session cookie without the session's CSRF token (403). */
  | 'CSRF_TOKEN_INVALID';

const TITLES: Record<AuthenticationErrorCode, string> = {
  TOKEN_MISSING: 'Authentication required',
  TOKEN_MALFORMED: 'Malformed bearer credentials',
  TOKEN_INVALID: 'Invalid access token',
  TOKEN_EXPIRED: 'Access token expired',
  TOKEN_CLAIMS_INVALID: 'Access token claims not accepted',
  ISSUER_UNAVAILABLE: 'Identity provider unavailable',
  MFA_REQUIRED: 'Multi-factor authentication required',
  SESSION_INVALID: 'No valid session',
  SESSION_EXPIRED: 'Session expired',
  CSRF_TOKEN_INVALID: 'CSRF token missing or invalid',
};

/** Bearer challenge realm of every FitLedger API. */
export const AUTH_REALM = 'fitledger';

/** An authenticated request failed; knows its HTTP status, challenge and RFC 9457 rendering. */
export class AuthenticationError extends Error {
  readonly code: AuthenticationErrorCode;
  /** MFA_REQUIRED only: the `acr` values that would satisfy the policy, for the RFC 9470 challenge. */
  readonly acrValues: readonly string[];

  constructor(code: AuthenticationErrorCode, detail: string, options?: { cause?: unknown; acrValues?: readonly string[] }) {
    super(detail, options);
    this.name = 'AuthenticationError';
    this.code = code;
    this.acrValues = options?.acrValues ?? [];
  }

  get title(): string {
    return TITLES[this.code];
  }

  /**
   * 400 for a malformed header and 503 for an unreachable issuer (RFC 6750 §3.1), 403 for a missing
   * CSRF token (the caller is known, the request is refused), otherwise 401 — MFA_REQUIRED too, as
   * RFC 9470 §3 answers a step-up with 401 and a challenge the client can act on by logging in again.
   */
  get status(): 400 | 401 | 403 | 503 {
    if (this.code === 'TOKEN_MALFORMED') return 400;
    if (this.code === 'CSRF_TOKEN_INVALID') return 403;
    if (this.code === 'ISSUER_UNAVAILABLE') return 503;
    return 401;
  }

  /** Response headers: the RFC 6750 §3 challenge (none for 503). */
  get headers(): Record<string, string> {
    switch (this.code) {
      case 'ISSUER_UNAVAILABLE':
        return { 'retry-after': '5' };
      case 'TOKEN_MISSING':
      case 'SESSION_INVALID':
      case 'SESSION_EXPIRED':
        return { 'www-authenticate': `Bearer realm="${AUTH_REALM}"` };
      case 'MFA_REQUIRED': {
        // RFC 9470 §3: the acr values that would do, so the client can ask the issuer for them.
        const acr = this.acrValues.length > 0 ? `, acr_values="${this.acrValues.join(' ')}"` : '';
        return { 'www-authenticate': `Bearer realm="${AUTH_REALM}", error="insufficient_user_authentication", error_description="${this.title}"${acr}` };
      }
      case 'CSRF_TOKEN_INVALID':
        return {};
      case 'TOKEN_MALFORMED':
        return { 'www-authenticate': `Bearer realm="${AUTH_REALM}", error="invalid_request", error_description="${this.title}"` };
      case 'TOKEN_INVALID':
      case 'TOKEN_EXPIRED':
      case 'TOKEN_CLAIMS_INVALID':
        return { 'www-authenticate': `Bearer realm="${AUTH_REALM}", error="invalid_token", error_description="${this.title}"` };
      default: {
        const _exhaustive: never = this.code;
        return _exhaustive;
      }
    }
  }

  /** RFC 9457 problem details, shaped like every other FitLedger problem. */
  toProblem(): AuthenticationProblem {
    return {
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      detail: this.message,
      code: this.code,
    };
  }
}

export interface AuthenticationProblem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: AuthenticationErrorCode;
}
