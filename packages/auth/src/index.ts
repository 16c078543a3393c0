export { AuthenticationError, AUTH_REALM } from './errors';
export type { AuthenticationErrorCode, AuthenticationProblem } from './errors';
export { bearerToken } from './bearerToken';
export { createTokenVerifier, identityFromClaims, TOKEN_ROLES } from './tokenVerifier';
export type { Identity, TokenRole, TokenVerifier, TokenVerifierOptions } from './tokenVerifier';
export { authenticate, requireIdentity, sendAuthenticationProblem, PROBLEM_CONTENT_TYPE } from './authenticate';
