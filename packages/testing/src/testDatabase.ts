import { inject } from 'vitest';
import { createDatabase, startPostgres, type RunningPostgres } from './embeddedPostgres';

/** A fresh database on the shared test server, for one test file. Call `drop()` in afterAll. */
export async function testDatabase(prefix = 'test'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  return createDatabase(inject('postgres'), prefix);
}

/**
 * A PostgreSQL server of the test's own. The snapshot horizon is server-wide, so a test that
 * holds a transaction open on purpose must not share a server with other test files.
 */
export async function isolatedPostgres(): Promise<RunningPostgres & { url: string }> {
  const server = await startPostgres({ settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
  const db = await createDatabase(server, 'isolated');
  return Object.assign(server, { url: db.url });
}
