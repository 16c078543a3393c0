import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SetInput, WorkoutCommand } from '@fitledger/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionRunner, type Projection } from './projectionRunner';
import { WorkoutWriter, dumpReadModels, lastCommittedPosition, projectionsTestEnv, waitForCheckpoint, type ProjectionsTestEnv } from './testing/projectionsTestEnv';
import { WORKOUTS_PROJECTION, workoutsProjection } from './workouts/workoutsProjection';

const CHILD = fileURLToPath(new URL('./testing/runProjectionsChild.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXERCISES = ['0189c0de-1111-7222-8333-444455556666', '0189c0de-2222-7222-8333-444455556666', '0189c0de-3333-7222-8333-444455556666'];
const BATCH_SIZE = 25;

type Cmd = Omit<WorkoutCommand, 'metadata'>;

/** Seeded PRNG (mulberry32): the same workload on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Plans/starts, logs, corrects, deletes and completes or cancels workouts for a few subjects with the real decider. */
async function writeWorkload(env: ProjectionsTestEnv, workouts: number, seed: number): Promise<void> {
  const random = prng(seed);
  const writer = new WorkoutWriter(env);
  const subjects = Array.from({ length: 12 }, (_, i) => ({ tenantId: `tenant-${i % 3}`, subjectId: randomUUID() }));
  const scripts: { who: (typeof subjects)[number]; commands: Cmd[] }[] = [];
  for (let i = 0; i < workouts; i++) {
    const who = subjects[Math.floor(random() * subjects.length)] as (typeof subjects)[number];
    const workoutId = randomUUID();
    const commands: Cmd[] = [];
    const set = (): SetInput => ({
      exerciseId: EXERCISES[Math.floor(random() * EXERCISES.length)] as string,
      reps: 1 + Math.floor(random() * 12),
      load: random() < 0.2 ? { value: 45 + Math.floor(random() * 300), unit: 'lb' } : { value: 20 + Math.round(random() * 400) / 2, unit: 'kg' },
      warmUp: random() < 0.15,
      ...(random() < 0.2 ? { rpe: 6 + Math.floor(random() * 8) / 2, notes: 'felt heavy' } : {}),
    });
    if (random() < 0.5) commands.push({ type: 'PlanWorkout', data: { workoutId, title: `Session ${i}`, plannedFor: writer.tick(0), plannedSets: [set(), set()] } });
    commands.push({ type: 'StartWorkout', data: { workoutId } });
    const setIds: string[] = [];
    const setCount = 8 + Math.floor(random() * 14);
    for (let s = 0; s < setCount; s++) {
      const r = random();
      if (r < 0.12 && setIds.length > 0) {
        commands.push({ type: 'CorrectSet', data: { workoutId, setId: setIds[Math.floor(random() * setIds.length)] as string, set: set() } });
      } else if (r < 0.22 && setIds.length > 0) {
        const [setId] = setIds.splice(Math.floor(random() * setIds.length), 1);
        commands.push({ type: 'DeleteSet', data: { workoutId, setId: setId as string } });
      } else {
        const setId = randomUUID();
        setIds.push(setId);
        commands.push({ type: 'LogSet', data: { workoutId, setId, set: set() } });
      }
    }
    commands.push(random() < 0.15 ? { type: 'CancelWorkout', data: { workoutId } } : { type: 'CompleteWorkout', data: { workoutId, perceivedExertion: 5 + Math.floor(random() * 5) } });
    scripts.push({ who, commands });
  }
  // Several workouts at once, as concurrent users would write them (group commit batches them).
  const lanes = 8;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < scripts.length; i += lanes) {
        const script = scripts[i] as (typeof scripts)[number];
        for (const command of script.commands) await writer.execute(script.who, command);
      }
    }),
  );
}

interface ChildRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly killedMidBatch: boolean;
  readonly stderr: string;
}

/**
 * Runs the projections child. With `killAfterBatches`, SIGKILLs it a random 0–8 ms after it
 * reports starting that many batches (so most kills land inside a batch's decode or transaction).
 */
function runChild(env: ProjectionsTestEnv, random: () => number, killAfterBatches?: number): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATABASE_URL: env.url,
      FITLEDGER_MASTER_KEY: env.masterKey.key.toString('base64'),
      PROJECTIONS_BATCH_SIZE: String(BATCH_SIZE),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let started = 0;
  let inFlight = false;
  let killedMidBatch = false;
  let killTimer: NodeJS.Timeout | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    let msg: string | undefined;
    try {
      msg = (JSON.parse(line) as { msg?: string }).msg;
    } catch {
      return;
    }
    if (msg === 'batch committed') inFlight = false;
    if (msg !== 'applying batch') return;
    inFlight = true;
    started++;
    if (killAfterBatches !== undefined && started === killAfterBatches && killTimer === undefined) {
      killTimer = setTimeout(() => {
        killedMidBatch = inFlight;
        child.kill('SIGKILL');
      }, Math.floor(random() * 9));
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => {
      clearTimeout(killTimer);
      resolve({ exitCode, signal, killedMidBatch, stderr });
    });
  });
}

