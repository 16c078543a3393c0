import { createTokenVerifier, type MfaPolicy, type TokenVerifier } from '@fitledger/auth';
import { createKeyStore, migrateCryptoSchema, PhiCodec, pooledRandomBytes, type KeyStore } from '@fitledger/crypto';
import { eventRegistry } from '@fitledger/domain';
import { EventCodec } from '@fitledger/event-codec';
import { migrateEventStore, PostgresEventStore, type EventStore } from '@fitledger/event-store';
import { createService, DEFAULT_RATE_LIMITS, rateLimits, type RateLimitOptions } from '@fitledger/http';
import { createLogger } from '@fitledger/observability';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Logger } from 'pino';
import type { CommandServiceConfig } from './config';
import { readModelDb, type ReadModelDb } from '@fitledger/projections';
import type { Kysely } from 'kysely';
import { clientAccessCheck } from './clientAssignment';
import { commandAccessLog } from './accessLog';
import { hmacPseudonymiser, migrateAuditSchema, PostgresAccessLog, type AccessLog, type Pseudonymiser } from '@fitledger/audit';
import { membershipLookup } from './membership';
import { clientAssignmentRoutes } from './routes/clientAssignments';
import { createBodyMeasurementCommandRunner } from './bodyMeasurementCommandRunner';
import { createGoalEvaluator } from './goalEvaluator';
import { createProfileCommandRunner } from './profileCommandRunner';
import { createExerciseCommandRunner } from './exerciseCommandRunner';
import { commandErrorMappers } from './problems';
import { bodyMeasurementRoutes } from './routes/bodyMeasurements';
import { profileRoutes } from './routes/profile';
import { goalRoutes } from './routes/goals';
import { createGoalCommandRunner } from './goalCommandRunner';
import { planRoutes } from './routes/plans';
import { templateRoutes } from './routes/templates';
import { createPlanCommandRunner } from './planCommandRunner';
import { createTemplateCommandRunner } from './templateCommandRunner';
import { exerciseRoutes } from './routes/exercises';
import { API_PREFIX, workoutRoutes } from './routes/workouts';
import { createWorkoutCommandRunner } from './workoutCommandRunner';
import { createCoachingCommandRunner, createConsentCommandRunner, createEmergencyAccessCommandRunner, createOrganisationCommandRunner } from './accessCommandRunners';
import { organisationRoutes } from './routes/organisations';
import { accessRoutes, emergencyAccessRoutes } from './routes/access';
import { DEFAULT_AGE_OF_DIGITAL_CONSENT } from '@fitledger/domain';

export { ConfigError, loadConfig, DEFAULT_BODY_LIMIT_BYTES, DEFAULT_PORT, type CommandServiceConfig } from './config';
export { API_PREFIX } from './routes/workouts';

/** What the command service needs; plain arguments, no container. */
export interface Deps {
  readonly store: EventStore;
  readonly codec: EventCodec;
  /** The key store behind `codec`: Idempotency-Key ids are keyed hashes under the subject's data key. */
  readonly keys: KeyStore;
  readonly verifier: TokenVerifier;
  readonly logger?: Logger;
  readonly clock: () => Date;
  /** `size` cryptographically random bytes (for UUIDv7 ids). */
  readonly randomBytes: (size: number) => Uint8Array;
  /** Largest request body in bytes (default 64 KiB): larger gets 413. */
  readonly bodyLimit?: number;
  readonly readinessChecks?: readonly (() => Promise<void>)[];
  /** Per-user, per-organisation and per-IP (unauthenticated) request budgets; default DEFAULT_RATE_LIMITS. */
  readonly rateLimits?: RateLimitOptions;
  /**
   * The read models in the same database (the coaching relationships): with them trainers assign
   * workouts to clients (`POST /clients/{clientId}/workouts`); without, that route is not mounted.
   */
  readonly readModels?: Kysely<ReadModelDb>;
  /** Below this age (years) a consent needs a guardian's confirmation (default 16, GDPR Art. 8). */
  readonly ageOfDigitalConsent?: number;
  /** The access log (administrative actions, access changes, denials), durable before the response; given by main and the system. */
  readonly accessLog?: { readonly log: AccessLog; readonly pseudonymise: Pseudonymiser };
}

