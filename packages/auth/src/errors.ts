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
  | 'ISSUER_UNAVAILABLE';

const TITLES: Record<AuthenticationErrorCode, string> = {
  TOKEN_MISSING: 'Authentication required',
  TOKEN_MALFORMED: 'Malformed bearer credentials',
  TOKEN_INVALID: 'Invalid access token',
  TOKEN_EXPIRED: 'Access token expired',
  TOKEN_CLAIMS_INVALID: 'Access token claims not accepted',
  ISSUER_UNAVAILABLE: 'Identity provider unavailable',
};

/** Bearer challenge realm of every FitLedger API. */
export const AUTH_REALM = 'fitledger';

/** An authenticated request failed; knows its HTTP status, challenge and RFC 9457 rendering. */
export class AuthenticationError extends Error {
  readonly code: AuthenticationErrorCode;

  constructor(code: AuthenticationErrorCode, detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = 'AuthenticationError';
    this.code = code;
  }

  get title(): string {
    return TITLES[this.code];
  }

  /** 400 for a malformed header and 503 for an unreachable issuer (RFC 6750 §3.1), otherwise 401. */
  get status(): 400 | 401 | 503 {
    if (this.code === 'TOKEN_MALFORMED') return 400;
    if (this.code === 'ISSUER_UNAVAILABLE') return 503;
    return 401;
  }

  /** Response headers: the RFC 6750 §3 challenge (none for 503). */
  get headers(): Record<string, string> {
    switch (this.code) {
      case 'ISSUER_UNAVAILABLE':
        return { 'retry-after': '5' };
      case 'TOKEN_MISSING':
        return { 'www-authenticate': `Bearer realm="${AUTH_REALM}"` };
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
