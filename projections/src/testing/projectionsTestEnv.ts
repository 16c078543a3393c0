import { randomBytes, randomUUID } from 'node:crypto';
import { LocalKeyStore, PhiCodec, masterKeyFromBytes, migrateCryptoSchema, type MasterKey } from '@fitledger/crypto';
import {
  decide,
  envelopeEvents,
  evolve,
  eventRegistry,
  initialState,
  uuidv7,
  workoutStreamId,
  type CommandMetadata,
  type Decider,
  type Event,
  type WorkoutCommand,
  type WorkoutState,
} from '@fitledger/domain';
import { EventCodec } from '@fitledger/event-codec';
import { PostgresEventStore, START, encodePgPosition, migrateEventStore, type Position } from '@fitledger/event-store';
import { isolatedPostgres, testDatabase } from '@fitledger/testing/vitest';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { migrateReadModels } from '../migrations/index';
import type { ReadModelDb } from '../readModelDb';
import { readModelDb } from '../projectionsService';

/**
 * A database of its own with the event store, key store and read models migrated. `isolated`: on
 * a server of its own (`isolatedPostgres`), for a test that keeps a transaction open on purpose.
 */
export async function projectionsTestEnv(prefix: string, options: { readonly isolated?: boolean } = {}) {
  const server = options.isolated === true ? await isolatedPostgres() : undefined;
  const database = server === undefined ? await testDatabase(prefix) : { url: server.url, drop: () => server.stop() };
  const pool = new pg.Pool({ connectionString: database.url, max: 8 });
  await migrateEventStore(pool);
  await migrateCryptoSchema(pool);
  await migrateReadModels(pool);
  const masterKey: MasterKey = masterKeyFromBytes(randomBytes(32));
  const keys = new LocalKeyStore({ pool, masterKey });
  const store = new PostgresEventStore({ pool, idlePollMs: 200 });
  const codec = new EventCodec(new PhiCodec(keys), eventRegistry);
  const db: Kysely<ReadModelDb> = readModelDb(pool);
  return {
    url: database.url,
    pool,
    masterKey,
    keys,
    store,
    codec,
    db,
    async close(): Promise<void> {
      await store.close();
      await keys.close();
      await pool.end();
      await database.drop();
    },
  };
}

export type ProjectionsTestEnv = Awaited<ReturnType<typeof projectionsTestEnv>>;

/**
 * Writes workout events the way command-service does: the real decider over the stream's state,
 * envelopes from the command metadata, encryption by the codec, append with the expected revision.
 * Keeps each stream's state in memory (a single writer per test).
 */
export class WorkoutWriter {
  private readonly streams = new Map<string, { state: WorkoutState; revision: number }>();
  private clock: number;

  constructor(
    private readonly env: Pick<ProjectionsTestEnv, 'store' | 'codec'>,
    start = Date.parse('2025-01-06T07:00:00.000Z'),
  ) {
    this.clock = start;
  }

  /** Advances the fake clock by `seconds` and returns the new time. */
  tick(seconds = 60): Date {
    this.clock += seconds * 1000;
    return new Date(this.clock);
  }

  state(workoutId: string): WorkoutState {
    return this.streams.get(workoutId)?.state ?? initialState();
  }

  /** Decides and appends; returns the position of the last event written (undefined when the command changed nothing). */
  async execute(subject: { tenantId: string; subjectId: string }, command: Omit<WorkoutCommand, 'metadata'>, traceparent?: string): Promise<Position | undefined> {
    const workoutId = (command.data as { workoutId: string }).workoutId;
    const stream = this.streams.get(workoutId) ?? { state: initialState(), revision: -1 };
    const metadata: CommandMetadata = {
      now: this.tick(1),
      actor: { sub: subject.subjectId, role: 'client' },
      tenantId: subject.tenantId,
      subjectId: subject.subjectId,
      commandId: randomUUID(),
      correlationId: randomUUID(),
      ...(traceparent === undefined ? {} : { traceparent }),
    };
    const events = decide({ ...command, metadata } as WorkoutCommand, stream.state);
    if (events.length === 0) return undefined;
    const streamId = workoutStreamId(workoutId);
    const envelopes = envelopeEvents(events, {
      streamId,
      command: metadata,
      source: { kind: 'manual' },
      eventIds: events.map(() => uuidv7(new Date(this.clock), randomBytes(10))),
      schemaVersionOf: (type) => eventRegistry.currentVersion(type),
    });
    const result = await this.env.store.appendToStream(streamId, await this.env.codec.encodeAll(envelopes), {
      expectedRevision: stream.revision < 0 ? 'no-stream' : stream.revision,
    });
    this.streams.set(workoutId, { state: events.reduce(evolve, stream.state), revision: result.nextExpectedRevision });
    return result.position;
  }
}

