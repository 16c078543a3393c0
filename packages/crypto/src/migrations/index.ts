import { Kysely, Migrator, PostgresDialect, type Migration } from 'kysely';
import type { Pool } from 'pg';
import * as m0001 from './0001_subjectKeys';

/** The crypto store's migrations, in order. Names never change once released. */
export const cryptoMigrations: Readonly<Record<string, Migration>> = {
  '0001_subject_keys': m0001,
};

/** Its own bookkeeping tables, so it never mixes with the migrations of other stores in one database. */
export const CRYPTO_MIGRATION_TABLE = 'crypto_migrations';
export const CRYPTO_MIGRATION_LOCK_TABLE = 'crypto_migrations_lock';

/** Brings the crypto tables to the latest version. The pool stays open (the caller owns it). */
export async function migrateCryptoSchema(pool: Pool): Promise<void> {
  // No db.destroy(): it would end the caller's pool.
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...cryptoMigrations }) },
    migrationTableName: CRYPTO_MIGRATION_TABLE,
    migrationLockTableName: CRYPTO_MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`crypto schema migration ${failed} failed`, { cause: error });
  }
}
