import { KeyStoreConfigError, MasterKeyConfigError, PhiCodec, createKeyStore, loadKeyStoreConfig, migrateCryptoSchema, type KeyStoreConfig } from '@fitledger/crypto';
import { eventRegistry } from '@fitledger/domain';
import { EventCodec } from '@fitledger/event-codec';
import { MAX_COALESCE_MS, PostgresEventStore } from '@fitledger/event-store';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrateReadModels } from './migrations/index';
import { pruneFeed } from './feedRetention';
import { ProjectionRunner, type BatchTracer, type CommitListener, type Projection, type ProjectionLogger } from './projectionRunner';
import type { ReadModelDb } from './readModelDb';
import { exercisesProjection } from './exercises/exercisesProjection';
import { bodyMeasurementsProjection } from './bodyMetrics/bodyMeasurementsProjection';
import { profilesProjection } from './profiles/profilesProjection';
import { goalsProjection } from './goals/goalsProjection';
import { accessProjection } from './access/accessProjection';
import { plansProjection } from './plans/plansProjection';
import { templatesProjection } from './templates/templatesProjection';
import { workoutsProjection } from './workouts/workoutsProjection';

/** Thrown for a missing or malformed setting; the message names the variable. */
export class ProjectionsConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ProjectionsConfig {
  readonly databaseUrl: string;
  /** The key store that unwraps the subjects' data keys (loadKeyStoreConfig: KEY_STORE, master keys or VAULT_*). */
  readonly keyStore: KeyStoreConfig;
  readonly batchSize: number;
  /** Events per batch while a rebuild replays the store (bigger batches, fewer transactions). */
  readonly rebuildBatchSize: number;
  /** Live batches are read at most once per this many milliseconds while events keep coming (see ProjectionRunnerOptions.coalesceMs). */
  readonly coalesceMs: number;
  /** Feed rows older than this many days are pruned (feedRetention.ts); 0 keeps them forever. */
  readonly feedRetentionDays: number;
}

/**
 * Reads DATABASE_URL, the key store settings (KEY_STORE=local with FITLEDGER_MASTER_KEY or
 * FITLEDGER_MASTER_KEY_FILE and the optional FITLEDGER_PREVIOUS_MASTER_KEYS / _FILES of a rotation,
 * or KEY_STORE=vault with VAULT_*), PROJECTIONS_BATCH_SIZE (default 500),
 * PROJECTIONS_REBUILD_BATCH_SIZE (default 5000) and PROJECTIONS_COALESCE_MS (default
 * DEFAULT_COALESCE_MS, 0 to MAX_COALESCE_MS; 0 reads the next batch as soon as the runner asks for it)
 * and FEED_RETENTION_DAYS (default DEFAULT_FEED_RETENTION_DAYS, 0 to 3650; 0 keeps the feed forever).
 */
export function loadProjectionsConfig(env: Readonly<Record<string, string | undefined>>, readFile?: (path: string) => string): ProjectionsConfig {
  const databaseUrl = env.DATABASE_URL;
  if (databaseUrl === undefined || databaseUrl === '') {
    throw new ProjectionsConfigError('DATABASE_URL', 'DATABASE_URL is not set: give the PostgreSQL connection string of the event store and read models');
  }
  let keyStore: KeyStoreConfig;
  try {
    keyStore = readFile === undefined ? loadKeyStoreConfig(env) : loadKeyStoreConfig(env, readFile);
  } catch (error) {
    if (error instanceof MasterKeyConfigError || error instanceof KeyStoreConfigError) throw new ProjectionsConfigError(error.variable, error.message);
    throw error;
  }
  const batchSize = batchSizeFrom(env, 'PROJECTIONS_BATCH_SIZE', 500);
  const rebuildBatchSize = batchSizeFrom(env, 'PROJECTIONS_REBUILD_BATCH_SIZE', 5_000);
  const coalesceMs = integerFrom(env, 'PROJECTIONS_COALESCE_MS', DEFAULT_COALESCE_MS, 0, MAX_COALESCE_MS);
  const feedRetentionDays = integerFrom(env, 'FEED_RETENTION_DAYS', DEFAULT_FEED_RETENTION_DAYS, 0, 3_650);
  return Object.freeze({ databaseUrl, keyStore, batchSize, rebuildBatchSize, coalesceMs, feedRetentionDays });
}

