import { sql, type Kysely } from 'kysely';

/**
 * One row per subject. `wrapped_key` is the data key encrypted under the master key `master_key_id`;
 * destroying wipes both and sets `destroyed_at`, keeping the row so that the subject reads as
 * "destroyed" (not "never had a key") and can never get a new key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('crypto_subject_keys')
    .addColumn('subject_id', 'text', (c) => c.primaryKey())
    .addColumn('key_id', 'uuid', (c) => c.notNull().unique())
    .addColumn('wrapped_key', 'bytea')
    .addColumn('master_key_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('destroyed_at', 'timestamptz')
    .addCheckConstraint(
      'crypto_subject_keys_live_xor_destroyed',
      sql`(destroyed_at IS NULL AND wrapped_key IS NOT NULL AND master_key_id IS NOT NULL)
       OR (destroyed_at IS NOT NULL AND wrapped_key IS NULL AND master_key_id IS NULL)`,
    )
    .execute();
  // Lets a master key rotation find the rows still wrapped under an old key.
  await db.schema
    .createIndex('crypto_subject_keys_master_key_id')
    .on('crypto_subject_keys')
    .column('master_key_id')
    .where(sql.ref('master_key_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('crypto_subject_keys').execute();
}
