import { pooledRandomBytes } from '@fitledger/crypto';
import websocket from '@fastify/websocket';
import { auditorRoutes, auditProofRoutes, httpAccessLog, type AccessLog, type AuditorRoutesDeps, type Pseudonymiser } from '@fitledger/audit';
import { foldRecord } from './audit/foldRecord';
import { uuidv7 } from '@fitledger/domain';
import type { TokenVerifier } from '@fitledger/auth';
import { authenticate, AuthenticationError, browserLoginRoutes, type BrowserLogin } from '@fitledger/auth';
import { createService, DEFAULT_RATE_LIMITS, HttpProblem, rateLimits, type RateLimitOptions } from '@fitledger/http';
import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import type { ChangeSource } from './feed/changeSource';
import { FeedHub } from './feed/feedHub';
import { selectSubprotocol } from './feed/handshakeToken';
import { ownDataOnly, type ReadScopeResolver } from './readScope';
import { readContextHooks, rowSecurityPool } from './rowLevelSecurity';
import { CLOSE_GOING_AWAY, feedRoutes, type FeedOptions } from './routes/feed';
import { exerciseRepresentationSchemas } from './exercises/exerciseRepresentation';
import { bodyMeasurementSchema } from './bodyMeasurementRepresentation';
import { bodyMeasurementRoutes } from './routes/bodyMeasurements';
import { profileRoutes } from './routes/profile';
import { profileSchema } from './profileRepresentation';
import { goalRoutes, goalSchema } from './routes/goals';
import { planRoutes, planSchema } from './routes/plans';
import { streakRoutes } from './routes/streaks';
import { templateRoutes, templateSchema } from './routes/templates';
import { exerciseRoutes } from './routes/exercises';
import { exportRoutes } from './routes/exports';
import { personalRecordRoutes } from './routes/personalRecords';
import { workoutRoutes } from './routes/workouts';
import { leaderboardRoutes } from './routes/leaderboard';
import { accessListRoutes, accessSchemas } from './access/accessListRoutes';
import { clientFeedResolver, clientIdParam, clientScopedRoutes } from './access/clientRoutes';
import type { ConsentReader } from './access/consentReader';
import { emergencyAccessReadRoutes, emergencyAccessSchemas } from './access/emergencyAccessRoutes';
import { representationSchemas } from './workoutRepresentation';

export interface QueryServiceDeps {
  /** The read-model database: a Kysely instance, or a pg pool (wrapped; the caller still owns and ends it). */
  readonly db: Kysely<ReadModelDb> | pg.Pool;
  readonly verifier: TokenVerifier;
  /** Wakes live feeds when `rm_feed_changes` gains rows (in-process or pg LISTEN adapter). */
  readonly changeSource: ChangeSource;
  readonly logger?: FastifyBaseLogger;
  /** Whose data a caller reads; default: their own. */
  readonly resolveScope?: ReadScopeResolver;
  readonly feed?: FeedOptions;
  /** Per-user, per-organisation and per-IP (unauthenticated) request budgets; default DEFAULT_RATE_LIMITS. */
  readonly rateLimits?: RateLimitOptions;
  /**
   * Subjects' consents as they are now. With it, trainers read their clients' data under
   * `/clients/{clientId}/…` by relationship and consent; without it those routes are not mounted.
   */
  readonly consents?: ConsentReader;
  readonly clock?: () => Date;
  /** How often an open client feed re-checks the consent it relies on (default 1 s). */
  readonly feedRecheckMs?: number;
  /** Browser login (BFF): mounts /auth/* and lets the API routes accept its session cookie (with CSRF token) besides bearer tokens. */
  readonly browserLogin?: BrowserLogin;
  /**
   * The access log: every request under /api/v1 (each a read of someone's data or a denial)
   * becomes an access record, durable before the response leaves. Always given by the service's
   * main and the system; optional only for tests of other concerns.
   */
  readonly accessLog?: { readonly log: AccessLog; readonly pseudonymise: Pseudonymiser };
  /**
   * The event store and the log's database, for the auditor API (history and state of any record,
   * accounting of disclosures) and everyone's own "who has seen my data"; mounted with `accessLog`.
   */
  readonly auditReads?: Pick<AuditorRoutesDeps, 'pool' | 'store' | 'open'>;
  /**
   * `db` is a pool used by nothing but these read models: its connections keep the reader role
   * between requests instead of being reset (see rowSecurityPool). Never set it for a pool that
   * is shared with anything else (the access log, the consent reader, sessions).
   */
  readonly dedicatedReadPool?: boolean;
}

export const API_PREFIX = '/api/v1';

/** An AuthenticationError thrown past the hooks (e.g. by requireIdentity) renders like the hook's own answer. */
function authenticationProblem(error: unknown): HttpProblem | undefined {
  if (!(error instanceof AuthenticationError)) return undefined;
  return new HttpProblem(error.status, error.code, error.title, error.message, undefined, { ...error.headers, 'cache-control': 'no-store' });
}
/** Largest message a feed client may send (it is ignored anyway). */
const MAX_CLIENT_MESSAGE_BYTES = 4 * 1024;

/**
 * query-service: REST reads of the workout read models and the live websocket feed, under /api/v1,
 * every route authenticated. Pure wiring; never listens (see `startQueryService`).
 */
