import { testDatabase } from '@fitledger/testing/vitest';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateReadModels, READ_MODEL_MIGRATION_LOCK_TABLE, READ_MODEL_MIGRATION_TABLE, readModelMigrations } from './index';

// Migration 0018: feed positions compare byte-wise, so index maintenance skips strcoll.
describe('feed position collation (migration 0018)', () => {
  let database: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await testDatabase('rm_feed_collation');
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    await migrateReadModels(pool);
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  const collation = async (): Promise<string | null> =>
    (
      await pool.query<{ collation: string | null }>(
        `SELECT c.collname AS collation FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
          WHERE a.attrelid = 'rm_feed_changes'::regclass AND a.attname = 'position'`,
      )
    ).rows[0]?.collation ?? null;

  it('stores feed positions under the "C" collation', async () => {
    expect(await collation()).toBe('C');
  });

  it('keeps the order of positions and the rows when migrated down and up again', async () => {
    const positions = ['00000000000000ff0000000000000001', '0000000000000100000000000000000a', '000000000000010a0000000000000002'];
    // Written last to first: numbered 3, 2, 1 in commit order (feed_id).
    for (const [i, position] of [...positions.entries()].reverse()) {
      await pool.query(`INSERT INTO rm_feed_changes (subject_id, position, seq, kind, entity_id, op, payload) VALUES ('s', $1, 0, 'workout', $2, 'delete', NULL)`, [position, `w${i}`]);
    }
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    const migrator = new Migrator({
      db,
      provider: { getMigrations: () => Promise.resolve({ ...readModelMigrations }) },
      migrationTableName: READ_MODEL_MIGRATION_TABLE,
      migrationLockTableName: READ_MODEL_MIGRATION_LOCK_TABLE,
    });
    // Down to the migration before 0018 (later ones are undone on the way), then up again.
    expect((await migrator.migrateTo('0017_row_level_security')).error).toBeUndefined();
    expect(await collation()).toBe('default'); // the database default again
    await migrateReadModels(pool);
    expect(await collation()).toBe('C');
    const rows = await pool.query<{ position: string }>(`SELECT position FROM rm_feed_changes WHERE subject_id = 's' ORDER BY position, seq`);
    expect(rows.rows.map((r) => r.position)).toEqual(positions);
    // Migration 0024 numbered the rows it found in position order; the next row comes after them.
    const numbered = await pool.query<{ position: string }>(`SELECT position FROM rm_feed_changes WHERE subject_id = 's' ORDER BY feed_id`);
    expect(numbered.rows.map((r) => r.position)).toEqual(positions);
    const next = await pool.query<{ feed_id: string; max: string }>(
      `WITH n AS (INSERT INTO rm_feed_changes (subject_id, position, seq, kind, entity_id, op) VALUES ('s', '0000000000000200000000000000000a', 0, 'workout', 'w9', 'delete') RETURNING feed_id)
       SELECT n.feed_id, (SELECT max(feed_id) FROM rm_feed_changes)::text AS max FROM n`,
    );
    expect(next.rows[0]?.feed_id).toBe(String(positions.length + 1));
    expect(next.rows[0]?.max).toBe(String(positions.length));
  });
});
