import { Kysely, Migrator, PostgresDialect, type Migration } from 'kysely';
import type { Pool } from 'pg';
import * as m0001 from './0001_authSessions';

/** The browser session store's migrations, in order. Names never change once released. */
export const authMigrations: Readonly<Record<string, Migration>> = {
  '0001_auth_sessions': m0001,
};

/** Its own bookkeeping tables, so it never mixes with the migrations of other stores in one database. */
export const AUTH_MIGRATION_TABLE = 'auth_migrations';
export const AUTH_MIGRATION_LOCK_TABLE = 'auth_migrations_lock';

/** Brings the session tables to the latest version. The pool stays open (the caller owns it). */
export async function migrateAuthSchema(pool: Pool): Promise<void> {
  // No db.destroy(): it would end the caller's pool.
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...authMigrations }) },
    migrationTableName: AUTH_MIGRATION_TABLE,
    migrationLockTableName: AUTH_MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`auth schema migration ${failed} failed`, { cause: error });
  }
}