export function buildApp(deps: QueryServiceDeps): FastifyInstance {
  // Given the pool, every read-model query runs under row-level security (see rowLevelSecurity.ts);
  // a Kysely instance is used as it is (the caller owns its connections' settings).
  const pool = deps.db instanceof Kysely ? undefined : rowSecurityPool(deps.db, { dedicated: deps.dedicatedReadPool === true });
  const db = deps.db instanceof Kysely ? deps.db : new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool: pool ?? deps.db }) });
  const resolveScope = deps.resolveScope ?? ownDataOnly;
  const app = createService({
    ...(deps.logger ? { logger: deps.logger } : {}),
    bodyLimit: 16 * 1024,
    openapi: { title: 'FitLedger query API', version: '1.0.0', description: 'Reads of the read models and live feeds.' },
    readinessChecks: [
      async () => {
        // The tables belong to the projections' migrations; ready once they exist and answer.
        await sql`SELECT 1 FROM rm_feed_changes LIMIT 0`.execute(db);
      },
    ],
    errorMappers: [authenticationProblem],
  });
  readContextHooks(app);
  const clock = deps.clock ?? (() => new Date());
  const accessLog =
    deps.accessLog === undefined
      ? undefined
      : httpAccessLog(app, {
          ...deps.accessLog,
          service: 'query-service',
          clock,
          newId: () => uuidv7(clock(), pooledRandomBytes(10)),
          // Every API request: a read of someone's data (own, consented, break-glass) or a denial.
          classify: (request) => (request.url.startsWith(`${API_PREFIX}/`) ? 'read' : undefined),
        });
  // Before the routes: its hooks and the 429 it adds to their OpenAPI responses reach only routes registered after it.
  void app.register(rateLimits, deps.rateLimits ?? DEFAULT_RATE_LIMITS);
  for (const schema of [...representationSchemas, ...exerciseRepresentationSchemas, bodyMeasurementSchema, templateSchema, planSchema, goalSchema, profileSchema, ...accessSchemas, ...emergencyAccessSchemas]) app.addSchema(schema);

  if (deps.browserLogin) void app.register(browserLoginRoutes, { login: deps.browserLogin });

  const hub = new FeedHub(deps.changeSource);
  app.addHook('onClose', () => hub.close());

  void app.register(websocket, {
    options: { maxPayload: MAX_CLIENT_MESSAGE_BYTES, handleProtocols: selectSubprotocol },
    // Instead of the plugin's default (close without a code): 1001 tells clients to reconnect elsewhere.
    preClose: (done) => {
      for (const client of app.websocketServer.clients) client.close(CLOSE_GOING_AWAY, 'server shutting down');
      app.websocketServer.close();
      done();
    },
  });
  void app.register(
    (api, _opts, done) => {
      void api.register((rest, _restOpts, restDone) => {
        rest.addHook('onRequest', authenticate(deps.verifier, deps.browserLogin ? { sessions: deps.browserLogin } : {}));
        workoutRoutes(rest, { db, resolveScope });
        personalRecordRoutes(rest, { db, resolveScope });
        bodyMeasurementRoutes(rest, { db, resolveScope });
        profileRoutes(rest, { db, resolveScope });
        templateRoutes(rest, { db, resolveScope });
        planRoutes(rest, { db, resolveScope });
        streakRoutes(rest, { db, resolveScope });
        goalRoutes(rest, { db, resolveScope });
        exportRoutes(rest, { db, resolveScope });
        accessListRoutes(rest, { db, resolveScope });
        leaderboardRoutes(rest, { db, resolveScope });
        if (deps.auditReads !== undefined && deps.accessLog !== undefined) {
          auditorRoutes(rest, { ...deps.auditReads, fold: foldRecord, pseudonymise: deps.accessLog.pseudonymise });
          // Checkpoints and inclusion / consistency proofs of the audit tree (hashes only).
          void rest.register(auditProofRoutes, { prefix: '/audit', db: deps.auditReads.pool });
        }
        if (deps.consents !== undefined) {
          emergencyAccessReadRoutes(rest, { db, resolveScope, consents: deps.consents });
          clientScopedRoutes(rest, { db, consents: deps.consents, clock: deps.clock ?? (() => new Date()) }, [
            {
              scope: 'workouts',
              register: (clients, scoped) => {
                workoutRoutes(clients, { db, resolveScope: scoped });
                personalRecordRoutes(clients, { db, resolveScope: scoped });
                streakRoutes(clients, { db, resolveScope: scoped });
              },
            },
            { scope: 'body_metrics', register: (clients, scoped) => bodyMeasurementRoutes(clients, { db, resolveScope: scoped }) },
            { scope: 'goals', register: (clients, scoped) => goalRoutes(clients, { db, resolveScope: scoped }) },
          ]);
        }
        exerciseRoutes(rest, { db, resolveScope, ...(pool === undefined ? {} : { pool }) });
        restDone();
      });
      void api.register((live, _liveOpts, liveDone) => {
        const recordFeed = accessLog === undefined ? {} : { recordOpen: (request: FastifyRequest) => accessLog.recordNow(request, 101) };
        feedRoutes(live, { db, verifier: deps.verifier, hub, resolveScope, ...recordFeed, ...(deps.feed ? { options: deps.feed } : {}) });
        const consents = deps.consents;
        if (consents !== undefined) {
          // A trainer's live feed of a client: only the consented kinds, closed once consent is withdrawn.
          void live.register(
            (clients, _opts, clientsDone) => {
              clientIdParam(clients);
              const resolveClient = clientFeedResolver({ db, consents, clock: deps.clock ?? (() => new Date()) });
              feedRoutes(clients, { db, verifier: deps.verifier, hub, resolveScope: resolveClient, recheckScopeMs: deps.feedRecheckMs ?? 1_000, ...recordFeed, ...(deps.feed ? { options: deps.feed } : {}) });
              clientsDone();
            },
            { prefix: '/clients/:clientId' },
          );
        }
        liveDone();
      });
      done();
    },
    { prefix: API_PREFIX },
  );
  return app;
}

