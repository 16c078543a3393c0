import { Kysely, Migrator, PostgresDialect, type Migration } from 'kysely';
import type { Pool } from 'pg';
import * as m0001 from './0001_auditTree';
import * as m0002 from '../../accessLog/migration';
import * as m0003 from './0003_auditProjector';

/** The audit store's migrations, in order. Names never change once released. */
export const auditMigrations: Readonly<Record<string, Migration>> = {
  '0001_audit_tree': m0001,
  '0002_access_log': m0002,
  '0003_audit_projector': m0003,
};

/** Its own bookkeeping tables, so it never mixes with the migrations of other stores in one database. */
export const AUDIT_MIGRATION_TABLE = 'audit_migrations';
export const AUDIT_MIGRATION_LOCK_TABLE = 'audit_migrations_lock';

/** Brings the audit tables to the latest version. The pool stays open (the caller owns it). */
export async function migrateAuditSchema(pool: Pool): Promise<void> {
  // No db.destroy(): it would end the caller's pool.
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...auditMigrations }) },
    migrationTableName: AUDIT_MIGRATION_TABLE,
    migrationLockTableName: AUDIT_MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`audit schema migration ${failed} failed`, { cause: error });
  }
}
