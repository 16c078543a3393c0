import { randomUUID } from 'node:crypto';
import type { SetInput, WorkoutCommand } from '@fitledger/domain';
import type { Position } from '@fitledger/event-store';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedPayload } from '../feedPayload';
import { ProjectionRunner, type CommittedBatch, type PreparedBatch, type ReadableEvent } from '../projectionRunner';
import type { FeedChange } from '../readModelDb';
import { WorkoutWriter, dumpReadModels, projectionsTestEnv, waitForCheckpoint, type ProjectionsTestEnv, lastCommittedPosition } from '../testing/projectionsTestEnv';
import { WORKOUTS_PROJECTION, workoutsProjection } from './workoutsProjection';

const SQUAT = '0189c0de-1111-7222-8333-444455556666';
const BENCH = '0189c0de-2222-7222-8333-444455556666';
const DEADLIFT = '0189c0de-3333-7222-8333-444455556666';

type Cmd = Omit<WorkoutCommand, 'metadata'>;
const kg = (value: number, reps: number, extra: Partial<SetInput> = {}): SetInput => ({ exerciseId: SQUAT, reps, load: { value, unit: 'kg' }, ...extra });

describe('workouts projection', () => {
  let env: ProjectionsTestEnv;
  let runner: ProjectionRunner;
  let writer: WorkoutWriter;
  const committed: CommittedBatch[] = [];

  beforeAll(async () => {
    env = await projectionsTestEnv('proj_workouts');
    // A small batch size so that the scenarios below span several batches.
    runner = new ProjectionRunner({
      store: env.store,
      codec: env.codec,
      db: env.db,
      projections: [workoutsProjection()],
      batchSize: 4,
      onCommitted: (batch) => void committed.push(batch),
    });
    runner.start();
    writer = new WorkoutWriter(env);
  });
  afterAll(async () => {
    await runner.stop();
    await env.close();
  });

  const subject = () => ({ tenantId: 'tenant-a', subjectId: randomUUID() });

  async function run(who: { tenantId: string; subjectId: string }, ...commands: Cmd[]): Promise<Position> {
    let last: Position | undefined;
    for (const command of commands) last = (await writer.execute(who, command)) ?? last;
    if (last === undefined) throw new Error('no events written');
    await waitForCheckpoint(env.db, WORKOUTS_PROJECTION, await lastCommittedPosition(env.pool));
    return last;
  }

  const plan = (workoutId: string, title = 'Lower body A'): Cmd => ({ type: 'PlanWorkout', data: { workoutId, title, plannedFor: writer.tick(0), plannedSets: [kg(100, 5)] } });
  const start = (workoutId: string): Cmd => ({ type: 'StartWorkout', data: { workoutId } });
  const log = (workoutId: string, setId: string, set: SetInput): Cmd => ({ type: 'LogSet', data: { workoutId, setId, set } });
  const correct = (workoutId: string, setId: string, set: SetInput): Cmd => ({ type: 'CorrectSet', data: { workoutId, setId, set } });
  const remove = (workoutId: string, setId: string): Cmd => ({ type: 'DeleteSet', data: { workoutId, setId } });
  const complete = (workoutId: string): Cmd => ({ type: 'CompleteWorkout', data: { workoutId, perceivedExertion: 7 } });
  const cancel = (workoutId: string): Cmd => ({ type: 'CancelWorkout', data: { workoutId } });

  const workout = (id: string) => env.db.selectFrom('rm_workouts').selectAll().where('workout_id', '=', id).executeTakeFirst();
  const sets = (id: string) => env.db.selectFrom('rm_workout_sets').selectAll().where('workout_id', '=', id).orderBy('ordinal').execute();
  const record = (subjectId: string, exerciseId: string) =>
    env.db.selectFrom('rm_personal_records').selectAll().where('subject_id', '=', subjectId).where('exercise_id', '=', exerciseId).executeTakeFirst();
  /** The subject's feed rows, each with its payload as a reader renders it now (`stored`: the payload column). */
  const feed = (subjectId: string) =>
    env.db
      .selectFrom('rm_feed_changes as f')
      .select(['f.position', 'f.seq', 'f.kind', 'f.op', 'f.entity_id', 'f.set_id', 'f.set_deleted', 'f.tenant_id', 'f.payload as stored', feedPayload().as('payload')])
      .where('f.subject_id', '=', subjectId)
      .orderBy('f.position')
      .orderBy('f.seq')
      .execute();

  it('shows a workout, its sets and the personal records once the events are appended', async () => {
    const who = subject();
    const w = randomUUID();
    const [s1, s2, s3, s4] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await run(
      who,
      plan(w),
      start(w),
      log(w, s1, kg(60, 10, { warmUp: true })),
      log(w, s2, kg(100, 5)),
      log(w, s3, kg(110, 3)),
      log(w, s4, { exerciseId: BENCH, reps: 8, load: { value: 80, unit: 'kg' } }),
      complete(w),
    );
    const state = writer.state(w);

    const row = await workout(w);
    expect(row).toMatchObject({
      tenant_id: 'tenant-a',
      subject_id: who.subjectId,
      status: 'completed',
      title: 'Lower body A',
      set_count: 4,
      exercise_ids: [SQUAT, BENCH],
      revision: '6',
    });
    expect(Number(row?.total_volume_kg)).toBe(100 * 5 + 110 * 3 + 80 * 8); // warm-up excluded
    expect(Number(row?.perceived_exertion)).toBe(7);
    expect(row?.started_at?.toISOString()).toBe(state.startedAt);
    expect(row?.sort_at.toISOString()).toBe(state.startedAt);
    expect(row?.completed_at?.toISOString()).toBe(state.completedAt);

    const setRows = await sets(w);
    expect(setRows.map((s) => [s.set_id, s.ordinal, s.exercise_id, s.reps, Number(s.load_kg), s.load_unit, s.warm_up])).toEqual([
      [s1, 1, SQUAT, 10, 60, 'kg', true],
      [s2, 2, SQUAT, 5, 100, 'kg', false],
      [s3, 3, SQUAT, 3, 110, 'kg', false],
      [s4, 4, BENCH, 8, 80, 'kg', false],
    ]);

    const squat = await record(who.subjectId, SQUAT);
    expect(squat).toMatchObject({ tenant_id: 'tenant-a', ten_rm_kg: null }); // the 10-rep set was a warm-up
    expect([squat?.one_rm_kg, squat?.three_rm_kg, squat?.five_rm_kg].map(Number)).toEqual([110, 110, 100]);
    expect(Number(squat?.epley_kg)).toBeCloseTo(110 * (1 + 3 / 30), 10); // 121 > 100·(1 + 5/30) ≈ 116.7
    expect(Number(squat?.brzycki_kg)).toBeCloseTo((110 * 36) / 34, 10);
    expect(Number(squat?.best_volume_kg)).toBe(500);
    expect(Number((await record(who.subjectId, BENCH))?.one_rm_kg)).toBe(80);
  });

  it('keeps a planned workout out of the sets table and dates it by its plan', async () => {
    const who = subject();
    const w = randomUUID();
    await run(who, plan(w, 'Upper body'));
    const row = await workout(w);
    expect(row).toMatchObject({ status: 'planned', title: 'Upper body', set_count: 0, exercise_ids: [SQUAT], started_at: null });
    expect(row?.sort_at.toISOString()).toBe(writer.state(w).plannedFor);
    expect(row?.planned_sets).toHaveLength(1);
    expect(await sets(w)).toEqual([]);
    expect(await record(who.subjectId, SQUAT)).toBeUndefined();
  });

  it('recomputes the personal record when its set is corrected', async () => {
    const who = subject();
    const w = randomUUID();
    const best = randomUUID();
    await run(who, start(w), log(w, randomUUID(), kg(100, 5)), log(w, best, kg(110, 3)));
    expect(Number((await record(who.subjectId, SQUAT))?.one_rm_kg)).toBe(110);

    await run(who, correct(w, best, kg(120, 3)));
    const corrected = await record(who.subjectId, SQUAT);
    expect(Number(corrected?.one_rm_kg)).toBe(120);
    expect(Number(corrected?.epley_kg)).toBeCloseTo(132, 10);
    expect((await sets(w)).find((s) => s.set_id === best)).toMatchObject({ ordinal: 2, load_kg: '120' });

    // Correcting the set to another exercise moves it: the old exercise falls back, the new one gains it.
    await run(who, correct(w, best, { ...kg(90, 2), exerciseId: BENCH }));
    expect(Number((await record(who.subjectId, SQUAT))?.one_rm_kg)).toBe(100);
    expect(Number((await record(who.subjectId, BENCH))?.one_rm_kg)).toBe(90);
  });

  it('lowers the personal record when the best set is deleted, and drops it with the last set', async () => {
    const who = subject();
    const w = randomUUID();
    const [light, best] = [randomUUID(), randomUUID()];
    await run(who, start(w), log(w, light, kg(100, 5)), log(w, best, kg(140, 1)));
    expect(Number((await record(who.subjectId, SQUAT))?.one_rm_kg)).toBe(140);

    await run(who, remove(w, best));
    expect(Number((await record(who.subjectId, SQUAT))?.one_rm_kg)).toBe(100);
    expect(await sets(w)).toHaveLength(1);
    expect(await workout(w)).toMatchObject({ set_count: 1, total_volume_kg: '500' });

    await run(who, remove(w, light));
    expect(await record(who.subjectId, SQUAT)).toBeUndefined();
  });

  it("takes a cancelled workout's sets out of the personal records", async () => {
    const who = subject();
    const [done, cancelled] = [randomUUID(), randomUUID()];
    await run(who, start(done), log(done, randomUUID(), { ...kg(150, 5), exerciseId: DEADLIFT }), complete(done));
    await run(who, start(cancelled), log(cancelled, randomUUID(), { ...kg(200, 1), exerciseId: DEADLIFT }), log(cancelled, randomUUID(), kg(90, 5)));
    expect(Number((await record(who.subjectId, DEADLIFT))?.one_rm_kg)).toBe(200);
    expect(await record(who.subjectId, SQUAT)).toBeDefined();

    await run(who, cancel(cancelled));
    expect(Number((await record(who.subjectId, DEADLIFT))?.one_rm_kg)).toBe(150);
    expect(await record(who.subjectId, SQUAT)).toBeUndefined(); // its only sets were in the cancelled workout
    expect(await workout(cancelled)).toMatchObject({ status: 'cancelled', set_count: 2 });
  });

  it('writes feed changes in position order, one per entity an event changed, with the right kinds', async () => {
    const who = subject();
    const w = randomUUID();
    const [heavy, light] = [randomUUID(), randomUUID()];
    const positions: Position[] = [];
    type WorkoutDelta = { status: string; sets: { set_id: string }[]; deletedSetIds: string[]; revision: number };
    // What a reader sees of each event's workout change right after it (the entity is rendered when read).
    const shown: WorkoutDelta[] = [];
    const shownRecords: unknown[] = [];
    for (const command of [start(w), log(w, heavy, kg(100, 5)), log(w, light, kg(90, 3)), complete(w), remove(w, heavy), remove(w, light)]) {
      const position = await run(who, command);
      positions.push(position);
      const rows = (await feed(who.subjectId)).filter((c) => c.position === position);
      shown.push(rows.find((c) => c.kind === 'workout')?.payload as WorkoutDelta);
      shownRecords.push(rows.find((c) => c.kind === 'personal_record')?.payload);
    }

    const changes = await feed(who.subjectId);
    expect(changes.map((c) => [c.position, c.seq, c.kind, c.op, c.entity_id])).toEqual([
      [positions[0], 0, 'workout', 'upsert', w],
      [positions[1], 0, 'workout', 'upsert', w],
      [positions[1], 1, 'personal_record', 'upsert', SQUAT], // the first set makes the record
      [positions[2], 0, 'workout', 'upsert', w], // a lighter set with fewer reps beats nothing
      [positions[3], 0, 'workout', 'upsert', w],
      [positions[4], 0, 'workout', 'upsert', w],
      [positions[4], 1, 'personal_record', 'upsert', SQUAT], // the record falls back to the lighter set
      [positions[5], 0, 'workout', 'upsert', w],
      [positions[5], 1, 'personal_record', 'delete', SQUAT], // no set left
    ]);
    expect([...positions].sort()).toEqual(positions);
    // The rows hold keys and the set each event touched, not copies of the entities.
    expect(changes.map((c) => [c.set_id, c.set_deleted])).toEqual([
      [null, false],
      [heavy, false],
      [null, false],
      [light, false],
      [null, false],
      [heavy, true],
      [null, false],
      [light, true],
      [null, false],
    ]);
    expect(changes.every((c) => c.stored === null && c.tenant_id === who.tenantId)).toBe(true);

    // Workout payloads are deltas: the workout row, the set the event logged or corrected, the set it deleted.
    expect(shown[0]).toMatchObject({ workout_id: w, status: 'in_progress', sets: [], deletedSetIds: [] });
    expect(shown[1]).toMatchObject({ sets: [{ set_id: heavy, ordinal: 1, reps: 5, load_kg: 100 }], deletedSetIds: [] });
    expect(shown[2]?.sets.map((s) => s.set_id)).toEqual([light]);
    expect(shown[3]).toMatchObject({ status: 'completed', sets: [], deletedSetIds: [] });
    expect(shown[4]).toMatchObject({ sets: [], deletedSetIds: [heavy] });
    expect(shown[5]).toMatchObject({ workout_id: w, status: 'completed', set_count: 0, sets: [], deletedSetIds: [light], revision: 5 });
    expect(shownRecords[1]).toMatchObject({ one_rm_kg: 100, five_rm_kg: 100 });
    expect(shownRecords[4]).toMatchObject({ one_rm_kg: 90, five_rm_kg: null });
    expect(shownRecords[5]).toBeNull();
    // Read later, a change shows the entity as it is then: the heavy set is gone, the workout completed.
    expect(changes[1]?.payload).toMatchObject({ status: 'completed', set_count: 0, sets: [], deletedSetIds: [] });
    // The record's upsert changes are not sent once it is deleted; its delete is.
    expect(changes[6]?.payload).toBeNull();
    expect(changes.at(-1)?.payload).toBeNull();

    // The in-process listeners got exactly the committed rows.
    const announced: FeedChange[] = committed.flatMap((b) => b.changes).filter((c) => c.subjectId === who.subjectId);
    expect(announced.map((c) => [c.position, c.seq, c.kind, c.op, c.entityId])).toEqual(changes.map((c) => [c.position, c.seq, c.kind, c.op, c.entity_id]));
    // Keys only: listeners wake readers, who read the payloads from the table.
    expect(announced.filter((c) => 'payload' in c)).toEqual([]);
  });

  it('applies a batch that failed after changing its cached models as if it had never been tried', async () => {
    const who = subject();
    const w = randomUUID();
    const setIds = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    // Cached after these batches: the model the failing batch then works on in place.
    await run(who, start(w), log(w, setIds[0] as string, kg(100, 5)), log(w, setIds[1] as string, kg(110, 3)));
    // Fails at COMMIT (a deferred constraint trigger): after apply() returned and cached its models.
    await env.pool.query(`CREATE TABLE IF NOT EXISTS test_failing_subjects (subject_id text PRIMARY KEY);
      CREATE SEQUENCE IF NOT EXISTS test_feed_failures;
      CREATE OR REPLACE FUNCTION test_fail_feed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM test_failing_subjects WHERE subject_id = NEW.subject_id) THEN
          PERFORM nextval('test_feed_failures');
          RAISE EXCEPTION 'injected feed failure';
        END IF;
        RETURN NEW;
      END $$;
      DROP TRIGGER IF EXISTS test_fail_feed ON rm_feed_changes;
      CREATE CONSTRAINT TRIGGER test_fail_feed AFTER INSERT ON rm_feed_changes DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_fail_feed();`);
    const failures = async (): Promise<number> => Number((await env.pool.query<{ n: string }>(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM test_feed_failures`)).rows[0]?.n);
    const before = await failures();
    try {
      await env.pool.query('INSERT INTO test_failing_subjects VALUES ($1)', [who.subjectId]);
      // Logged, corrected (the heavier set now lighter), deleted, logged: each batch fails until the trigger lets go.
      for (const command of [log(w, setIds[2] as string, kg(120, 1)), correct(w, setIds[1] as string, kg(90, 3)), remove(w, setIds[0] as string), log(w, setIds[3] as string, kg(80, 8))]) {
        await writer.execute(who, command);
      }
      const deadline = Date.now() + 15_000;
      while ((await failures()) < before + 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await failures()).toBeGreaterThanOrEqual(before + 2);
    } finally {
      await env.pool.query('DELETE FROM test_failing_subjects WHERE subject_id = $1', [who.subjectId]);
    }
    await waitForCheckpoint(env.db, WORKOUTS_PROJECTION, await lastCommittedPosition(env.pool));

    expect(await workout(w)).toMatchObject({ set_count: 3, revision: '6', total_volume_kg: '1030' });
    expect((await sets(w)).map((s) => [s.set_id, s.ordinal, Number(s.load_kg)])).toEqual([
      [setIds[1], 2, 90],
      [setIds[2], 3, 120],
      [setIds[3], 4, 80],
    ]);
    expect(await record(who.subjectId, SQUAT)).toMatchObject({ one_rm_kg: '120', three_rm_kg: '90', five_rm_kg: '80', ten_rm_kg: null });
    expect((await feed(who.subjectId)).map((c) => [c.kind, c.op, c.set_id])).toEqual([
      ['workout', 'upsert', null],
      ['workout', 'upsert', setIds[0]],
      ['personal_record', 'upsert', null],
      ['workout', 'upsert', setIds[1]],
      ['personal_record', 'upsert', null],
      ['workout', 'upsert', setIds[2]],
      ['personal_record', 'upsert', null],
      ['workout', 'upsert', setIds[1]],
      ['personal_record', 'upsert', null],
      ['workout', 'upsert', setIds[0]],
      ['personal_record', 'upsert', null],
      ['workout', 'upsert', setIds[3]],
      ['personal_record', 'upsert', null],
    ]);
  });

  it('never caches models a batch changed before it failed in prepare, even when the batch before it commits afterwards', async () => {
    // Its own database: the runner of this suite must not apply these events itself.
    const own = await projectionsTestEnv('proj_workouts_forget');
    try {
      const ownWriter = new WorkoutWriter(own);
      const who = subject();
      const w = randomUUID();
      const [s1, s2] = [randomUUID(), randomUUID()];
      for (const command of [start(w), log(w, s1, kg(100, 5)), log(w, s2, kg(110, 3))]) await ownWriter.execute(who, command);
      const decoded = await Promise.all((await own.store.readAll({ maxCount: 100 })).map((e) => own.codec.decode(e)));
      const [started, first, second] = decoded.filter((e): e is ReadableEvent => e.erased !== true);
      if (started === undefined || first === undefined || second === undefined) throw new Error('three events expected');
      let failOnWarn = false;
      const logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: () => {
        if (failOnWarn) throw new Error('injected failure in the middle of a fold');
      } };
      const projection = workoutsProjection({ logger });
      const prepare = (events: ReadableEvent[]) => (projection.prepare as NonNullable<typeof projection.prepare>)(events, own.db);
      const commit = async (plan: PreparedBatch) => {
        await own.db.transaction().execute((trx) => plan.write(trx));
        plan.settle(true);
      };
      await commit(await prepare([started])); // the workout's model is cached
      const a = await prepare([first]); // batch A logs s1, not written yet
      // Batch B, prepared ahead: it logs s2 into the same model, in place, then fails (an event of a
      // workout that does not exist is logged, and the logger throws).
      failOnWarn = true;
      const orphan: ReadableEvent = { ...second, eventId: randomUUID(), data: { ...(second.data as object), workoutId: randomUUID() } };
      await expect(prepare([second, orphan])).rejects.toThrow('injected failure');
      failOnWarn = false;
      await commit(a); // A commits after B failed
      await commit(await prepare([second])); // B again, from A's rows
      const row = await own.db.selectFrom('rm_workouts').selectAll().where('workout_id', '=', w).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ set_count: 2, revision: '2' });
      const stored = await own.db.selectFrom('rm_workout_sets').select(['set_id', 'ordinal']).where('workout_id', '=', w).orderBy('ordinal').execute();
      expect(stored).toEqual([
        { set_id: s1, ordinal: 1 },
        { set_id: s2, ordinal: 2 },
      ]);
    } finally {
      await own.close();
    }
  });

  it('announces every committed batch with one NOTIFY on rm_changes', async () => {
    const listener = new pg.Client({ connectionString: env.url });
    await listener.connect();
    const received: string[] = [];
    listener.on('notification', (n) => received.push(n.payload ?? ''));
    await listener.query('LISTEN rm_changes');
    try {
      const who = subject();
      const w = randomUUID();
      const position = await run(who, start(w));
      const deadline = Date.now() + 10_000;
      while (!received.some((p) => (JSON.parse(p) as { position: string }).position >= position) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const payloads = received.map((p) => JSON.parse(p) as { projection: string; position: string });
      expect(payloads.some((p) => p.projection === WORKOUTS_PROJECTION && p.position >= position)).toBe(true);
    } finally {
      await listener.end();
    }
  });

  it('skips the events of erased subjects when replaying', async () => {
    const erased = subject();
    const kept = subject();
    const [we, wk] = [randomUUID(), randomUUID()];
    await run(erased, start(we), log(we, randomUUID(), kg(180, 1)));
    await run(kept, start(wk), log(wk, randomUUID(), kg(80, 1)));
    expect(await workout(we)).toBeDefined();

    await env.keys.destroy(erased.subjectId);
    await runner.rebuild(WORKOUTS_PROJECTION);

    expect(await workout(we)).toBeUndefined();
    expect(await sets(we)).toEqual([]);
    expect(await record(erased.subjectId, SQUAT)).toBeUndefined();
    expect(await feed(erased.subjectId)).toEqual([]);
    expect(await workout(wk)).toMatchObject({ status: 'in_progress', set_count: 1 });
    expect(Number((await record(kept.subjectId, SQUAT))?.one_rm_kg)).toBe(80);
  });

  it('gives identical tables when rebuilt twice', async () => {
    const first = await runner.rebuild(WORKOUTS_PROJECTION);
    const once = await dumpReadModels(env.db);
    const second = await runner.rebuild(WORKOUTS_PROJECTION);
    const twice = await dumpReadModels(env.db);
    expect(second).toBe(first);
    expect(once.rm_workouts?.length).toBeGreaterThan(5);
    expect(once.rm_feed_changes?.length).toBeGreaterThan(20);
    expect(twice).toEqual(once);
  });
});
