import type { TestProject } from 'vitest/node';
import { devVaultEnv, findVaultCli, startDevVault, type DevVault } from './devVault';
import { startPostgres, type RunningPostgres } from './embeddedPostgres';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { host: string; port: number; user: string; password: string };
    /** The dev Vault server this setup started for the run, or null when it started none. */
    devVault: { address: string; transitMount: string } | null;
  }
}

let server: RunningPostgres | undefined;
let vault: DevVault | undefined;

/**
 * One shared PostgreSQL server for the whole int tier; every test file creates its own database
 * on it (see `testDatabase`), so files run in parallel without seeing each other's rows.
 * fsync is off here: tests check behaviour, benchmarks (bench/) run with durable settings.
 *
 * When VAULT_ADDR is not set and a `vault` or `bao` CLI is found (see `findVaultCli`), also one
 * dev Vault server, so the Vault key store suite runs (with only the service policy's token)
 * instead of being skipped.
 */
export async function setup(project: TestProject): Promise<void> {
  server = await startPostgres({ settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
  project.provide('postgres', { host: server.host, port: server.port, user: server.user, password: server.password });
  try {
    const cli = process.env['VAULT_ADDR'] ? undefined : findVaultCli();
    if (cli !== undefined) {
      const transitMount = (process.env['VAULT_TRANSIT_MOUNT'] ?? '').trim().replace(/^\/+|\/+$/g, '') || 'transit';
      vault = await startDevVault({ cli, transitMount });
      // The project's `env` is what vitest adds to process.env of this project's workers (forked
      // after setup); unlike process.env here, it keeps the token out of the other projects' workers.
      project.config.env = { ...project.config.env, ...devVaultEnv(vault) };
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  project.provide('devVault', vault ? { address: vault.address, transitMount: vault.transitMount } : null);
}

export async function teardown(): Promise<void> {
  await vault?.stop();
  await server?.stop();
}