/**
 * Writes any aggregate's events the way command-service does: the real decider over the stream's
 * state (kept in memory: one writer per test), envelopes from the command metadata, PHI sealed by
 * the codec, append with the expected revision. `tickMs` advances the fake clock per command.
 */
export class DeciderWriter<State, Command extends { readonly type: string; readonly data: unknown }, E extends Event> {
  private readonly streams = new Map<string, { state: State; revision: number }>();
  private clock: number;

  constructor(
    private readonly env: Pick<ProjectionsTestEnv, 'store' | 'codec'>,
    private readonly decider: Decider<State, Command, E>,
    private readonly options: { readonly start: string; readonly tickMs: number },
  ) {
    this.clock = Date.parse(options.start);
  }

  /** Decides `command` on `streamId` for `who`; returns the position of the last event (undefined when nothing changed). */
  async execute(who: { tenantId: string; subjectId: string }, streamId: string, command: Omit<Command, 'metadata'>): Promise<Position | undefined> {
    this.clock += this.options.tickMs;
    const stream = this.streams.get(streamId) ?? { state: this.decider.initialState(), revision: -1 };
    const metadata: CommandMetadata = { now: new Date(this.clock), actor: { sub: who.subjectId, role: 'client' }, ...who, commandId: randomUUID(), correlationId: randomUUID() };
    const events = this.decider.decide({ ...command, metadata } as unknown as Command, stream.state);
    if (events.length === 0) return undefined;
    const envelopes = envelopeEvents(events, {
      streamId,
      command: metadata,
      source: { kind: 'manual' },
      eventIds: events.map(() => uuidv7(new Date(this.clock), randomBytes(10))),
      schemaVersionOf: (type) => eventRegistry.currentVersion(type),
    });
    const result = await this.env.store.appendToStream(streamId, await this.env.codec.encodeAll(envelopes), { expectedRevision: stream.revision < 0 ? 'no-stream' : stream.revision });
    this.streams.set(streamId, { state: events.reduce((st, e) => this.decider.evolve(st, e), stream.state), revision: result.nextExpectedRevision });
    return result.position;
  }
}

/**
 * Position of the newest committed event. Not `store.headPosition()`: that one stops below the
 * oldest transaction still running anywhere (the delivery horizon), and the projection runner's own
 * read-model transaction is one, so a test waiting for it could look before its last write is applied.
 */
export async function lastCommittedPosition(pool: pg.Pool): Promise<Position> {
  const result = await pool.query<{ tx: string; seq: string }>('SELECT transaction_id::text AS tx, seq::text AS seq FROM es_events ORDER BY transaction_id DESC, seq DESC LIMIT 1');
  const row = result.rows[0];
  return row ? encodePgPosition(row.tx, row.seq) : START;
}

/** Polls the projection's checkpoint until it reaches `position` (bounded: fails after `timeoutMs`). */
export async function waitForCheckpoint(db: Kysely<ReadModelDb>, name: string, position: Position, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await db.selectFrom('projection_checkpoints').select('position').where('name', '=', name).executeTakeFirst();
    if (row !== undefined && row.position >= position) return;
    if (Date.now() > deadline) throw new Error(`projection ${name} did not reach ${position} within ${timeoutMs} ms (at ${row?.position ?? 'none'})`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const READ_MODEL_TABLES = {
  rm_workouts: 'workout_id',
  rm_workout_sets: 'workout_id, set_id',
  rm_personal_records: 'subject_id, exercise_id',
  rm_feed_changes: 'subject_id, position, seq',
} as const;

/**
 * Every read-model table as text, rows in primary-key order: equal dumps mean equal tables. A feed
 * row's `recorded_at` (when it was written, for retention) and `feed_id` (its place in commit
 * order) are left out: a rebuild writes them anew.
 */
export async function dumpReadModels(db: Kysely<ReadModelDb>): Promise<Record<string, string[]>> {
  const dump: Record<string, string[]> = {};
  for (const [table, key] of Object.entries(READ_MODEL_TABLES)) {
    const row = table === 'rm_feed_changes' ? sql`(to_jsonb(t) - 'recorded_at' - 'feed_id')::text` : sql`t::text`;
    const result = await sql<{ row: string }>`SELECT ${row} AS row FROM ${sql.table(table)} t ORDER BY ${sql.raw(key)}`.execute(db);
    dump[table] = result.rows.map((r) => r.row);
  }
  return dump;
}