/**
 * Under write load each live batch costs every projection with events in it one read-model
 * transaction (about a dozen round trips) whatever its size: read back to back, batches held a
 * few commits each and those transactions were a third of the machine's work per logged set.
 * Reading at most every 25 ms while events keep coming lets one transaction carry all of them
 * (see bench:http) for at most 25 ms of extra lag. The wait counts from the previous read's start,
 * so the first commit after 25 quiet milliseconds is read as soon as it is notified.
 */
export const DEFAULT_COALESCE_MS = 25;

/**
 * A live feed resumes from its cursor for this long; a client away longer reloads through the REST
 * reads and opens the feed afresh (a resume from before the horizon is answered 410).
 */
export const DEFAULT_FEED_RETENTION_DAYS = 30;
/** How often the feed is pruned (and once at start). */
export const FEED_PRUNE_INTERVAL_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Prunes the feed now and every `intervalMs` while running; `stop()` ends a prune in flight after
 * its current batch and waits for it. A failed prune is logged and retried at the next interval.
 */
export function scheduleFeedRetention(
  db: Kysely<ReadModelDb>,
  options: { readonly retentionDays: number; readonly intervalMs?: number; readonly logger?: ProjectionLogger; readonly clock?: () => Date },
): { stop(): Promise<void> } {
  const intervalMs = options.intervalMs ?? FEED_PRUNE_INTERVAL_MS;
  const clock = options.clock ?? (() => new Date());
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const abort = new AbortController();
  const run = (): void => {
    running = pruneFeed(db, { olderThan: new Date(clock().getTime() - options.retentionDays * DAY_MS), signal: abort.signal }).then(
      (result) => {
        if (result.deleted > 0) options.logger?.info({ deleted: result.deleted, horizon: result.horizon }, 'feed rows past retention pruned');
      },
      (error: unknown) => options.logger?.error({ err: error }, 'feed retention prune failed'),
    ).finally(() => {
      if (!stopped) {
        timer = setTimeout(run, intervalMs);
        timer.unref();
      }
    });
  };
  if (options.retentionDays > 0) run();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await running;
    },
  };
}

function integerFrom(env: Readonly<Record<string, string | undefined>>, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ProjectionsConfigError(variable, `${variable} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function batchSizeFrom(env: Readonly<Record<string, string | undefined>>, variable: string, fallback: number): number {
  return integerFrom(env, variable, fallback, 1, 10_000);
}

/** Every PostgreSQL read-model projection of the service. */
export function defaultProjections(logger?: ProjectionLogger): Projection[] {
  return [workoutsProjection(logger ? { logger } : {}), exercisesProjection(), bodyMeasurementsProjection(), templatesProjection(), plansProjection(), goalsProjection(), profilesProjection(), accessProjection()];
}

/** A Kysely instance over a pool the caller owns (destroying it ends that pool). */
export function readModelDb(pool: pg.Pool): Kysely<ReadModelDb> {
  return new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool }) });
}

export interface ProjectionsService {
  readonly runner: ProjectionRunner;
  close(): Promise<void>;
}

/**
 * Adapters from config (event store, key store, codec, read-model database) and a runner over
 * them, read models migrated. `close()` stops the runner and releases everything it opened.
 */
export async function openProjectionsService(
  config: ProjectionsConfig,
  options: { logger?: ProjectionLogger; onCommitted?: CommitListener; traceBatch?: BatchTracer; projections?: readonly Projection[] } = {},
): Promise<ProjectionsService> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5 });
  pool.on('error', () => undefined); // idle client errors surface on the next query
  try {
    await migrateReadModels(pool);
    // Both key store adapters keep their rows in crypto_subject_keys (createKeyStore's precondition).
    await migrateCryptoSchema(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const store = new PostgresEventStore({ pool });
  const keys = createKeyStore(config.keyStore, pool);
  const codec = new EventCodec(new PhiCodec(keys), eventRegistry);
  const db = readModelDb(pool);
  const runner = new ProjectionRunner({
    store,
    codec,
    db,
    projections: options.projections ?? defaultProjections(options.logger),
    batchSize: config.batchSize,
    rebuildBatchSize: config.rebuildBatchSize,
    coalesceMs: config.coalesceMs,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.onCommitted ? { onCommitted: options.onCommitted } : {}),
    ...(options.traceBatch ? { traceBatch: options.traceBatch } : {}),
  });
  const retention = scheduleFeedRetention(db, { retentionDays: config.feedRetentionDays, ...(options.logger ? { logger: options.logger } : {}) });
  return {
    runner,
    async close() {
      await retention.stop();
      await runner.stop();
      await store.close();
      await keys.close();
      await db.destroy(); // ends the pool
    },
  };
}
