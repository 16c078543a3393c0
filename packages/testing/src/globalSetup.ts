import type { TestProject } from 'vitest/node';
import { startPostgres, type RunningPostgres } from './embeddedPostgres';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { host: string; port: number; user: string; password: string };
  }
}

let server: RunningPostgres | undefined;

/**
 * One shared PostgreSQL server for the whole int tier; every test file creates its own database
 * on it (see `testDatabase`), so files run in parallel without seeing each other's rows.
 * fsync is off here: tests check behaviour, benchmarks (bench/) run with durable settings.
 */
export async function setup(project: TestProject): Promise<void> {
  server = await startPostgres({ settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
  project.provide('postgres', { host: server.host, port: server.port, user: server.user, password: server.password });
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
