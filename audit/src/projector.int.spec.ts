import { PostgresEventStore, migrateEventStore, type RecordedEvent } from '@fitledger/event-store';
import { isolatedPostgres } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAccessLog } from './accessLog/postgresAccessLog';
import type { AuditLogger } from './backgroundLoop';
import { migrateAuditSchema } from './postgres/migrations/index';
import { PostgresTreeStore } from './postgres/postgresAuditTree';
import { AccessSeqGaps, projectAuditBatch, startAuditProjector, type AuditProjector, type AuditProjectorOptions } from './projector';
import { accessRecord, appendAccessRecords, appendEvents, exportText, treeOfExport } from './testing/auditFixtures';

// The event store's `$all` hides rows behind any open transaction of the server, and one test here
// holds an access-log insert open on purpose: this file runs on a PostgreSQL server of its own.
let server: Awaited<ReturnType<typeof isolatedPostgres>>;
let pool: pg.Pool;
let store: PostgresEventStore;
let accessLog: PostgresAccessLog;

beforeAll(async () => {
  server = await isolatedPostgres();
  pool = new pg.Pool({ connectionString: server.url, max: 8 });
  await migrateEventStore(pool);
  await migrateAuditSchema(pool);
  store = new PostgresEventStore({ pool });
  accessLog = new PostgresAccessLog(pool);
});

afterAll(async () => {
  await accessLog?.close();
  await store?.close();
  await pool?.end();
  await server?.stop();
});

/**
 * Runs `body` while an access record (made from `n`) is inserted in a transaction left open: its
 * seq is drawn, the row not yet visible. `body` may commit it; otherwise it is rolled back.
 */
