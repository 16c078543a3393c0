import { randomUUID } from 'node:crypto';
import { bodyMeasurementDecider, bodyMeasurementStreamId, type BodyMeasurementCommand, type BodyMeasurementEvent, type BodyMeasurementState } from '@fitledger/domain';
import type { Position } from '@fitledger/event-store';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../projectionRunner';
import { DeciderWriter, lastCommittedPosition, projectionsTestEnv, waitForCheckpoint, type ProjectionsTestEnv } from '../testing/projectionsTestEnv';
import { workoutsProjection, WORKOUTS_PROJECTION } from '../workouts/workoutsProjection';
import { BODY_MEASUREMENTS_PROJECTION, bodyMeasurementsProjection } from './bodyMeasurementsProjection';

type Cmd = Omit<BodyMeasurementCommand, 'metadata'>;

describe('body measurements projection', () => {
  let env: ProjectionsTestEnv;
  let runner: ProjectionRunner;
  let writer: DeciderWriter<BodyMeasurementState, BodyMeasurementCommand, BodyMeasurementEvent>;

  /** Decides with the real decider and appends as command-service does (PHI sealed by the codec). */
  const exec = (who: { tenantId: string; subjectId: string }, command: Cmd): Promise<Position | undefined> =>
    writer.execute(who, bodyMeasurementStreamId(command.data.measurementId), command);

  const settle = async (): Promise<void> => {
    const head = await lastCommittedPosition(env.pool);
    await waitForCheckpoint(env.db, BODY_MEASUREMENTS_PROJECTION, head);
    await waitForCheckpoint(env.db, WORKOUTS_PROJECTION, head);
  };
  const rows = async (subjectId: string) =>
    (
      await sql<{ row: string }>`SELECT jsonb_build_object('id', measurement_id, 'metric', metric, 'site', site, 'value', value_si, 'entered', entered_value, 'unit', entered_unit,
                                   'sys', systolic_mmhg, 'dia', diastolic_mmhg, 'at', measured_at, 'note', note, 'rev', revision)::text AS row
                                   FROM rm_body_measurements WHERE subject_id = ${subjectId} ORDER BY measured_at, measurement_id`.execute(env.db)
    ).rows.map((r) => JSON.parse(r.row) as Record<string, unknown>);

  beforeAll(async () => {
    env = await projectionsTestEnv('proj_body');
    writer = new DeciderWriter(env, bodyMeasurementDecider, { start: '2025-04-01T07:00:00.000Z', tickMs: 60_000 });
    runner = new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [workoutsProjection(), bodyMeasurementsProjection()], batchSize: 3 });
    runner.start();
  });
  afterAll(async () => {
    await runner.stop();
    await env.close();
  });

  it('keeps one row per current measurement: recorded, corrected, deleted; and feeds each change to its owner', async () => {
    const who = { tenantId: 'tenant-b', subjectId: randomUUID() };
    const other = { tenantId: 'tenant-b', subjectId: randomUUID() };
    const [w1, w2, bp, waist] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await exec(who, { type: 'RecordBodyMeasurement', data: { measurementId: w1, measurement: { metric: 'weight', weight: { value: 180, unit: 'lb' } }, measuredAt: new Date('2025-03-01T06:30:00Z') } });
    await exec(who, { type: 'RecordBodyMeasurement', data: { measurementId: w2, measurement: { metric: 'weight', weight: { value: 81, unit: 'kg' } }, measuredAt: new Date('2025-03-02T06:30:00Z') } });
    await exec(who, { type: 'RecordBodyMeasurement', data: { measurementId: bp, measurement: { metric: 'blood_pressure', systolicMmHg: 182, diastolicMmHg: 128 }, measuredAt: new Date('2025-03-02T07:00:00Z'), note: 'stairs' } });
    await exec(other, { type: 'RecordBodyMeasurement', data: { measurementId: waist, measurement: { metric: 'circumference', site: 'waist', circumference: { value: 32, unit: 'in' } }, measuredAt: new Date('2025-03-02T07:00:00Z') } });
    await exec(who, { type: 'CorrectBodyMeasurement', data: { measurementId: bp, measurement: { metric: 'blood_pressure', systolicMmHg: 128, diastolicMmHg: 82 }, reason: 'digits swapped' } });
    await exec(who, { type: 'DeleteBodyMeasurement', data: { measurementId: w2 } });
    await settle();

    expect(await rows(who.subjectId)).toEqual([
      { id: w1, metric: 'weight', site: null, value: 81.6466266, entered: 180, unit: 'lb', sys: null, dia: null, at: '2025-03-01T06:30:00+00:00', note: null, rev: 0 },
      { id: bp, metric: 'blood_pressure', site: null, value: 128, entered: null, unit: null, sys: 128, dia: 82, at: '2025-03-02T07:00:00+00:00', note: null, rev: 1 },
    ]);
    expect(await rows(other.subjectId)).toEqual([
      { id: waist, metric: 'circumference', site: 'waist', value: 0.8128, entered: 32, unit: 'in', sys: null, dia: null, at: '2025-03-02T07:00:00+00:00', note: null, rev: 0 },
    ]);

    // Feed: one change per event, payload = the row after its batch (null once deleted), only to the owner.
    const feed = await env.db.selectFrom('rm_feed_changes').select(['entity_id', 'op', 'kind']).where('subject_id', '=', who.subjectId).orderBy('position').execute();
    expect(feed.map((f) => [f.entity_id, f.op, f.kind])).toEqual([
      [w1, 'upsert', 'body_measurement'],
      [w2, 'upsert', 'body_measurement'],
      [bp, 'upsert', 'body_measurement'],
      [bp, 'upsert', 'body_measurement'],
      [w2, 'delete', 'body_measurement'],
    ]);
  });

  it('rebuilds to the same rows, and a rebuild of the workouts projection leaves body-measurement feed rows alone', async () => {
    const who = { tenantId: 'tenant-b', subjectId: randomUUID() };
    for (let i = 0; i < 7; i++) {
      await exec(who, { type: 'RecordBodyMeasurement', data: { measurementId: randomUUID(), measurement: { metric: 'resting_heart_rate', heartRateBpm: 50 + i }, measuredAt: new Date(Date.UTC(2025, 2, 1 + i, 6)) } });
    }
    await settle();
    const before = await rows(who.subjectId);
    const feedBefore = await env.db.selectFrom('rm_feed_changes').select(['position', 'payload']).where('kind', '=', 'body_measurement').orderBy('position').execute();
    expect(before).toHaveLength(7);

    await runner.rebuild(WORKOUTS_PROJECTION);
    expect(await env.db.selectFrom('rm_feed_changes').select(['position', 'payload']).where('kind', '=', 'body_measurement').orderBy('position').execute()).toEqual(feedBefore);

    await runner.rebuild(BODY_MEASUREMENTS_PROJECTION);
    expect(await rows(who.subjectId)).toEqual(before);
    expect((await env.db.selectFrom('rm_feed_changes').select(['position']).where('kind', '=', 'body_measurement').orderBy('position').execute()).map((r) => r.position)).toEqual(
      feedBefore.map((r) => r.position),
    );
  });
});
