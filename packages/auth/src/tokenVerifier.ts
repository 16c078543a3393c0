import { LRUCache } from 'lru-cache';
import type { Role } from '@fitledger/domain';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AuthenticationError } from './errors';
import { requireMfa, type MfaPolicy } from './mfaPolicy';

/**
 * Roles a user access token may carry: the six human roles. `system` is for workflows acting on
 * their own and is never accepted from an identity provider's token.
 */
export const TOKEN_ROLES = ['client', 'trainer', 'org_admin', 'auditor', 'researcher', 'platform_admin'] as const satisfies readonly Role[];
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** Who is calling, as established from a verified access token. */
export interface Identity {
  /** Opaque subject id (OIDC `sub`). */
  readonly sub: string;
  readonly role: TokenRole;
  readonly tenantId: string;
  /** OAuth scopes granted to the client (RFC 9068 `scope`, space-separated in the token). */
  readonly scopes: readonly string[];
  /** Authentication methods (RFC 8176), e.g. `['pwd', 'otp']`; empty when the token has none. */
  readonly amr: readonly string[];
  /** Authentication context class (OIDC `acr`), when the token carries one. */
  readonly acr?: string;
  /** `jti`, for audit records and revocation lists. */
  readonly tokenId?: string;
  readonly clientId?: string;
  /** `exp`, so long-lived connections (websockets) can close when the token runs out. */
  readonly expiresAtEpochS: number;
}

/** Verifies an access token and returns the caller's identity; throws AuthenticationError. */
export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
}

export interface TokenVerifierOptions {
  /** Expected `iss`, exactly. */
  readonly issuer: string;
  /** Expected `aud` (the API's resource indicator). */
  readonly audience: string;
  /** JWKS location; default: `jwks_uri` from the issuer's OIDC discovery document, fetched on first use. */
  readonly jwksUri?: string;
  /** Allowed clock skew for `exp`, `nbf` and `iat`. */
  readonly clockToleranceS?: number;
  /**
   * Minimum time between two JWKS fetches triggered by an unknown `kid` (jose's cooldown), which
   * bounds how often forged `kid`s can make us call the issuer. Rotation is picked up at the
   * first token with a new kid once this has passed since the last fetch.
   */
  readonly jwksCooldownMs?: number;
  /** How long a fetched JWKS is used before it is refetched anyway. */
  readonly jwksMaxAgeMs?: number;
  readonly jwksTimeoutMs?: number;
  /**
   * Verified tokens remembered until they expire (at most this many), so a client's every request
   * does not pay an RSA verification. 0 turns the cache off.
   */
  readonly verifiedCacheSize?: number;
  /** Clock for the cache's expiry checks (tests). */
  readonly now?: () => number;
  /**
   * Roles that must have logged in with MFA, and the `amr`/`acr` values that show it; a token of
   * such a role without them fails with MFA_REQUIRED. Default: not enforced (see mfaPolicyFromEnv).
   */
  readonly mfa?: MfaPolicy;
}

// RFC 9068 §2.1 / §4: JWT access tokens are typed `at+jwt`; jose compares `typ` case-insensitively
// and with or without the `application/` prefix, so `application/at+jwt` is accepted as well.
const ACCESS_TOKEN_TYP = 'at+jwt';
// Pinned: never let the token header choose the algorithm (alg=none, HS256-with-the-RSA-public-key).
const ALGORITHMS = ['RS256'];

function isTokenRole(value: unknown): value is TokenRole {
  return typeof value === 'string' && (TOKEN_ROLES as readonly string[]).includes(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Map a verified payload to an Identity; claim values never appear in error messages. */
export function identityFromClaims(payload: JWTPayload): Identity {
  const { sub, exp, jti } = payload;
  const role = payload['role'];
  const tenantId = payload['tenant_id'];
  const scope = payload['scope'];
  const amr = payload['amr'];
  const clientId = payload['client_id'];
  const acr = payload['acr'];
  if (typeof sub !== 'string' || sub === '') throw new AuthenticationError('TOKEN_CLAIMS_INVALID', 'the token has no subject');
  if (typeof exp !== 'number') throw new AuthenticationError('TOKEN_CLAIMS_INVALID', 'the token has no expiry');
  if (!isTokenRole(role)) throw new AuthenticationError('TOKEN_CLAIMS_INVALID', 'the token role claim is missing or not a known role');
  if (typeof tenantId !== 'string' || tenantId === '') throw new AuthenticationError('TOKEN_CLAIMS_INVALID', 'the token has no tenant_id claim');
  if (scope !== undefined && typeof scope !== 'string') throw new AuthenticationError('TOKEN_CLAIMS_INVALID', 'the token scope claim is not a string');
  if (amr !== undefined && !isStringArray(amr)) throw new AuthenticationError('TOKEN_CLAIMS_INVALID', 'the token amr claim is not a list of strings');
  return {
    sub,
    role,
    tenantId,
    scopes: scope ? scope.split(' ').filter((s) => s !== '') : [],
    amr: amr ?? [],
    ...(typeof acr === 'string' && acr !== '' ? { acr } : {}),
    ...(typeof jti === 'string' ? { tokenId: jti } : {}),
    ...(typeof clientId === 'string' ? { clientId } : {}),
    expiresAtEpochS: exp,
  };
}

function classify(error: unknown): AuthenticationError {
  if (error instanceof AuthenticationError) return error;
  if (error instanceof joseErrors.JWTExpired) return new AuthenticationError('TOKEN_EXPIRED', 'the token has expired', { cause: error });
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    // `claim` names the failed check (iss, aud, nbf, typ, ...): a name, not a value.
    return new AuthenticationError('TOKEN_INVALID', `the token failed the ${error.claim} check`, { cause: error });
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return new AuthenticationError('TOKEN_INVALID', 'the token algorithm is not allowed', { cause: error });
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthenticationError('TOKEN_INVALID', 'the token signature does not verify', { cause: error });
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return new AuthenticationError('TOKEN_INVALID', 'no single issuer key matches the token', { cause: error });
  }
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JOSENotSupported || error instanceof joseErrors.JWKInvalid) {
    return new AuthenticationError('TOKEN_INVALID', 'the token is not a valid signed JWT', { cause: error });
  }
  // JWKSTimeout, JWKSInvalid, a non-200 JWKS answer (plain JOSEError) or a network error.
  return new AuthenticationError('ISSUER_UNAVAILABLE', 'the identity provider keys could not be fetched', { cause: error });
}