/** The command service (write side of workouts) as a fastify instance. Pure wiring: never listens. */
export function buildApp(deps: Deps): FastifyInstance {
  const app = createService({
    ...(deps.logger === undefined ? {} : { logger: deps.logger }),
    ...(deps.bodyLimit === undefined ? {} : { bodyLimit: deps.bodyLimit }),
    errorMappers: commandErrorMappers,
    readinessChecks: deps.readinessChecks ?? [],
    openapi: { title: 'FitLedger command API', version: '1.0.0', description: 'Write side: workouts and custom exercises. Every route needs a bearer access token.' },
  });
  if (deps.accessLog !== undefined) commandAccessLog(app, deps.accessLog, deps.clock);
  // Before the routes: its hooks and the 429 it adds to their OpenAPI responses reach only routes registered after it.
  void app.register(rateLimits, deps.rateLimits ?? DEFAULT_RATE_LIMITS);
  const runnerDeps = { store: deps.store, codec: deps.codec, keys: deps.keys, clock: deps.clock, randomBytes: deps.randomBytes };
  const runner = createWorkoutCommandRunner(runnerDeps);
  // Registered as a plugin so the routes are added after the OpenAPI plugin and show up in /openapi.json.
  void app.register(workoutRoutes, { prefix: API_PREFIX, verifier: deps.verifier, runner });
  const exerciseRunner = createExerciseCommandRunner(runnerDeps);
  void app.register(exerciseRoutes, { prefix: API_PREFIX, verifier: deps.verifier, runner: exerciseRunner });
  const measurementRunner = createBodyMeasurementCommandRunner(runnerDeps);
  void app.register(bodyMeasurementRoutes, { prefix: API_PREFIX, verifier: deps.verifier, runner: measurementRunner });
  const profileRunner = createProfileCommandRunner(runnerDeps);
  void app.register(profileRoutes, { prefix: API_PREFIX, verifier: deps.verifier, runner: profileRunner });
  const templateRunner = createTemplateCommandRunner(runnerDeps);
  void app.register(templateRoutes, { prefix: API_PREFIX, verifier: deps.verifier, templates: templateRunner, workouts: runner });
  void app.register(goalRoutes, { prefix: API_PREFIX, verifier: deps.verifier, goals: createGoalCommandRunner(runnerDeps) });
  const organisations = createOrganisationCommandRunner(runnerDeps);
  const membership = membershipLookup(organisations);
  void app.register(accessRoutes, {
    prefix: API_PREFIX,
    verifier: deps.verifier,
    consents: createConsentCommandRunner(runnerDeps),
    coaching: createCoachingCommandRunner(runnerDeps),
    profiles: profileRunner,
    ageOfDigitalConsent: deps.ageOfDigitalConsent ?? DEFAULT_AGE_OF_DIGITAL_CONSENT,
    membership,
  });
  const clientAccess = deps.readModels === undefined ? undefined : clientAccessCheck({ db: deps.readModels, store: deps.store, codec: deps.codec, clock: deps.clock, membership });
  if (clientAccess !== undefined) void app.register(clientAssignmentRoutes, { prefix: API_PREFIX, verifier: deps.verifier, workouts: runner, access: clientAccess });
  void app.register(emergencyAccessRoutes, { prefix: API_PREFIX, verifier: deps.verifier, emergency: createEmergencyAccessCommandRunner(runnerDeps), membership });
  void app.register(organisationRoutes, { prefix: API_PREFIX, verifier: deps.verifier, organisations });
  void app.register(planRoutes, { prefix: API_PREFIX, verifier: deps.verifier, plans: createPlanCommandRunner(runnerDeps), templates: templateRunner, ...(clientAccess === undefined ? {} : { clientAccess }) });
  return app;
}

