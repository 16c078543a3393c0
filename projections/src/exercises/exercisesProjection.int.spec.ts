import { randomBytes, randomUUID } from 'node:crypto';
import {
  decideExercise,
  envelopeEvents,
  evolveExercise,
  eventRegistry,
  exerciseStreamId,
  initialExerciseState,
  uuidv7,
  type CommandMetadata,
  type ExerciseCommand,
  type ExerciseDefinitionInput,
  type ExerciseState,
} from '@fitledger/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../projectionRunner';
import { lastCommittedPosition, projectionsTestEnv, waitForCheckpoint, type ProjectionsTestEnv } from '../testing/projectionsTestEnv';
import { catalogExerciseId, readCatalog } from './exerciseCatalog';
import { EXERCISES_PROJECTION, exercisesProjection } from './exercisesProjection';

type Who = { tenantId: string; subjectId: string };

/** Writes exercise events as command-service does: the decider, envelopes, encryption, append. */
class ExerciseWriter {
  private readonly streams = new Map<string, { state: ExerciseState; revision: number }>();
  constructor(private readonly env: ProjectionsTestEnv) {}

  async execute(who: Who, command: Omit<ExerciseCommand, 'metadata'>): Promise<void> {
    const exerciseId = command.data.exerciseId;
    const stream = this.streams.get(exerciseId) ?? { state: initialExerciseState(), revision: -1 };
    const metadata: CommandMetadata = { now: new Date(), actor: { sub: who.subjectId, role: 'client' }, ...who, commandId: randomUUID(), correlationId: randomUUID() };
    const events = decideExercise({ ...command, metadata } as ExerciseCommand, stream.state);
    if (events.length === 0) return;
    const envelopes = envelopeEvents(events, {
      streamId: exerciseStreamId(exerciseId),
      command: metadata,
      source: { kind: 'manual' },
      eventIds: events.map(() => uuidv7(new Date(), randomBytes(10))),
      schemaVersionOf: (type) => eventRegistry.currentVersion(type),
    });
    const result = await this.env.store.appendToStream(exerciseStreamId(exerciseId), await this.env.codec.encodeAll(envelopes), {
      expectedRevision: stream.revision < 0 ? 'no-stream' : stream.revision,
    });
    this.streams.set(exerciseId, { state: events.reduce(evolveExercise, stream.state), revision: result.nextExpectedRevision });
  }
}

const definition = (name: string, extra: Partial<ExerciseDefinitionInput> = {}): ExerciseDefinitionInput => ({
  name,
  category: 'strength',
  level: 'beginner',
  primaryMuscles: ['shoulders'],
  equipment: 'barbell',
  ...extra,
});