async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<URL> {
  // OpenID Connect Discovery 1.0 §4: issuer without trailing slash + /.well-known/openid-configuration.
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (response.status !== 200) throw new Error(`discovery answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // §4.3: the issuer in the document must be the one we asked about.
  if (document.issuer !== issuer) throw new Error('discovery document names another issuer');
  if (typeof document.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
  return new URL(document.jwks_uri);
}

/** An RS256 JWT access token verifier for one issuer and audience, keys from the issuer's JWKS. */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const clockTolerance = options.clockToleranceS ?? 30;
  const timeoutMs = options.jwksTimeoutMs ?? 5_000;
  const remoteOptions = {
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    cacheMaxAge: options.jwksMaxAgeMs ?? 10 * 60_000,
    timeoutDuration: timeoutMs,
  };
  let keySet: Promise<JWTVerifyGetKey> | undefined = options.jwksUri
    ? Promise.resolve(createRemoteJWKSet(new URL(options.jwksUri), remoteOptions))
    : undefined;

  function getKeySet(): Promise<JWTVerifyGetKey> {
    keySet ??= discoverJwksUri(options.issuer, timeoutMs).then(
      (uri) => createRemoteJWKSet(uri, remoteOptions),
      (error: unknown) => {
        keySet = undefined; // try discovery again on the next request
        throw error;
      },
    );
    return keySet;
  }

  const now = options.now ?? Date.now;
  const cacheSize = options.verifiedCacheSize ?? 10_000;
  const verified = cacheSize > 0 ? new LRUCache<string, { identity: Identity; kid: string | undefined }>({ max: cacheSize }) : undefined;

  // jose hands out a deep copy of the key set on every jwks() call: the published kids are read at
  // most once per second (a retirement is only learnt at a refetch anyway, see jwksMaxAgeMs).
  let published: { readonly atMs: number; readonly kids: ReadonlySet<string | undefined> | undefined } | undefined;

  /** Whether the key that signed a cached token is still published (a retired key drops its tokens). */
  async function keyStillPublished(kid: string | undefined): Promise<boolean> {
    if (published === undefined || now() - published.atMs >= 1_000 || published.atMs > now()) {
      const set = (await getKeySet()) as JWTVerifyGetKey & { jwks?: () => { keys: { kid?: string }[] } | undefined };
      const keys = set.jwks?.()?.keys;
      published = { atMs: now(), kids: keys === undefined ? undefined : new Set(keys.map((k) => k.kid)) };
    }
    return published.kids === undefined || published.kids.has(kid);
  }

  return {
    async verify(token) {
      const cached = verified?.get(token);
      // A cached identity is good until its token's exp and while its signing key is published;
      // otherwise the token is verified again (and refused if it no longer verifies).
      if (cached !== undefined && cached.identity.expiresAtEpochS * 1000 > now() && (await keyStillPublished(cached.kid))) return cached.identity;
      try {
        const { payload, protectedHeader } = await jwtVerify(token, await getKeySet(), {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: ALGORITHMS,
          typ: ACCESS_TOKEN_TYP,
          clockTolerance,
          currentDate: new Date(now()),
          requiredClaims: ['sub', 'exp', 'iat'],
        });
        const identity = identityFromClaims(payload);
        if (options.mfa) requireMfa(identity, options.mfa);
        verified?.set(token, { identity, kid: protectedHeader.kid });
        return identity;
      } catch (error) {
        verified?.delete(token);
        throw classify(error);
      }
    },
  };
}
