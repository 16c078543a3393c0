import { sql, type Kysely } from 'kysely';

/**
 * Feed positions are fixed-width lower-case hex (encodePgPosition): byte order is their order. Under
 * the database's default collation every comparison in the primary key (subject_id, position, seq)
 * and in rm_feed_changes_position went through strcoll — a rebuild inserting 100k feed rows spent a
 * good part of its index maintenance there — and query-service's `position COLLATE "C" > $1` scan
 * could not use an index of another collation. The order of the values is the same under both.
 * PostgreSQL changes a text column's collation without rewriting the table; it rebuilds the indexes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_feed_changes ALTER COLUMN position TYPE text COLLATE "C"`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_feed_changes ALTER COLUMN position TYPE text COLLATE "default"`.execute(db);
}
