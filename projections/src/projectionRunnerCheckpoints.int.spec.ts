import { randomUUID } from 'node:crypto';
import { START, type NewEvent, type Position } from '@fitledger/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionRunner, type Projection, type ProjectionLogger } from './projectionRunner';
import { lastCommittedPosition, projectionsTestEnv, waitForCheckpoint, type ProjectionsTestEnv } from './testing/projectionsTestEnv';

/** Events no projection of the service reads: the projections under test never see one. */
function unrelated(n: number): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({ eventId: randomUUID(), type: 'SomethingElseHappened', schemaVersion: 1, data: { i }, metadata: { tenantId: 't', subjectId: 's' } }));
}

/** A projection of one event type that never occurs; it fails the test if it is ever asked to apply or decode anything. */
function ignoring(name: string): Projection & { applied: number } {
  const projection = {
    name,
    eventTypes: new Set(['NeverHappens']),
    applied: 0,
    apply() {
      projection.applied++;
      return Promise.resolve([]);
    },
    reset: () => Promise.resolve(),
  };
  return projection;
}

const refusingCodec = {
  decode: (): never => {
    throw new Error('an event the projection does not read was decoded');
  },
};

async function storedCheckpoint(env: ProjectionsTestEnv, name: string): Promise<string | undefined> {
  return (await env.db.selectFrom('projection_checkpoints').select('position').where('name', '=', name).executeTakeFirst())?.position;
}

describe('projection runner: batches without any of a projection’s events', () => {
  let env: ProjectionsTestEnv;

  beforeAll(async () => {
    env = await projectionsTestEnv('proj_skip');
  });
  afterAll(async () => {
    await env.close();
  });

  it('moves past them without applying, decoding or a read-model transaction, and writes the checkpoint down shortly after', async () => {
    const projection = ignoring(`skip_${randomUUID().slice(0, 8)}`);
    const runner = new ProjectionRunner({ store: env.store, codec: refusingCodec, db: env.db, projections: [projection], batchSize: 10, checkpointWriteDelayMs: 20 });
    const commits: Position[] = [];
    runner.addCommitListener((batch) => void commits.push(batch.position));
    runner.start();
    try {
      for (let i = 0; i < 5; i++) await env.store.appendToStream(`other-${randomUUID()}`, unrelated(7));
      const head = await lastCommittedPosition(env.pool);
      await runner.waitForPosition(projection.name, head);
      await waitForCheckpoint(env.db, projection.name, head);
      expect(await storedCheckpoint(env, projection.name)).toBe(head);
      expect(projection.applied).toBe(0);
      expect(commits.at(-1)).toBe(head); // announced to this process's listeners as it moved
    } finally {
      await runner.stop();
    }
  });

  it('counts the skipped batches for waitForPosition at once, and writes them down when stopped', async () => {
    const projection = ignoring(`held_${randomUUID().slice(0, 8)}`);
    // A write delay far beyond the test: only the runner's own view can satisfy waitForPosition.
    const runner = new ProjectionRunner({ store: env.store, codec: refusingCodec, db: env.db, projections: [projection], batchSize: 10, checkpointWriteDelayMs: 600_000 });
    runner.start();
    let head: Position;
    try {
      await env.store.appendToStream(`other-${randomUUID()}`, unrelated(25));
      head = await lastCommittedPosition(env.pool);
      await runner.waitForPosition(projection.name, head);
      expect(await storedCheckpoint(env, projection.name)).not.toBe(head);
    } finally {
      await runner.stop();
    }
    expect(await storedCheckpoint(env, projection.name)).toBe(head);
  });

  it('does not overwrite a checkpoint someone else moved: it resumes from the row instead', async () => {
    const projection = ignoring(`moved_${randomUUID().slice(0, 8)}`);
    const warnings: string[] = [];
    const logger: ProjectionLogger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_obj, msg) => void warnings.push(msg ?? '') };
    const runner = new ProjectionRunner({ store: env.store, codec: refusingCodec, db: env.db, projections: [projection], batchSize: 10, checkpointWriteDelayMs: 20, logger });
    runner.start();
    try {
      await env.store.appendToStream(`other-${randomUUID()}`, unrelated(5));
      const first = await lastCommittedPosition(env.pool);
      await waitForCheckpoint(env.db, projection.name, first);
      // Another process resets the projection (as a rebuild elsewhere would) …
      await env.db.updateTable('projection_checkpoints').set({ position: START }).where('name', '=', projection.name).execute();
      // … while this runner moves on past more events it skips.
      await env.store.appendToStream(`other-${randomUUID()}`, unrelated(5));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await storedCheckpoint(env, projection.name)).toBe(START); // its delayed write found the row moved and left it
      await env.store.appendToStream(`other-${randomUUID()}`, unrelated(5));
      const last = await lastCommittedPosition(env.pool);
      await waitForCheckpoint(env.db, projection.name, last); // resumed from START and caught up again
      expect(warnings).toContain('checkpoint moved by another runner; resuming from it');
    } finally {
      await runner.stop();
    }
  });
});
