import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent, RecordedEvent } from '@fitledger/event-store';
import type { DecodedEvent } from '@fitledger/event-codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionRunner, type PreparedBatch, type Projection, type ReadableEvent } from './projectionRunner';
import { lastCommittedPosition, projectionsTestEnv, waitForCheckpoint, type ProjectionsTestEnv } from './testing/projectionsTestEnv';

const TYPE = 'PipelineProbed';

function probes(n: number): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({ eventId: randomUUID(), type: TYPE, schemaVersion: 1, data: { i }, metadata: { tenantId: 't', subjectId: 's' } }));
}

/** Hands the stored event on as it is (the probes carry no PHI). */
const passThrough = { decode: (recorded: RecordedEvent): Promise<DecodedEvent> => Promise.resolve(recorded as unknown as DecodedEvent) };

type Step = readonly [what: 'prepare' | 'write' | 'settle', first: string, committed?: boolean];

/** A two-phase projection that records what the runner asks of it, in order; `onWrite` may hold or fail a write. */
function probing(onWrite: (first: string, steps: readonly Step[]) => Promise<void>): Projection & { steps: Step[] } {
  const steps: Step[] = [];
  const projection = {
    name: `pipeline_${randomUUID().slice(0, 8)}`,
    eventTypes: new Set([TYPE]),
    steps,
    apply: (): never => {
      throw new Error('a two-phase projection is never applied in one phase');
    },
    reset: () => Promise.resolve(),
    prepare(events: readonly ReadableEvent[]): Promise<PreparedBatch> {
      const first = (events[0] as ReadableEvent).position;
      steps.push(['prepare', first]);
      return Promise.resolve({
        async write() {
          steps.push(['write', first]);
          await onWrite(first, steps);
          return [];
        },
        settle(committed: boolean) {
          steps.push(['settle', first, committed]);
        },
      });
    },
  };
  return projection;
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('projection runner: two-phase projections', () => {
  let env: ProjectionsTestEnv;

  beforeAll(async () => {
    env = await projectionsTestEnv('proj_pipeline');
  });
  afterAll(async () => {
    await env.close();
  });

  it('prepares the next batch while one is written, and writes and settles every batch once, in order', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = true;
    const projection = probing(async () => {
      if (!holding) return;
      holding = false;
      await held;
    });
    await env.store.appendToStream(`probe-${randomUUID()}`, probes(40));
    const head = await lastCommittedPosition(env.pool);
    const runner = new ProjectionRunner({ store: env.store, codec: passThrough, db: env.db, projections: [projection], batchSize: 10 });
    runner.start();
    try {
      // The first write is held: the second batch gets prepared meanwhile.
      await until(() => projection.steps.filter(([what]) => what === 'prepare').length === 2);
      expect(projection.steps.map(([what]) => what)).toEqual(['prepare', 'write', 'prepare']);
      release();
      await waitForCheckpoint(env.db, projection.name, head);
      await until(() => projection.steps.filter(([what]) => what === 'settle').length === 4);
    } finally {
      release();
      await runner.stop();
    }
    const batches = [...new Set(projection.steps.map(([, first]) => first))];
    expect(batches).toHaveLength(4);
    expect([...batches].sort()).toEqual(batches);
    for (const first of batches) {
      const of = projection.steps.filter(([, f]) => f === first);
      expect(of).toEqual([
        ['prepare', first],
        ['write', first],
        ['settle', first, true],
      ]);
    }
    // Each write follows its predecessor's settlement; each prepare comes before it.
    for (let i = 1; i < batches.length; i++) {
      const at = (what: Step[0], first: string | undefined) => projection.steps.findIndex(([w, f]) => w === what && f === first);
      expect(at('settle', batches[i - 1])).toBeLessThan(at('write', batches[i]));
      expect(at('prepare', batches[i])).toBeLessThan(at('settle', batches[i - 1]));
    }
  });

  it('applies the commits of one coalescing interval as one batch (coalesceMs)', async () => {
    let sizes: number[] = [];
    const projection: Projection = {
      name: `coalesce_${randomUUID().slice(0, 8)}`,
      eventTypes: new Set([TYPE]),
      apply: (events) => {
        sizes.push(events.length);
        return Promise.resolve([]);
      },
      reset: () => Promise.resolve(),
    };
    expect(() => new ProjectionRunner({ store: env.store, codec: passThrough, db: env.db, projections: [projection], coalesceMs: -1 })).toThrow(RangeError);
    expect(() => new ProjectionRunner({ store: env.store, codec: passThrough, db: env.db, projections: [projection], coalesceMs: 1_001 })).toThrow(RangeError);
    // The store as the runner sees it, recording what each subscription asks for.
    const asked: (number | undefined)[] = [];
    const recording: EventStore = Object.create(env.store) as EventStore;
    recording.subscribeToAll = (options) => {
      asked.push(options?.coalesceMs);
      return env.store.subscribeToAll(options);
    };
    const runner = new ProjectionRunner({ store: recording, codec: passThrough, db: env.db, projections: [projection], batchSize: 1_000, coalesceMs: 1_000 });
    runner.start();
    try {
      const stream = `probe-${randomUUID()}`;
      await env.store.appendToStream(stream, probes(1));
      await waitForCheckpoint(env.db, projection.name, await lastCommittedPosition(env.pool));
      sizes = [];
      // Three commits right after the batch that found the first: inside the second after its read began.
      await Promise.all([0, 1, 2].map(() => env.store.appendToStream(`probe-${randomUUID()}`, probes(1))));
      await waitForCheckpoint(env.db, projection.name, await lastCommittedPosition(env.pool));
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.every((ms) => ms === 1_000)).toBe(true);
      expect(sizes).toEqual([3]);
    } finally {
      await runner.stop();
    }
  });

  it('survives a failed read of the next batch while one is written: the loop resumes from its checkpoint', async () => {
    await env.store.appendToStream(`probe-${randomUUID()}`, probes(30));
    const head = await lastCommittedPosition(env.pool);
    let reads = 0;
    // The store as the runner sees it: the first subscription's second read fails.
    const flaky: EventStore = Object.create(env.store) as EventStore;
    flaky.subscribeToAll = (options) => {
      const subscription = env.store.subscribeToAll(options);
      const inner = subscription[Symbol.asyncIterator]();
      const failing = reads === 0;
      reads++;
      let calls = 0;
      return {
        close: () => subscription.close(),
        [Symbol.asyncIterator]: () => ({
          next: () => (failing && ++calls === 2 ? Promise.reject(new Error('injected read failure')) : inner.next()),
          return: (value?: unknown) => inner.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
        }),
      };
    };
    const projection = probing(() => Promise.resolve());
    const runner = new ProjectionRunner({ store: flaky, codec: passThrough, db: env.db, projections: [projection], batchSize: 10, retryDelay: { initialMs: 10 } });
    runner.start();
    try {
      await waitForCheckpoint(env.db, projection.name, head);
    } finally {
      await runner.stop();
    }
    expect(reads).toBeGreaterThanOrEqual(2); // subscribed again after the failure
    const committed = projection.steps.filter(([what, , c]) => what === 'settle' && c === true).map(([, first]) => first);
    expect(new Set(committed).size).toBe(committed.length);
  });

  it('drops the batch prepared ahead when the one being written fails, then prepares and writes both again', async () => {
    let failed = false;
    const projection = probing(async (_first, steps) => {
      if (failed) return;
      // Fail only once the next batch has been prepared ahead.
      await until(() => steps.filter(([what]) => what === 'prepare').length === 2);
      failed = true;
      throw new Error('injected write failure');
    });
    await env.store.appendToStream(`probe-${randomUUID()}`, probes(20));
    const head = await lastCommittedPosition(env.pool);
    // Start at the probes of this test: a checkpoint just before them.
    const runner = new ProjectionRunner({ store: env.store, codec: passThrough, db: env.db, projections: [projection], batchSize: 10, retryDelay: { initialMs: 10 } });
    runner.start();
    try {
      await waitForCheckpoint(env.db, projection.name, head);
    } finally {
      // Stopping waits for the loop: every batch it wrote is settled by then.
      await runner.stop();
    }
    const settles = projection.steps.filter(([what]) => what === 'settle');
    const [firstBatch, secondBatch] = [...new Set(projection.steps.map(([, first]) => first))];
    // The failed batch and the one prepared behind it are both settled as not committed …
    expect(settles.slice(0, 2)).toEqual([
      ['settle', firstBatch, false],
      ['settle', secondBatch, false],
    ]);
    // … and are prepared and written again; no batch is written twice after a commit.
    const committed = settles.filter(([, , c]) => c === true).map(([, first]) => first);
    expect(new Set(committed).size).toBe(committed.length);
    expect(committed.slice(0, 2)).toEqual([firstBatch, secondBatch]);
  });
});