async function withUncommittedRecord(n: number, body: (held: pg.Client, early: ReturnType<typeof accessRecord>) => Promise<void>): Promise<void> {
  const held = new pg.Client({ connectionString: server.url });
  await held.connect();
  const early = accessRecord(n);
  try {
    await held.query('BEGIN');
    await held.query(
      `INSERT INTO audit_access_records (id, at, actor_sub, actor_role, action, record_type, ip, service, method, route, status, outcome, purpose_of_use, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [early.id, early.at, early.actorSub, early.actorRole, early.action, early.recordType, early.ip, early.service, early.method, early.route, early.status, early.outcome, early.purposeOfUse, early.requestId],
    );
    await body(held, early);
  } finally {
    await held.query('ROLLBACK').catch(() => undefined);
    await held.end();
  }
}

/** A projector whose timer never fires during a test: rounds run at start and by catchUp(). */
function projector(options: Partial<AuditProjectorOptions> = {}): AuditProjector {
  return startAuditProjector({ pool, events: store, intervalMs: 3_600_000, ...options });
}

async function allEvents(): Promise<RecordedEvent[]> {
  return store.readAll({ maxCount: 100_000 });
}

async function allAccessIds(): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>('SELECT id::text AS id FROM audit_access_records ORDER BY seq');
  return rows.map((r) => r.id);
}

async function leafRows(): Promise<{ seq: number; kind: string; ref: string }[]> {
  const { rows } = await pool.query<{ seq: string; kind: string; ref: string }>('SELECT seq::text AS seq, kind, ref FROM audit_leaves ORDER BY audit_leaves.seq');
  return rows.map((r) => ({ seq: Number(r.seq), kind: r.kind, ref: r.ref }));
}

/**
 * Every event and every access record is a leaf exactly once; events appear in `$all` order and
 * access records in `seq` order; the stored tree's root is the root of the tree rebuilt from the export.
 */
async function expectCompleteLog(): Promise<number> {
  const leaves = await leafRows();
  const events = await allEvents();
  const accessIds = await allAccessIds();
  expect(leaves.map((l) => l.seq)).toEqual(leaves.map((_, i) => i));
  expect(new Set(leaves.map((l) => `${l.kind}:${l.ref}`)).size).toBe(leaves.length);
  expect(leaves.filter((l) => l.kind === 'event').map((l) => l.ref)).toEqual(events.map((e) => e.position));
  expect(leaves.filter((l) => l.kind === 'access').map((l) => l.ref)).toEqual(accessIds);

  const tree = new PostgresTreeStore(pool);
  const { text, summary } = await exportText(pool);
  expect(summary.missing).toEqual([]);
  const rebuilt = treeOfExport(text);
  expect(rebuilt.tree.length).toBe(leaves.length);
  expect(rebuilt.recordedMatch).toBe(true);
  expect(Buffer.from(await tree.rootAt()).equals(rebuilt.tree.rootAt())).toBe(true);
  return leaves.length;
}

/** A pool whose connections fail at the n-th COMMIT: the connection dies before it (crash in the batch) or after it (crash before the caller learns it committed). */
function crashingPool(atCommit: number, when: 'before' | 'after'): pg.Pool {
  const faulty = new pg.Pool({ connectionString: server.url, max: 4 });
  const connect = faulty.connect.bind(faulty) as (callback?: unknown) => Promise<pg.PoolClient> | undefined;
  let commits = 0;
  const wrapped = new WeakSet<pg.PoolClient>();
  // Only the transactions (connect() without a callback) are wrapped; pool.query() passes a callback.
  (faulty as unknown as { connect: (callback?: unknown) => unknown }).connect = (callback?: unknown) => (callback === undefined ? wrap() : connect(callback));
  const wrap = async (): Promise<pg.PoolClient> => {
    const client = (await connect()) as pg.PoolClient;
    if (wrapped.has(client)) return client;
    wrapped.add(client);
    // The killed connection reports its end as an 'error' event too; the batch's query already got it.
    client.on('error', () => undefined);
    const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
    (client as unknown as { query: typeof query }).query = async (text: string, values?: unknown[]) => {
      if (text !== 'COMMIT') return query(text, values);
      commits += 1;
      if (commits !== atCommit) return query(text, values);
      if (when === 'before') {
        // The server ends the session: the open transaction is rolled back, as when a process dies.
        await query('SELECT pg_terminate_backend(pg_backend_pid())').catch(() => undefined);
        throw new Error('simulated crash before COMMIT');
      }
      await query(text, values);
      throw new Error('simulated crash after COMMIT');
    };
    return client;
  };
  faulty.on('error', () => undefined);
  return faulty;
}

/** A logger whose first error resolves `failed` with the logged error. */
function failureLog(): { logger: AuditLogger; failed: Promise<{ message: string }> } {
  let report: (error: { message: string }) => void = () => undefined;
  const failed = new Promise<{ message: string }>((resolve) => (report = resolve));
  const ignore = (): void => undefined;
  return { logger: { debug: ignore, info: ignore, warn: ignore, error: (obj) => report((obj as { err: { message: string } }).err) }, failed };
}

describe('the audit projector', () => {
  it('appends every event and access record exactly once, in source order, across a stop and restart mid-way', async () => {
    await appendEvents(store, 250);
    await appendAccessRecords(accessLog, 150);

    let batches = 0;
    let first: AuditProjector | undefined;
    const stopped = new Promise<void>((resolve) => {
      first = projector({
        batchSize: 40,
        onBatch: () => {
          batches += 1;
          // Stop while the loop still has work: stop() lets the running batch finish, starts no other.
          if (batches === 3) void first?.stop().then(resolve);
        },
      });
    });
    await stopped;
    expect(batches).toBe(3);
    expect(await new PostgresTreeStore(pool).size()).toBe(120);
    // Each batch of 40 took 20 events and 20 access records (each source gets half when both have more).
    const partial = await leafRows();
    expect(partial.filter((l) => l.kind === 'event')).toHaveLength(60);

    // Meanwhile the services went on writing.
    await appendEvents(store, 30);
    await appendAccessRecords(accessLog, 25, 1_000);
    const second = projector({ batchSize: 40 });
    await second.catchUp();
    await second.stop();
    expect(await expectCompleteLog()).toBe(455);
  });

  it('loses and repeats nothing when the process dies before a batch commits or after it committed', async () => {
    await appendEvents(store, 60);
    await appendAccessRecords(accessLog, 40, 2_000);
    const before = await new PostgresTreeStore(pool).size();

    // Each projector's first round starts at once; it ends at the crash (the loop logs the error).
    const dyingBefore = crashingPool(2, 'before');
    const crashBefore = failureLog();
    const crashed = projector({ pool: dyingBefore, batchSize: 30, logger: crashBefore.logger });
    expect((await crashBefore.failed).message).toBe('simulated crash before COMMIT');
    await crashed.stop();
    await dyingBefore.end();
    // The first batch committed, the second died with its connection.
    expect(await new PostgresTreeStore(pool).size()).toBe(before + 30);

    const dyingAfter = crashingPool(1, 'after');
    const crashAfter = failureLog();
    const crashedAfter = projector({ pool: dyingAfter, batchSize: 30, logger: crashAfter.logger });
    expect((await crashAfter.failed).message).toBe('simulated crash after COMMIT');
    await crashedAfter.stop();
    await dyingAfter.end();
    expect(await new PostgresTreeStore(pool).size()).toBe(before + 60);

    const restarted = projector({ batchSize: 30 });
    await restarted.catchUp();
    await restarted.stop();
    expect(await expectCompleteLog()).toBe(before + 100);
  });

  it('lets two projectors run at once without appending anything twice', async () => {
    await appendEvents(store, 120);
    await appendAccessRecords(accessLog, 80, 3_000);
    const a = projector({ batchSize: 16 });
    const b = projector({ batchSize: 16 });
    await Promise.all([a.catchUp(), b.catchUp()]);
    await Promise.all([a.stop(), b.stop()]);
    await expectCompleteLog();
  });

  it('waits for an access record whose seq was drawn before a committed one, and skips seqs that were rolled back', async () => {
    const settled = projector({ batchSize: 50 });
    await settled.catchUp();
    const before = await new PostgresTreeStore(pool).size();

    // Writer A inserts and stays open; writer B inserts after it (a higher seq) and commits first.
    await withUncommittedRecord(4_000, async (held, early) => {
      const [late] = await appendAccessRecords(accessLog, 1, 4_001);
      const waiting = projector({ batchSize: 50, gapLockTimeoutMs: 20 });
      await waiting.catchUp();
      await waiting.stop();
      // Taking the later record now would move the position past the earlier one for good.
      const refs = (await leafRows()).map((l) => l.ref);
      expect(refs).not.toContain(late?.id);
      expect(refs).not.toContain(early.id);
      await held.query('COMMIT');
    });

    // A rolled-back insert leaves a seq that never commits: the records after it still go in.
    await pool.query('BEGIN; INSERT INTO audit_access_records (id, at, actor_sub, actor_role, action, record_type, ip, service, method, route, status, outcome, purpose_of_use, request_id) ' +
      "VALUES ('0190f5c2-7a3b-7c4d-8e9f-000000000001', now(), 'x', 'client', 'read', 'workouts', '203.0.113.7', 'query-service', 'GET', '/api/v1/workouts', 200, 'allowed', 'PATRQT', 'r'); ROLLBACK");
    await appendAccessRecords(accessLog, 3, 4_002);

    await settled.catchUp();
    await settled.stop();
    expect(await new PostgresTreeStore(pool).size()).toBe(before + 5);
    await expectCompleteLog();
  });

  it('in timer rounds, leaves a gap one round to fill before locking the table, so inserts in flight are not held up by a gap that fills by itself', async () => {
    const settled = projector({ batchSize: 50 });
    await settled.catchUp();
    await settled.stop();
    const before = await new PostgresTreeStore(pool).size();

    await withUncommittedRecord(5_000, async (held, early) => {
      const [late] = await appendAccessRecords(accessLog, 1, 5_001);
      const gaps = new AccessSeqGaps();
      // A lock would wait up to 10 s for the open insert: the first round must not take one,
      // nor another batch of the same round (a round takes several while events are backlogged).
      gaps.beginRound();
      for (let batch = 0; batch < 2; batch++) {
        const first = await projectAuditBatch({ pool, events: store, batchSize: 50, gapLockTimeoutMs: 10_000, gaps });
        expect(first.batch?.accessRecords ?? 0).toBe(0);
        expect(first.more).toBe(false);
      }
      // The next round meets the same gap and settles it: it waits for the open insert, which commits meanwhile.
      gaps.beginRound();
      const second = projectAuditBatch({ pool, events: store, batchSize: 50, gapLockTimeoutMs: 10_000, gaps });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await held.query('COMMIT');
      const outcome = await second;
      expect(outcome.batch?.accessRecords).toBe(2);
      const refs = (await leafRows()).map((l) => l.ref);
      expect(refs.indexOf(early.id)).toBeLessThan(refs.indexOf(late?.id ?? ''));
    });
    expect(await new PostgresTreeStore(pool).size()).toBe(before + 2);
    await expectCompleteLog();
  });
});
