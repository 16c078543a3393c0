import type pg from 'pg';

/**
 * Runs `work` in one transaction on a connection of `pool`: `begin` (e.g. `BEGIN`, or a read-only
 * snapshot), then COMMIT, or ROLLBACK on any error. A connection whose ROLLBACK failed is in an
 * unknown state and is dropped rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, begin: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken ? true : undefined);
  }
}
