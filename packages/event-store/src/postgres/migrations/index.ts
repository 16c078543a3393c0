import { Kysely, Migrator, PostgresDialect, type Migration } from 'kysely';
import type pg from 'pg';
import * as m001 from './001_events';
import * as m002 from './002_appendOnly';

const migrations: Record<string, Migration> = {
  '001_events': m001,
  '002_append_only': m002,
};

/** Applies the event store's migrations (its own migration table: `es_migrations`). */
export async function migrateEventStore(pool: pg.Pool): Promise<void> {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: wrapPoolWithoutEnd(pool) }) });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'es_migrations',
    migrationLockTableName: 'es_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  await db.destroy();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed) {
    throw new Error(`event store migration ${failed?.migrationName ?? ''} failed`, { cause: error });
  }
}

/** Kysely ends the pool it was given on destroy(); the caller still owns this one. */
function wrapPoolWithoutEnd(pool: pg.Pool): pg.Pool {
  return new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'end') return () => Promise.resolve();
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