describe('projection runner', () => {
  let env: ProjectionsTestEnv;

  beforeAll(async () => {
    env = await projectionsTestEnv('proj_runner');
  });
  afterAll(async () => {
    await env.close();
  });

  it('ends with read models equal to a full rebuild after being killed with SIGKILL many times mid-batch', async () => {
    await writeWorkload(env, 160, 20250106);
    const head = await lastCommittedPosition(env.pool);
    const eventCount = (await env.pool.query<{ n: string }>('SELECT count(*) AS n FROM es_events')).rows[0]?.n;
    expect(Number(eventCount)).toBeGreaterThan(2_000);

    const random = prng(42);
    const kills: ChildRun[] = [];
    while (kills.length < 12) {
      const run = await runChild(env, random, 1 + Math.floor(random() * 4));
      if (run.signal !== 'SIGKILL') throw new Error(`child ended before it was killed (exit ${run.exitCode}): ${run.stderr}`);
      kills.push(run);
    }
    const checkpointAfterKills = (await env.db.selectFrom('projection_checkpoints').select('position').where('name', '=', WORKOUTS_PROJECTION).executeTakeFirst())?.position;
    expect(checkpointAfterKills === undefined || checkpointAfterKills < head).toBe(true); // the kills left work to do

    const last = await runChild(env, random);
    expect(last.stderr).toBe('');
    expect(last.exitCode).toBe(0);
    await waitForCheckpoint(env.db, WORKOUTS_PROJECTION, head, 1_000);
    const afterKills = await dumpReadModels(env.db);

    const runner = new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [workoutsProjection()], batchSize: BATCH_SIZE });
    expect(await runner.rebuild(WORKOUTS_PROJECTION)).toBe(head);
    const rebuilt = await dumpReadModels(env.db);

    expect(kills.filter((k) => k.killedMidBatch).length).toBeGreaterThan(0);
    expect(rebuilt.rm_workouts).toHaveLength(160);
    expect(rebuilt.rm_workout_sets?.length).toBeGreaterThan(1_000);
    expect(rebuilt.rm_personal_records?.length).toBeGreaterThan(12);
    expect(rebuilt.rm_feed_changes?.length).toBeGreaterThan(2_000);
    for (const table of Object.keys(rebuilt)) expect({ table, rows: afterKills[table] }).toEqual({ table, rows: rebuilt[table] });
  });

  it('applies each batch once when two runners feed the same projection', async () => {
    const first = new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [workoutsProjection()], batchSize: 7 });
    const second = new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [workoutsProjection()], batchSize: 7 });
    first.start();
    second.start();
    try {
      await writeWorkload(env, 20, 7);
      await waitForCheckpoint(env.db, WORKOUTS_PROJECTION, await lastCommittedPosition(env.pool));
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    const concurrent = await dumpReadModels(env.db);
    const { rm_feed_changes: _feed, ...rows } = concurrent;
    await new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [workoutsProjection()], batchSize: 7 }).rebuild(WORKOUTS_PROJECTION);
    const { rm_feed_changes: _rebuiltFeed, rm_personal_records: rebuiltRecords, ...rebuiltRows } = await dumpReadModels(env.db);
    const { rm_personal_records: records, ...workoutRows } = rows;
    // Live batches follow commits, not the rebuild's fixed batches: compare what does not depend on batch boundaries.
    expect(workoutRows).toEqual(rebuiltRows);
    const values = (dump: string[] | undefined) => (dump ?? []).map((row) => row.replace(/,[0-9a-f]{32},/, ','));
    expect(values(records)).toEqual(values(rebuiltRecords));
  });

  it('finishes the batch in flight when stopped', async () => {
    const inner = workoutsProjection();
    let entered: () => void = () => undefined;
    const inApply = new Promise<void>((resolve) => (entered = resolve));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The one-phase form (no prepare): the batch is in flight inside apply.
    const slow: Projection = {
      name: inner.name,
      ...(inner.eventTypes === undefined ? {} : { eventTypes: inner.eventTypes }),
      reset: (trx) => inner.reset(trx),
      async apply(events, trx) {
        entered();
        await gate;
        return inner.apply(events, trx);
      },
    };
    const runner = new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [slow], batchSize: 5 });
    await env.db.transaction().execute(async (trx) => {
      await inner.reset(trx);
      await trx.deleteFrom('projection_checkpoints').execute();
    });
    const firstFive = await env.store.readAll({ maxCount: 5 });
    runner.start();
    await inApply;
    const stopped = runner.stop();
    release();
    await stopped;
    expect(await runner.checkpoint(WORKOUTS_PROJECTION)).toBe(firstFive.at(-1)?.position);
  });
});
