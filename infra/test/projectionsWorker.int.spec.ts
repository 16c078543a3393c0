import { randomBytes } from 'node:crypto';
import { migrateEventStore } from '@fitledger/event-store';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProjectionsWorker } from '../src/workers/projections';

// The projection runner as npm start runs it: in a worker thread, its calls and commits carried
// across threads, against a real database.

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const FAR = 'ffffffffffffffffffffffffffffff00';

let database: { url: string; drop(): Promise<void> };

beforeAll(async () => {
  database = await testDatabase('projections_worker');
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  await migrateEventStore(pool);
  await pool.end();
});

afterAll(async () => {
  await database?.drop();
});

describe('the projections worker thread', () => {
  it('answers rebuild and waitForPosition, reports an unknown projection, and fails the calls a dying thread leaves unanswered', async () => {
    const projections = await startProjectionsWorker({
      env: { DATABASE_URL: database.url, FITLEDGER_MASTER_KEY: randomBytes(32).toString('base64') },
      logLevel: 'silent',
      logger: silent,
      onCommitted: () => undefined,
    });
    try {
      // An empty store: a rebuild ends at the start position, and waiting for it returns at once.
      const head = await projections.runner.rebuild('profiles');
      expect(head).toMatch(/^[0-9a-f]{32}$/);
      await projections.runner.waitForPosition('profiles', head);
      await expect(projections.runner.rebuild('nope')).rejects.toThrow(/unknown projection "nope"/);

      // A caller can stop waiting; a wait the thread never answers (a position far ahead) fails when the thread ends.
      const abandoned = projections.runner.waitForPosition('workouts', FAR as never).then(
        () => 'resolved',
        (error: Error) => error.message,
      );
      const aborted = new AbortController();
      const cancelled = projections.runner.waitForPosition('workouts', FAR as never, { signal: aborted.signal });
      aborted.abort(new Error('caller gave up'));
      await expect(cancelled).rejects.toThrow('caller gave up');
      await projections.close();
      expect(await abandoned).toMatch(/worker is stopping|ended before answering/);
      // After the stop a call fails at once instead of waiting for a thread that is gone.
      await expect(projections.runner.rebuild('profiles')).rejects.toThrow(/not running/);
    } finally {
      await projections.close();
    }
  });
});
