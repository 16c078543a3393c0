import type { Identity } from '@fitledger/auth';
import { decideRead, type SharingScope } from '@fitledger/domain';
import { HttpProblem } from '@fitledger/http';
import type { FeedKind, ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Kysely } from 'kysely';
import type { ReadScope, ReadScopeResolver } from '../readScope';
import type { ConsentReader } from './consentReader';

/** The response header naming the consent version a read of someone else's data relied on. */
export const CONSENT_VERSION_HEADER = 'fitledger-consent-version';
/** The response header naming the emergency-access grant a read relied on. */
export const EMERGENCY_ACCESS_HEADER = 'fitledger-emergency-access';

const CLIENT_ID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** The one answer to any client the caller may not read — unknown, not theirs, no consent —, so nothing about the subject leaks. */
export function accessDenied(): HttpProblem {
  return new HttpProblem(403, 'ACCESS_DENIED', 'Forbidden', 'you may not read this data of this person (no active coaching relationship and consent in force for it)');
}

export interface ClientAccessDeps {
  readonly db: Kysely<ReadModelDb>;
  readonly consents: ConsentReader;
  readonly clock: () => Date;
}

/**
 * The read scope of a route under `/clients/{clientId}`: the client's own data when the pure policy
 * (packages/domain `decideRead`) allows it — the caller themselves, or their trainer with an active
 * relationship in the same organisation and a consent in force for `scope`. The consent is read
 * from the subject's consent stream at the request, so a withdrawal counts on the next request.
 */
export function clientScopeResolver(deps: ClientAccessDeps, scope: SharingScope): ReadScopeResolver {
  return async (identity: Identity, request?: FastifyRequest): Promise<ReadScope> => {
    const clientId = (request?.params as { clientId?: string } | undefined)?.clientId;
    if (clientId === undefined) return { tenantId: identity.tenantId, subjectId: identity.sub };
    const now = deps.clock();
    const caller = { sub: identity.sub, role: identity.role, tenantId: identity.tenantId };
    const target = { subjectId: clientId, tenantId: identity.tenantId, scope };
    // The owner needs no look-up; for anyone else: relationship (read model) and consent (stream).
    const [relationship, consent, emergency, membership] =
      clientId === identity.sub
        ? [undefined, undefined, undefined, undefined]
        : await Promise.all([
            deps.db
              .selectFrom('rm_coaching')
              .select(['status', 'tenant_id'])
              .where('trainer_id', '=', identity.sub)
              .where('client_id', '=', clientId)
              .where('tenant_id', '=', identity.tenantId)
              .orderBy('invited_at', 'desc')
              .execute()
              .then((rows) => rows.find((r) => r.status === 'active') ?? rows[0]),
            deps.consents.current(clientId),
            deps.consents.emergency(identity.tenantId, clientId),
            deps.consents.membership(identity.tenantId, identity.sub),
          ]);
    const decision = decideRead(caller, target, {
      ...(relationship === undefined ? {} : { coaching: { status: relationship.status, tenantId: relationship.tenant_id } }),
      ...(consent === undefined ? {} : { consent }),
      ...(emergency === undefined ? {} : { emergency }),
      ...(membership === undefined ? {} : { membership }),
      now,
    });
    if (!decision.allow) {
      request?.log.info({ deny: decision.reason, scope }, 'client data read denied');
      throw accessDenied();
    }
    switch (decision.basis) {
      case 'owner':
        return { tenantId: identity.tenantId, subjectId: identity.sub };
      case 'consent':
        return { tenantId: identity.tenantId, subjectId: clientId, consentVersion: decision.consentVersion };
      case 'emergency':
        request?.log.warn({ emergencyGrant: decision.grantId, scope }, 'client data read under emergency access');
        return { tenantId: identity.tenantId, subjectId: clientId, emergencyGrantId: decision.grantId };
      default: {
        const _: never = decision;
        throw new Error(`unknown basis ${JSON.stringify(_)}`);
      }
    }
  };
}

/** Feed kinds by the consent scope that reveals them. */
const FEED_KINDS_OF_SCOPE: readonly { scope: SharingScope; kinds: readonly FeedKind[] }[] = [
  { scope: 'workouts', kinds: ['workout', 'personal_record'] },
  { scope: 'body_metrics', kinds: ['body_measurement'] },
];

/**
 * The scope of a client's live feed: the kinds of change each consented scope reveals (workouts
 * and PRs, body measurements); refused when none is. The owner gets every kind.
 */
export function clientFeedResolver(deps: ClientAccessDeps): ReadScopeResolver {
  const resolvers = FEED_KINDS_OF_SCOPE.map((entry) => ({ ...entry, resolve: clientScopeResolver(deps, entry.scope) }));
  return async (identity, request) => {
    const kinds: FeedKind[] = [];
    let allowed: ReadScope | undefined;
    for (const { kinds: revealed, resolve } of resolvers) {
      try {
        const scope = await resolve(identity, request);
        if (scope.consentVersion === undefined && scope.emergencyGrantId === undefined) return scope;
        allowed = scope;
        kinds.push(...revealed);
      } catch (error) {
        if (!(error instanceof HttpProblem) || error.status !== 403) throw error;
      }
    }
    if (allowed === undefined) throw accessDenied();
    return { ...allowed, feedKinds: kinds };
  };
}

/** Adds the `clientId` path parameter to every route registered on `app` afterwards, tagged `clients`. */
export function clientIdParam(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = (route.schema ??= {}) as { params?: { type?: string; properties?: Record<string, unknown>; required?: string[]; additionalProperties?: boolean }; tags?: string[] };
    const params = schema.params ?? { type: 'object', additionalProperties: false, properties: {}, required: [] };
    schema.params = {
      ...params,
      properties: { clientId: { type: 'string', pattern: CLIENT_ID_PATTERN, description: 'The client (subject id) whose data is read.' }, ...params.properties },
      required: ['clientId', ...(params.required ?? []).filter((r) => r !== 'clientId')],
    };
    schema.tags = ['clients'];
  });
}

/**
 * Mounts read routes a second time under `/clients/:clientId`, each group with the resolver of its
 * data scope: the routes' own params schemas gain `clientId`, and a response relying on a consent
 * names its version in `FitLedger-Consent-Version`.
 */
export function clientScopedRoutes(app: FastifyInstance, deps: ClientAccessDeps, groups: readonly { scope: SharingScope; register(app: FastifyInstance, resolveScope: ReadScopeResolver): void }[]): void {
  app.register(
    (clients, _opts, done) => {
      clientIdParam(clients);
      const bases = new WeakMap<FastifyRequest, ReadScope>();
      for (const group of groups) {
        const resolve = clientScopeResolver(deps, group.scope);
        group.register(clients, async (identity, request) => {
          const scope = await resolve(identity, request);
          if (request !== undefined) bases.set(request, scope);
          return scope;
        });
      }
      clients.addHook('onSend', (request, reply, payload, next) => {
        const basis = bases.get(request);
        if (basis?.consentVersion !== undefined) void reply.header(CONSENT_VERSION_HEADER, String(basis.consentVersion));
        if (basis?.emergencyGrantId !== undefined) void reply.header(EMERGENCY_ACCESS_HEADER, basis.emergencyGrantId);
        next(null, payload);
      });
      done();
    },
    { prefix: '/clients/:clientId' },
  );
}
