import type { Kysely } from 'kysely';

/**
 * `auth_sessions`: one row per browser session. `id` is the public handle (listing, revocation);
 * the cookie carries a separate random secret of which only the SHA-256 is kept. Tokens are
 * AES-256-GCM ciphertexts (see sessionKeys.ts). `auth_login_states`: logins started and not yet
 * back at the callback, keyed by the SHA-256 of their `state`; a callback deletes its row, so a
 * state works once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('auth_sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('secret_hash', 'bytea', (c) => c.notNull().unique())
    .addColumn('sub', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('access_token', 'bytea', (c) => c.notNull())
    .addColumn('access_expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('refresh_token', 'bytea')
    .addColumn('id_token', 'bytea')
    .execute();
  await db.schema.createIndex('auth_sessions_subject').on('auth_sessions').columns(['tenant_id', 'sub']).execute();
  await db.schema.createIndex('auth_sessions_expires_at').on('auth_sessions').column('expires_at').execute();

  await db.schema
    .createTable('auth_login_states')
    .addColumn('state_hash', 'bytea', (c) => c.primaryKey())
    .addColumn('code_verifier', 'bytea', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('auth_login_states_expires_at').on('auth_login_states').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('auth_login_states').execute();
  await db.schema.dropTable('auth_sessions').execute();
}
