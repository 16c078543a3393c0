import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAuditConfig, migrateAuditSchema, type AuditConfig } from '@fitledger/audit';
import { migrateEventStore, PostgresEventStore, type NewEvent } from '@fitledger/event-store';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuditTrailWorker } from '../src/workers/auditTrail';

// The audit trail as npm start runs it: projector and publisher in a worker thread of their own,
// against a real database, restarted when the thread dies.

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function event(i: number): NewEvent {
  return { eventId: randomUUID(), type: 'SetLogged', schemaVersion: 1, data: { ordinal: i, phi: `fl1.${randomUUID()}` }, metadata: { tenantId: 'tenant-worker', subjectId: 'subject-1', actor: { sub: 'subject-1', role: 'client' } } };
}

let database: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let store: PostgresEventStore;
let dir: string;

beforeAll(async () => {
  database = await testDatabase('audit_worker');
  pool = new pg.Pool({ connectionString: database.url, max: 3 });
  await migrateEventStore(pool);
  await migrateAuditSchema(pool);
  store = new PostgresEventStore({ pool });
  dir = mkdtempSync(join(tmpdir(), 'fitledger-audit-worker-'));
});

afterAll(async () => {
  await store?.close();
  await pool?.end();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

function config(overrides: Record<string, string> = {}): AuditConfig {
  return loadAuditConfig({
    AUDIT_SIGNING_KEY_FILE: join(dir, 'signing-key.pem'),
    AUDIT_PUBLIC_KEYS_FILE: join(dir, 'public-keys.json'),
    AUDIT_CHECKPOINT_DIR: join(dir, 'checkpoints'),
    AUDIT_SIGNING_KEY_CREATE: 'true',
    AUDIT_PROJECTOR_INTERVAL_MS: '100',
    AUDIT_CHECKPOINT_INTERVAL_MS: '100',
    ...overrides,
  });
}

async function treeSize(): Promise<number> {
  const { rows } = await pool.query<{ size: string }>('SELECT size FROM audit_tree_head');
  return Number(rows[0]?.size);
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the audit trail worker thread', () => {
  it('projects and signs from its own thread, survives the thread dying, and stops cleanly', async () => {
    const worker = await startAuditTrailWorker({ databaseUrl: database.url, config: config(), logLevel: 'silent', logger: silent });
    try {
      await store.appendToStream(`workout-${randomUUID()}`, [event(1), event(2), event(3)]);
      await eventually(async () => (await treeSize()) === 3, 'the three events in the tree');
      await eventually(() => Promise.resolve(existsSync(join(dir, 'checkpoints')) && readdirSync(join(dir, 'checkpoints')).length > 0), 'a signed checkpoint in the directory');

      // The thread dies (as an uncaught error would end it): the supervisor starts another.
      await worker.thread.terminate();
      await eventually(() => Promise.resolve(worker.restarts === 1), 'the restart');
      await store.appendToStream(`workout-${randomUUID()}`, [event(4), event(5)]);
      await eventually(async () => (await treeSize()) === 5, 'the later events in the tree');
    } finally {
      await worker.stop();
    }
    expect(worker.thread.threadId).toBe(-1);
    // Stopped: nothing is projected any more.
    await store.appendToStream(`workout-${randomUUID()}`, [event(6)]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await treeSize()).toBe(5);
    const { rows } = await pool.query<{ size: string }>('SELECT max(size)::text AS size FROM audit_checkpoints');
    expect(Number(rows[0]?.size)).toBe(5);
  });

  it('rejects when the trail cannot start (no signing key and creating one is off), naming the cause', async () => {
    const missing = config({ AUDIT_SIGNING_KEY_FILE: join(dir, 'absent.pem'), AUDIT_PUBLIC_KEYS_FILE: join(dir, 'absent.json'), AUDIT_SIGNING_KEY_CREATE: 'false' });
    await expect(startAuditTrailWorker({ databaseUrl: database.url, config: missing, logLevel: 'silent', logger: silent })).rejects.toThrow(/audit-trail failed to start: .*absent\.pem/);
  });
});
