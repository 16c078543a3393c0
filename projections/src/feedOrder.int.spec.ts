import { randomUUID } from 'node:crypto';
import { bodyMeasurementDecider, bodyMeasurementStreamId, type BodyMeasurementCommand, type BodyMeasurementEvent, type BodyMeasurementState } from '@fitledger/domain';
import { sql, type Transaction } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BODY_MEASUREMENTS_PROJECTION, bodyMeasurementsProjection } from './bodyMetrics/bodyMeasurementsProjection';
import { FEED_ORDER_LOCK, lockFeedOrder } from './feedOrder';
import { ProjectionRunner } from './projectionRunner';
import type { ReadModelDb } from './readModelDb';
import { DeciderWriter, lastCommittedPosition, projectionsTestEnv, waitForCheckpoint, WorkoutWriter, type ProjectionsTestEnv } from './testing/projectionsTestEnv';
import { workoutsProjection, WORKOUTS_PROJECTION } from './workouts/workoutsProjection';

const position = (n: number): string => n.toString(16).padStart(32, '0');

// These tests keep transactions open on purpose (waiting on the lock): a server of their own.
let env: ProjectionsTestEnv;

async function insertRow(trx: Transaction<ReadModelDb>, n: number, kind: 'workout' | 'body_measurement'): Promise<void> {
  await lockFeedOrder(trx);
  await trx
    .insertInto('rm_feed_changes')
    .values({ subject_id: 'subject-1', position: position(n), seq: 0, kind, entity_id: randomUUID(), op: 'upsert', payload: kind === 'body_measurement' ? '{}' : null })
    .execute();
}

const committed = async (): Promise<string[]> =>
  (await env.db.selectFrom('rm_feed_changes').select(['feed_id', 'position']).orderBy('feed_id').execute()).map((r) => `${Number.parseInt(r.position, 16)}`);

/** Connections of this database waiting for the feed-order lock. */
async function waitingForFeedOrder(): Promise<number> {
  const result = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_locks
     WHERE locktype = 'advisory' AND NOT granted AND classid = ${FEED_ORDER_LOCK.classId} AND objid = ${FEED_ORDER_LOCK.objId}
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(env.db);
  return result.rows[0]?.n ?? 0;
}

beforeAll(async () => {
  env = await projectionsTestEnv('rm_feed_order', { isolated: true });
});

afterAll(async () => {
  await env?.close();
});

beforeEach(async () => {
  await sql`TRUNCATE rm_feed_changes RESTART IDENTITY`.execute(env.db);
});

describe('feed order', () => {
  it('numbers feed rows in commit order: a writer that inserts while another has not committed waits for it', async () => {
    // A lagging projection (body measurements, event at position 90) inserts first and commits late;
    // another (workouts, position 100) inserts meanwhile.
    let releaseLagging!: () => void;
    const laggingMayCommit = new Promise<void>((resolve) => (releaseLagging = resolve));
    let laggingInserted!: () => void;
    const laggingHasInserted = new Promise<void>((resolve) => (laggingInserted = resolve));
    const lagging = env.db.transaction().execute(async (trx) => {
      await insertRow(trx, 90, 'body_measurement');
      laggingInserted();
      await laggingMayCommit;
    });
    let other: Promise<void> | undefined;
    try {
      await laggingHasInserted;
      other = env.db.transaction().execute((trx) => insertRow(trx, 100, 'workout'));
      // The other writer waits on the feed-order lock (without it, it would insert and commit now).
      await vi.waitFor(async () => expect(await waitingForFeedOrder()).toBe(1), { timeout: 10_000 });
      expect(await committed()).toEqual([]);
    } finally {
      releaseLagging();
      await Promise.all([lagging, other]);
    }
    expect(await committed()).toEqual(['90', '100']);
  });

  it('is taken by both projections that write the feed: while it is held, neither commits a batch', async () => {
    const who = { tenantId: 'tenant-a', subjectId: randomUUID() };
    const runner = new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [workoutsProjection(), bodyMeasurementsProjection()] });
    const holder = new pg.Client({ connectionString: env.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [FEED_ORDER_LOCK.classId, FEED_ORDER_LOCK.objId]);
      const workouts = new WorkoutWriter(env);
      await workouts.execute(who, { type: 'StartWorkout', data: { workoutId: randomUUID() } });
      const body = new DeciderWriter<BodyMeasurementState, BodyMeasurementCommand, BodyMeasurementEvent>(env, bodyMeasurementDecider, { start: '2025-04-01T07:00:00.000Z', tickMs: 60_000 });
      const measurementId = randomUUID();
      await body.execute(who, bodyMeasurementStreamId(measurementId), { type: 'RecordBodyMeasurement', data: { measurementId, measurement: { metric: 'resting_heart_rate', heartRateBpm: 52 }, measuredAt: new Date('2025-03-01T06:30:00Z') } });
      const head = await lastCommittedPosition(env.pool);
      runner.start();
      // Each projection has its batch's rows written and waits for the lock before its feed rows.
      await vi.waitFor(async () => expect(await waitingForFeedOrder()).toBe(2), { timeout: 20_000 });
      expect(await committed()).toEqual([]);
      await holder.query('SELECT pg_advisory_unlock($1, $2)', [FEED_ORDER_LOCK.classId, FEED_ORDER_LOCK.objId]);
      await waitForCheckpoint(env.db, WORKOUTS_PROJECTION, head);
      await waitForCheckpoint(env.db, BODY_MEASUREMENTS_PROJECTION, head);
      expect(await env.db.selectFrom('rm_feed_changes').select('kind').where('subject_id', '=', who.subjectId).orderBy('feed_id').execute()).toHaveLength(2);
    } finally {
      await holder.end();
      await runner.stop();
    }
  });

  it('numbers the rows of one insert in the order they are given, and never takes a number written by hand', async () => {
    await env.db.transaction().execute(async (trx) => {
      await lockFeedOrder(trx);
      await trx
        .insertInto('rm_feed_changes')
        .values([3, 1, 2].map((n) => ({ subject_id: 'subject-1', position: position(n), seq: 0, kind: 'workout' as const, entity_id: randomUUID(), op: 'upsert' as const, payload: null })))
        .execute();
    });
    expect(await committed()).toEqual(['3', '1', '2']);
    await expect(sql`INSERT INTO rm_feed_changes (subject_id, position, seq, kind, entity_id, op, feed_id) VALUES ('s', ${position(9)}, 0, 'workout', 'e', 'upsert', 1)`.execute(env.db)).rejects.toThrow(/feed_id/);
  });

  it("lets a session's read and query-service's change scan use an index on feed_id", async () => {
    const plans: string[] = [];
    const client = await env.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      for (const query of [
        `EXPLAIN SELECT feed_id FROM rm_feed_changes WHERE subject_id = 's' AND feed_id > 5 ORDER BY feed_id LIMIT 100`,
        `EXPLAIN SELECT subject_id, max(feed_id) FROM rm_feed_changes WHERE feed_id > 5 GROUP BY subject_id`,
      ]) {
        plans.push((await client.query<{ 'QUERY PLAN': string }>(query)).rows.map((r) => r['QUERY PLAN']).join('\n'));
      }
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    expect(plans[0]).toContain('rm_feed_changes_subject_feed_id');
    expect(plans[1]).toContain('rm_feed_changes_feed_id');
  });
});
