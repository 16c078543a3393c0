export { startPostgres, createDatabase, connectionString, freePort } from './embeddedPostgres';
export type { PostgresServerInfo, RunningPostgres, StartPostgresOptions } from './embeddedPostgres';
