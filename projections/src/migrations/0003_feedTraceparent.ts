import { sql, type Kysely } from 'kysely';

/** The W3C traceparent of the request that wrote a feed row's event, so the websocket push joins its trace. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_feed_changes ADD COLUMN traceparent text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE rm_feed_changes DROP COLUMN IF EXISTS traceparent`.execute(db);
}
