import { hmacPseudonymiser, migrateAuditSchema, PostgresAccessLog } from '@fitledger/audit';
import { createBrowserLogin, createTokenVerifier, migrateAuthSchema, type BrowserLoginConfig, type MfaPolicy } from '@fitledger/auth';
import { migrateCryptoSchema } from '@fitledger/crypto';
import { consentReaderOnPool } from './access/consentReader';
import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { buildApp } from './buildApp';
import type { QueryServiceConfig } from './config';
import type { ChangeSource } from './feed/changeSource';
import { startPgListenChangeSource } from './feed/pgListenChangeSource';
import type { FeedOptions } from './routes/feed';

export interface StartQueryServiceOptions {
  /**
   * Wakes live feeds. In the one-process launcher pass `inProcessChangeSource()` and hand its
   * `publish` to the projection runner; without it, a pg LISTEN rm_changes connection is opened.
   */
  readonly changeSource?: ChangeSource;
  readonly logger?: FastifyBaseLogger;
  readonly feed?: FeedOptions;
  /** Privileged roles need a multi-factor login (see mfaPolicyFromEnv); default: not enforced. */
  readonly mfa?: MfaPolicy;
  /** Browser login (BFF) with sessions in this database (migrated at start); default: bearer tokens only. */
  readonly browserLogin?: BrowserLoginConfig;
  /** The access log's pseudonym secret (see loadPseudonymSecret): every API request is recorded in this database. */
  readonly pseudonymSecret: Buffer;
}

export interface RunningQueryService {
  readonly app: FastifyInstance;
  /** `http://host:port` actually bound (PORT=0 picks a free port). */
  readonly url: string;
  /** Stops accepting, closes feeds (1001), then the change source and the database pool. */
  close(): Promise<void>;
}

/** Builds the adapters from config, builds the app and listens. */
export async function startQueryService(config: QueryServiceConfig, options: StartQueryServiceOptions): Promise<RunningQueryService> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  pool.on('error', () => undefined); // an idle client's error surfaces on its next query
  const db = new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool }) });
  const ownChangeSource = options.changeSource
    ? undefined
    : await startPgListenChangeSource({ connectionString: config.databaseUrl, ...(options.logger ? { logger: options.logger } : {}) }).catch(async (error: unknown) => {
        await db.destroy();
        throw error;
      });
  const changeSource = options.changeSource ?? ownChangeSource;
  if (!changeSource) throw new Error('unreachable: no change source');
  const verifier = createTokenVerifier({ issuer: config.oidcIssuer, audience: config.oidcAudience, ...(options.mfa ? { mfa: options.mfa } : {}) });
  if (options.browserLogin) {
    await migrateAuthSchema(pool).catch(async (error: unknown) => {
      await ownChangeSource?.close();
      await db.destroy();
      throw error;
    });
  }
  await migrateAuditSchema(pool).catch(async (error: unknown) => {
    await ownChangeSource?.close();
    await db.destroy();
    throw error;
  });
  // The key store's rows live in crypto_subject_keys, for either adapter (createKeyStore's precondition).
  if (config.keyStore) {
    await migrateCryptoSchema(pool).catch(async (error: unknown) => {
      await ownChangeSource?.close();
      await db.destroy();
      throw error;
    });
  }
  const accessLog = new PostgresAccessLog(pool);
  const browserLogin = options.browserLogin ? createBrowserLogin(options.browserLogin, { pool, verifier, ...(options.logger ? { logger: options.logger } : {}) }) : undefined;
  // With a key store (config.keyStore) the service decrypts consent streams and mounts the trainer routes.
  const consents = config.keyStore === undefined ? undefined : consentReaderOnPool(pool, config.keyStore);
  // The read models' own pool: its connections stay in the reader role between requests (see
  // rowSecurityPool); everything else (access log, consents, sessions) uses `pool`.
  const readPool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  readPool.on('error', () => undefined);
  const app = buildApp({
    // buildApp wraps it, and the exercise search runs prepared statements on it.
    db: readPool,
    dedicatedReadPool: true,
    verifier,
    changeSource,
    rateLimits: config.rateLimits,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.feed ? { feed: options.feed } : {}),
    ...(consents ? { consents: consents.reader } : {}),
    ...(browserLogin ? { browserLogin } : {}),
    accessLog: { log: accessLog, pseudonymise: hmacPseudonymiser(options.pseudonymSecret) },
    ...(consents ? { auditReads: { pool, store: consents.store, open: (recorded) => consents.codec.decodeAll(recorded) } } : {}),
  });
  const closeAdapters = async (): Promise<void> => {
    await ownChangeSource?.close();
    await consents?.close();
    await accessLog.close();
    await readPool.end();
    await db.destroy(); // ends the pool
  };
  let url: string;
  try {
    url = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    await closeAdapters();
    throw error;
  }
  return {
    app,
    url,
    async close() {
      await app.close();
      await closeAdapters();
    },
  };
}
