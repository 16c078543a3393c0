import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * Marks a subject's key destroyed in `crypto_subject_keys`, whichever adapter wrapped it: the
 * wrapped key is gone for good, and a subject erased before it ever had a key gets a tombstone
 * too, so no key can be created for it later.
 */
export async function writeKeyTombstone(pool: Pick<pg.Pool, 'query'>, subjectId: string): Promise<void> {
  await pool.query(
    `INSERT INTO crypto_subject_keys (subject_id, key_id, wrapped_key, master_key_id, destroyed_at)
     VALUES ($1, $2, NULL, NULL, now())
     ON CONFLICT (subject_id) DO UPDATE
       SET wrapped_key = NULL, master_key_id = NULL,
           destroyed_at = COALESCE(crypto_subject_keys.destroyed_at, now())`,
    [subjectId, randomUUID()],
  );
}