describe('exercises projection', () => {
  let env: ProjectionsTestEnv;
  let runner: ProjectionRunner;
  let writer: ExerciseWriter;
  const alice: Who = { tenantId: 'tenant-a', subjectId: randomUUID() };
  const bob: Who = { tenantId: 'tenant-b', subjectId: randomUUID() };

  beforeAll(async () => {
    env = await projectionsTestEnv('proj_exercises');
    runner = new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [exercisesProjection()], batchSize: 3 });
    runner.start();
    writer = new ExerciseWriter(env);
  });
  afterAll(async () => {
    await runner.stop();
    await env.close();
  });

  const caughtUp = async (): Promise<void> => waitForCheckpoint(env.db, EXERCISES_PROJECTION, await lastCommittedPosition(env.pool));
  const customRows = () => env.db.selectFrom('rm_exercises').selectAll().where('source', '=', 'custom').orderBy('exercise_id').execute();
  const dump = async (): Promise<string[]> =>
    (await sql<{ row: string }>`SELECT t::text AS row FROM rm_exercises t ORDER BY exercise_id`.execute(env.db)).rows.map((r) => r.row);

  it('the migration loaded the whole catalog with UUIDv5 ids of the source ids', async () => {
    const catalog = readCatalog();
    const rows = await env.db.selectFrom('rm_exercises').select(['exercise_id', 'source_id', 'name', 'visibility']).where('source', '=', 'catalog').execute();
    expect(rows).toHaveLength(catalog.length);
    expect(catalog.length).toBe(873);
    const byId = new Map(rows.map((r) => [r.exercise_id, r]));
    for (const entry of catalog) expect(byId.get(catalogExerciseId(entry.id))).toMatchObject({ source_id: entry.id, name: entry.name, visibility: 'public' });
    // Stable across runs: a fixed value, not just self-consistent.
    expect(catalogExerciseId('Barbell_Squat')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(catalogExerciseId('Barbell_Squat')).toBe(catalogExerciseId('Barbell_Squat'));
  });

  it('writes created, revised and archived exercises with their scope (tenant, owner, visibility)', async () => {
    const x1 = randomUUID();
    const x2 = randomUUID();
    const x3 = randomUUID();
    await writer.execute(alice, { type: 'CreateExercise', data: { exerciseId: x1, definition: definition('Landmine Press', { visibility: 'organisation', secondaryMuscles: ['triceps'] }) } });
    await writer.execute(alice, { type: 'CreateExercise', data: { exerciseId: x2, definition: definition('Knee rehab step-down') } });
    await writer.execute(bob, { type: 'CreateExercise', data: { exerciseId: x3, definition: definition('Sandbag carry', { category: 'strongman', equipment: 'other' }) } });
    await writer.execute(alice, { type: 'ReviseExercise', data: { exerciseId: x2, definition: definition('Knee step-down', { level: 'intermediate', instructions: ['Step down slowly.'] }) } });
    await writer.execute(bob, { type: 'ArchiveExercise', data: { exerciseId: x3 } });
    await caughtUp();

    const rows = new Map((await customRows()).map((r) => [r.exercise_id, r]));
    expect(rows.get(x1)).toMatchObject({ name: 'Landmine Press', visibility: 'organisation', tenant_id: 'tenant-a', subject_id: alice.subjectId, secondary_muscles: ['triceps'], archived: false, revision: '0' });
    expect(rows.get(x2)).toMatchObject({ name: 'Knee step-down', visibility: 'private', level: 'intermediate', instructions: ['Step down slowly.'], revision: '1' });
    expect(rows.get(x3)).toMatchObject({ name: 'Sandbag carry', tenant_id: 'tenant-b', subject_id: bob.subjectId, archived: true, revision: '1' });
    const searchable = await env.db.selectFrom('rm_exercises').select(['search_name']).where('exercise_id', '=', x1).executeTakeFirstOrThrow();
    expect(searchable.search_name).toBe('landmine press');
  });

  it('stores no exercise text in clear in the event store', async () => {
    const raw = await env.pool.query<{ data: string }>(`SELECT data::text AS data FROM es_events WHERE type LIKE 'Exercise%'`);
    expect(raw.rows.length).toBeGreaterThan(0);
    for (const row of raw.rows) {
      expect(row.data).not.toMatch(/Landmine|rehab|Sandbag|shoulders/i);
    }
  });

  it('rebuilds custom rows to the same result and keeps the catalog', async () => {
    // A revision and archive in the same batch as the create exercise the in-batch collapse.
    const x4 = randomUUID();
    await writer.execute(alice, { type: 'CreateExercise', data: { exerciseId: x4, definition: definition('Z press') } });
    await writer.execute(alice, { type: 'ReviseExercise', data: { exerciseId: x4, definition: definition('Z press (seated)') } });
    await writer.execute(alice, { type: 'ArchiveExercise', data: { exerciseId: x4, reason: 'duplicate' } });
    await caughtUp();
    const before = await dump();
    const catalogBefore = before.filter((row) => row.includes(',catalog,')).length;
    expect(catalogBefore).toBe(873);

    await runner.rebuild(EXERCISES_PROJECTION);
    await caughtUp();
    expect(await dump()).toEqual(before);

    // A rebuild with one big batch (everything collapsed at once) gives the same rows too.
    await runner.stop();
    const bigBatches = new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [exercisesProjection()], batchSize: 500 });
    await bigBatches.rebuild(EXERCISES_PROJECTION);
    expect(await dump()).toEqual(before);
    runner = bigBatches;
  });
});
