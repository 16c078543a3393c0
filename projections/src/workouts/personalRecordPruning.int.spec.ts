import { randomUUID } from 'node:crypto';
import { personalRecords, type PersonalRecordSet, type SetInput, type WorkoutCommand } from '@fitledger/domain';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../projectionRunner';
import { WorkoutWriter, projectionsTestEnv, waitForCheckpoint, type ProjectionsTestEnv, lastCommittedPosition } from '../testing/projectionsTestEnv';
import { WORKOUTS_PROJECTION, workoutsProjection } from './workoutsProjection';

const SQUAT = '0189c0de-1111-7222-8333-444455556666';
type Cmd = Omit<WorkoutCommand, 'metadata'>;

// The PR table loads only the sets that can hold a record. Whatever the history (ties, warm-ups,
// corrections, deletions, cancelled workouts), the stored records must equal personalRecords()
// over every current set.
describe('personal records from pruned candidates', () => {
  let env: ProjectionsTestEnv;
  let runner: ProjectionRunner;
  let writer: WorkoutWriter;

  beforeAll(async () => {
    env = await projectionsTestEnv('proj_pr_pruning');
    runner = new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [workoutsProjection()], batchSize: 7 });
    runner.start();
    writer = new WorkoutWriter(env);
  });
  afterAll(async () => {
    await runner.stop();
    await env.close();
  });

  const setArb = fc.record({
    reps: fc.integer({ min: 1, max: 40 }),
    loadKg: fc.constantFrom(20, 40, 60, 60, 80, 80, 100, 102.5, 120),
    warmUp: fc.boolean(),
    // Some sets are backdated to a few shared instants just after their workout started: a new set can
    // then precede (or tie in time with) a stored record holder, and ties fall to workout and ordinal.
    backdate: fc.option(fc.constantFrom(0, 1, 2), { nil: undefined }),
  });
  const opArb = fc.oneof(
    { weight: 6, arbitrary: setArb.map((s) => ({ kind: 'log' as const, ...s })) },
    { weight: 2, arbitrary: fc.tuple(fc.nat(), setArb).map(([i, s]) => ({ kind: 'correct' as const, i, ...s })) },
    { weight: 1, arbitrary: fc.nat().map((i) => ({ kind: 'delete' as const, i })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'newWorkout' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'cancelWorkout' as const }) },
  );

  it('equal personalRecords() over all current sets, for random histories', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), async (ops) => {
        const who = { tenantId: 'tenant-p', subjectId: randomUUID() };
        const workouts: { id: string; sets: string[]; cancelled: boolean }[] = [];
        const exec = (command: Cmd): Promise<unknown> => writer.execute(who, command);
        const openWorkout = async (): Promise<{ id: string; sets: string[]; cancelled: boolean; openedAt: number }> => {
          const w = { id: randomUUID(), sets: [] as string[], cancelled: false, openedAt: 0 };
          await exec({ type: 'StartWorkout', data: { workoutId: w.id } });
          w.openedAt = writer.tick(0).getTime(); // the workout's startedAt (the writer's clock advances 1 s per command)
          workouts.push(w);
          return w;
        };
        let current = await openWorkout();
        const input = (s: { reps: number; loadKg: number; warmUp: boolean }): SetInput => ({ exerciseId: SQUAT, reps: s.reps, load: { value: s.loadKg, unit: 'kg' }, warmUp: s.warmUp });
        for (const op of ops) {
          const live = workouts.filter((w) => !w.cancelled);
          const allSets = live.flatMap((w) => w.sets.map((setId) => ({ w, setId })));
          switch (op.kind) {
            case 'log': {
              const setId = randomUUID();
              const occurredAt = op.backdate === undefined ? undefined : new Date(current.openedAt + op.backdate * 500);
              await exec({ type: 'LogSet', data: { workoutId: current.id, setId, set: input(op), ...(occurredAt ? { occurredAt } : {}) } });
              current.sets.push(setId);
              break;
            }
            case 'correct': {
              const target = allSets[op.i % Math.max(1, allSets.length)];
              if (target) await exec({ type: 'CorrectSet', data: { workoutId: target.w.id, setId: target.setId, set: input(op) } });
              break;
            }
            case 'delete': {
              const target = allSets[op.i % Math.max(1, allSets.length)];
              if (target) {
                await exec({ type: 'DeleteSet', data: { workoutId: target.w.id, setId: target.setId } });
                target.w.sets = target.w.sets.filter((s) => s !== target.setId);
              }
              break;
            }
            case 'newWorkout':
              current = await openWorkout();
              break;
            case 'cancelWorkout':
              if (!current.cancelled) {
                await exec({ type: 'CancelWorkout', data: { workoutId: current.id } });
                current.cancelled = true;
                current = await openWorkout();
              }
              break;
            default: {
              const _: never = op;
              throw new Error(String(_));
            }
          }
        }
        await waitForCheckpoint(env.db, WORKOUTS_PROJECTION, await lastCommittedPosition(env.pool));

        const all = await sql<{ set_id: string; reps: number; load_kg: string; warm_up: boolean }>`
          SELECT s.set_id, s.reps, s.load_kg, s.warm_up FROM rm_workout_sets s JOIN rm_workouts w ON w.workout_id = s.workout_id
           WHERE s.subject_id = ${who.subjectId} AND w.status <> 'cancelled' ORDER BY s.occurred_at, s.workout_id, s.ordinal`.execute(env.db);
        const sets: PersonalRecordSet[] = all.rows.map((r) => ({ setId: r.set_id, exerciseId: SQUAT, reps: r.reps, loadKg: Number(r.load_kg), warmUp: r.warm_up }));
        const expected = personalRecords(sets)[SQUAT];
        const stored = await env.db.selectFrom('rm_personal_records').selectAll().where('subject_id', '=', who.subjectId).executeTakeFirst();
        if (expected === undefined) expect(stored).toBeUndefined();
        else expect(JSON.parse(JSON.stringify(stored?.records))).toEqual(JSON.parse(JSON.stringify(expected)));

        // total_volume_kg is kept in memory: same value and same numeric scale as summing the stored sets.
        const volumes = await sql<{ kept: string; summed: string }>`
          SELECT w.total_volume_kg::text AS kept,
                 coalesce((SELECT sum(s.load_kg * s.reps) FROM rm_workout_sets s
                            WHERE s.workout_id = w.workout_id AND NOT s.warm_up AND s.load_kg IS NOT NULL AND s.reps IS NOT NULL), 0)::text AS summed
            FROM rm_workouts w WHERE w.subject_id = ${who.subjectId}`.execute(env.db);
        for (const v of volumes.rows) expect(v.kept).toBe(v.summed);
      }),
      { numRuns: 50 },
    );
  });
});