export interface RunningCommandService {
  readonly app: FastifyInstance;
  /** Where it listens, e.g. `http://127.0.0.1:3001`. */
  readonly url: string;
  /** Asks the goal evaluator to run soon (coalesced; a no-op unless `goalEvaluation` was given). */
  evaluateGoals(): void;
  /** Stops listening, then closes the store, the key store and the pool. Idempotent. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** A logger of the caller's (the one-process launcher); default: pino with PHI redaction to stdout. */
  readonly logger?: Logger;
  /**
   * Run the goal evaluator over the read models in the same database: every `intervalMs` (a
   * period ends without any event) and whenever `evaluateGoals()` is called.
   */
  readonly goalEvaluation?: { readonly intervalMs: number };
  /** Privileged roles need a multi-factor login (see mfaPolicyFromEnv in @fitledger/auth); default: not enforced. */
  readonly mfa?: MfaPolicy;
  /** The access log's pseudonym secret (loadPseudonymSecret of @fitledger/audit). */
  readonly pseudonymSecret: Buffer;
}

/** Config → adapters → migrations → buildApp → listen. Used by main.ts and by the one-process launcher. */
export async function startCommandService(config: CommandServiceConfig, options: StartOptions): Promise<RunningCommandService> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, service: 'command-service' });
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection failed'));
  // Local or Vault, as configured; both keep their rows in crypto_subject_keys, migrated below before any use.
  const keys = createKeyStore(config.keyStore, pool);
  const store = new PostgresEventStore({ pool });
  const accessLog = new PostgresAccessLog(pool);
  const resources = async (): Promise<void> => {
    await accessLog.close();
    await store.close();
    await keys.close();
    await pool.end();
  };
  /** Single-flight: a wake-up during a run makes it run once more; errors are logged (no PHI), never thrown. */
  const startGoalEvaluation = (intervalMs: number) => {
    const evaluator = createGoalEvaluator({
      db: readModelDb(pool),
      goals: createGoalCommandRunner({ store, codec: new EventCodec(new PhiCodec(keys), eventRegistry), keys, clock: () => new Date(), randomBytes: pooledRandomBytes }),
      clock: () => new Date(),
    });
    let running: Promise<void> | undefined;
    let again = false;
    let stopped = false;
    const run = (): void => {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = evaluator
        .evaluate()
        .then((result) => {
          if (result.achieved + result.missed > 0) logger.info({ goalsAchieved: result.achieved, goalsMissed: result.missed }, 'goals decided');
        })
        .catch((error: unknown) => logger.warn({ err: error instanceof Error ? { name: error.name, code: (error as { code?: unknown }).code } : undefined }, 'goal evaluation failed'))
        .finally(() => {
          running = undefined;
          if (again) {
            again = false;
            run();
          }
        });
    };
    const timer = setInterval(run, intervalMs);
    timer.unref();
    return {
      wake: run,
      stop: async () => {
        stopped = true;
        clearInterval(timer);
        await running;
      },
    };
  };
  let app: FastifyInstance | undefined;
  try {
    await migrateEventStore(pool);
    await migrateCryptoSchema(pool);
    await migrateAuditSchema(pool);
    app = buildApp({
      store,
      codec: new EventCodec(new PhiCodec(keys), eventRegistry),
      keys,
      verifier: createTokenVerifier({ issuer: config.oidcIssuer, audience: config.oidcAudience, ...(options.mfa ? { mfa: options.mfa } : {}) }),
      logger,
      clock: () => new Date(),
      // Pooled CSPRNG bytes: a command draws several UUIDv7 tails, each its own OpenSSL call otherwise.
      randomBytes: pooledRandomBytes,
      bodyLimit: config.bodyLimitBytes,
      rateLimits: config.rateLimits,
      readModels: readModelDb(pool),
      ageOfDigitalConsent: config.ageOfDigitalConsent,
      accessLog: { log: accessLog, pseudonymise: hmacPseudonymiser(options.pseudonymSecret) },
      readinessChecks: [async () => void (await pool.query('SELECT 1'))],
    });
    const url = await app.listen({ port: config.port, host: config.host });
    const goals = options.goalEvaluation === undefined ? undefined : startGoalEvaluation(options.goalEvaluation.intervalMs);
    let closing: Promise<void> | undefined;
    const running = app;
    return {
      app: running,
      url,
      evaluateGoals: () => goals?.wake(),
      close: () => {
        closing ??= (goals?.stop() ?? Promise.resolve()).then(() => running.close()).finally(resources);
        return closing;
      },
    };
  } catch (error) {
    await app?.close();
    await resources();
    throw error;
  }
}
