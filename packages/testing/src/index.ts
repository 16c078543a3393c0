export { startPostgres, createDatabase, connectionString, freePort } from './embeddedPostgres';
export type { PostgresServerInfo, RunningPostgres, StartPostgresOptions } from './embeddedPostgres';
export { findVaultCli, startDevVault, devVaultEnv, FITLEDGER_KEYS_POLICY } from './devVault';
export type { DevVault, StartDevVaultOptions, FindVaultCliOptions } from './devVault';
