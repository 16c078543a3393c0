import { sql, type Kysely } from 'kysely';

/** Another process's feed listener asks which subjects changed past a position: index it. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX rm_feed_changes_position ON rm_feed_changes (position)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS rm_feed_changes_position`.execute(db);
}
