import { randomUUID } from 'node:crypto';
import { createTokenVerifier, type TokenVerifier } from '@fitledger/auth';
import { migrateReadModels, pruneFeed, type ReadModelDb, type RmFeedChangesTable } from '@fitledger/projections';
import { getDevToken, signTestToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect, sql, type Insertable } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, inProcessChangeSource, startPgListenChangeSource, type FeedMessage, type PgListenChangeSource } from './app';
import type { PersonalRecordRepresentation, WorkoutChangeRepresentation } from './workoutRepresentation';
import { LISTENER_APPLICATION_NAME } from './feed/pgListenChangeSource';
import { HandshakeRefused, openFeed, type FeedClient } from './testing/feedClient';
import { commitFeedChanges, feedPosition, insertPersonalRecord, insertSet, insertWorkout } from './testing/readModelRows';

const TENANT = '3f1e2d4c-5b6a-4798-8c0b-1a2b3c4d5e6f';

let database: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let db: Kysely<ReadModelDb>;
let oidc: DevOidcProvider;
let verifier: TokenVerifier;
let changeSource: PgListenChangeSource;
let app: FastifyInstance;
let feedUrl: string;
let alice: { sub: string; token: string };
let bob: { sub: string; token: string };
/** Feed positions only grow, across tests too, as the projection runner's do. */
let nextPosition = 1;

function workoutPayload(subjectId: string, workoutId: string, title: string): string {
  return JSON.stringify({
    workout_id: workoutId,
    tenant_id: TENANT,
    subject_id: subjectId,
    status: 'in_progress',
    title,
    planned_for: null,
    started_at: '2024-05-01T07:30:00.123+00:00',
    completed_at: null,
    cancelled_at: null,
    perceived_exertion: null,
    notes: null,
    location: null,
    exercise_ids: ['squat'],
    set_count: 1,
    total_volume_kg: 500,
    revision: 3,
    sort_at: '2024-05-01T07:30:00.123+00:00',
    updated_position: feedPosition(1),
    // A delta, as the workouts projection writes it: the set this change logged, the set it deleted.
    sets: [{ set_id: '5e700000-0000-4000-8000-000000000001', ordinal: 2, exercise_id: 'squat', reps: 5, load_value: 220.5, load_unit: 'lb', load_kg: 100.0178, warm_up: false, to_failure: false }],
    deletedSetIds: ['5e700000-0000-4000-8000-000000000002'],
  });
}

/** One workout change for `subjectId`, numbered `n` (its entity id says which, for order checks). */
function change(subjectId: string, n: number, seq = 0): Insertable<RmFeedChangesTable> {
  const workoutId = `${subjectId === alice.sub ? 'a11ce000' : 'b0b00000'}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  return { subject_id: subjectId, position: feedPosition(nextPosition++), seq, kind: 'workout', entity_id: workoutId, op: 'upsert', payload: workoutPayload(subjectId, workoutId, `#${n}`) };
}

const ids = (messages: readonly FeedMessage[]): string[] => messages.map((m) => m.entityId);

beforeAll(async () => {
  database = await testDatabase('qs_feed');
  pool = new pg.Pool({ connectionString: database.url, max: 6 });
  await migrateReadModels(pool);
  db = new Kysely<ReadModelDb>({ dialect: new PostgresDialect({ pool }) });
  oidc = await startDevOidcProvider();
  verifier = createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience });
  alice = { sub: oidc.users.alice.sub, token: await getDevToken(oidc.issuer, 'alice') };
  bob = { sub: oidc.users.bob.sub, token: await getDevToken(oidc.issuer, 'bob') };
  changeSource = await startPgListenChangeSource({ connectionString: database.url });
  // Small pages so the backlog takes several reads; a quick heartbeat so the ping test does not wait.
  app = buildApp({ db, verifier, changeSource, feed: { pageSize: 5, heartbeatIntervalMs: 200 } });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  feedUrl = `${address.replace('http', 'ws')}/api/v1/feed`;
});

afterAll(async () => {
  await app?.close();
  await changeSource?.close();
  await db?.destroy();
  await oidc?.close();
  await database?.drop();
});

beforeEach(async () => {
  await sql`TRUNCATE rm_feed_changes`.execute(db);
});

describe('GET /api/v1/feed (websocket)', () => {
  it('sends the backlog in cursor order, then each change as it commits', async () => {
    const backlog = [];
    for (let n = 1; n <= 12; n++) {
      backlog.push(change(alice.sub, n));
      if (n % 4 === 0) backlog.push(change(bob.sub, n));
    }
    await commitFeedChanges(db, backlog);

    const feed = await openFeed(feedUrl, { token: alice.token });
    const first = await feed.take(12);
    expect(ids(first)).toEqual(backlog.filter((c) => c.subject_id === alice.sub).map((c) => c.entity_id));

    for (let n = 13; n <= 16; n++) await commitFeedChanges(db, [change(alice.sub, n), change(bob.sub, n)]);
    const live = await feed.take(4);
    expect(live.map((m) => m.payload && 'title' in m.payload ? m.payload.title : null)).toEqual(['#13', '#14', '#15', '#16']);
    await feed.close();
    expect(feed.pending).toEqual([]);
  });

  it('renders a message as {cursor, kind, op, entityId, payload}: a workout change is the REST summary plus the changed and deleted sets', async () => {
    const row = change(alice.sub, 1);
    await commitFeedChanges(db, [row, { subject_id: alice.sub, position: row.position, seq: 1, kind: 'personal_record', entity_id: 'squat', op: 'delete', payload: null }]);
    const feed = await openFeed(feedUrl, { token: alice.token });
    const [workout, record] = await feed.take(2);
    await feed.close();
    expect(Object.keys(workout ?? {}).sort()).toEqual(['cursor', 'entityId', 'kind', 'op', 'payload']);
    expect(workout).toMatchObject({ kind: 'workout', op: 'upsert', entityId: row.entity_id });
    const payload = workout?.payload as WorkoutChangeRepresentation;
    expect(payload).toMatchObject({ workoutId: row.entity_id, status: 'in_progress', startedAt: '2024-05-01T07:30:00.123Z', totalVolumeKg: 500, revision: 3 });
    expect(Object.keys(payload).sort()).toEqual(
      ['assignedBy', 'cancelledAt', 'completedAt', 'deletedSetIds', 'energyKcal', 'exerciseIds', 'perceivedExertion', 'plannedFor', 'revision', 'setCount', 'sets', 'sortAt', 'startedAt', 'status', 'title', 'totalVolumeDisplay', 'totalVolumeKg', 'workoutId'],
    );
    // No profile: the display units are the metric defaults.
    expect(payload.totalVolumeDisplay).toEqual({ value: 500, unit: 'kg' });
    expect(payload.sets).toHaveLength(1);
    expect(payload.sets[0]).toMatchObject({ setId: '5e700000-0000-4000-8000-000000000001', ordinal: 2, loadKg: 100.0178, loadEntered: { value: 220.5, unit: 'lb' } });
    expect(payload.deletedSetIds).toEqual(['5e700000-0000-4000-8000-000000000002']);
    expect(payload).not.toHaveProperty('tenant_id');
    expect(record).toMatchObject({ kind: 'personal_record', op: 'delete', entityId: 'squat', payload: null });
  });

  it('renders workout and personal-record changes without a stored payload from the read model as it is when sent', async () => {
    const workoutId = randomUUID();
    const [kept, removed] = [randomUUID(), randomUUID()];
    const base = { tenant_id: TENANT, subject_id: alice.sub };
    await insertWorkout(db, { ...base, workout_id: workoutId, status: 'in_progress', title: 'Legs', sort_at: new Date('2024-05-01T07:30:00Z'), set_count: 1, total_volume_kg: 500, revision: 4 });
    await insertSet(db, { ...base, workout_id: workoutId, set_id: kept, ordinal: 1, exercise_id: 'squat', reps: 5, load_value: 100, load_unit: 'kg', load_kg: 100 });
    await insertPersonalRecord(db, { ...base, exercise_id: `squat-${workoutId}`, one_rm_kg: 100, five_rm_kg: 100 });
    const elsewhere = randomUUID();
    await insertWorkout(db, { workout_id: elsewhere, tenant_id: 'another-tenant', subject_id: alice.sub, sort_at: new Date('2024-05-02T07:30:00Z') });
    const at = (n: number) => feedPosition(nextPosition + n);
    const mine = { subject_id: alice.sub, payload: null, tenant_id: TENANT };
    const rows: Insertable<RmFeedChangesTable>[] = [
      { ...mine, position: at(0), seq: 0, kind: 'workout', entity_id: workoutId, op: 'upsert', set_id: kept },
      { ...mine, position: at(0), seq: 1, kind: 'personal_record', entity_id: `squat-${workoutId}`, op: 'upsert' },
      { ...mine, position: at(1), seq: 0, kind: 'workout', entity_id: workoutId, op: 'upsert', set_id: removed, set_deleted: true },
      // A set logged and deleted since: the change still comes, without the set.
      { ...mine, position: at(2), seq: 0, kind: 'workout', entity_id: workoutId, op: 'upsert', set_id: removed },
      // Not sent: another tenant's workout, an entity that no longer exists, changes written in
      // another organisation (even when the entity now belongs to this one, or is a delete).
      { ...mine, position: at(3), seq: 0, kind: 'workout', entity_id: elsewhere, op: 'upsert', tenant_id: null },
      { ...mine, position: at(4), seq: 0, kind: 'personal_record', entity_id: 'gone', op: 'upsert' },
      { ...mine, position: at(5), seq: 0, kind: 'personal_record', entity_id: 'gone', op: 'delete' },
      { ...mine, position: at(6), seq: 0, kind: 'personal_record', entity_id: `squat-${workoutId}`, op: 'upsert', tenant_id: 'another-tenant' },
      { ...mine, position: at(6), seq: 1, kind: 'personal_record', entity_id: 'squat-elsewhere', op: 'delete', tenant_id: 'another-tenant' },
    ];
    nextPosition += 7;
    await commitFeedChanges(db, rows);
    const feed = await openFeed(feedUrl, { token: alice.token });
    const messages = await feed.take(5);
    await feed.close();
    expect(messages.map((m) => [m.kind, m.op, m.entityId])).toEqual([
      ['workout', 'upsert', workoutId],
      ['personal_record', 'upsert', `squat-${workoutId}`],
      ['workout', 'upsert', workoutId],
      ['workout', 'upsert', workoutId],
      ['personal_record', 'delete', 'gone'],
    ]);
    const [logged, record, deleted, stale] = messages.map((m) => m.payload) as [WorkoutChangeRepresentation, PersonalRecordRepresentation, WorkoutChangeRepresentation, WorkoutChangeRepresentation];
    expect(logged).toMatchObject({ workoutId, title: 'Legs', status: 'in_progress', totalVolumeKg: 500, revision: 4, deletedSetIds: [] });
    expect(logged.sets.map((set) => [set.setId, set.loadKg])).toEqual([[kept, 100]]);
    expect(record).toMatchObject({ exerciseId: `squat-${workoutId}`, oneRmKg: 100, fiveRmKg: 100, tenRmKg: null });
    expect(deleted).toMatchObject({ sets: [], deletedSetIds: [removed] });
    expect(stale).toMatchObject({ sets: [], deletedSetIds: [] });
    expect(messages.at(-1)?.payload).toBeNull();
    expect(feed.pending).toEqual([]);
  });

  it('resumed from the last cursor while changes keep committing, delivers every change exactly once and in order', async () => {
    // Batches prepared up front (positions in commit order), committed one by one while the client reads.
    const batches: Insertable<RmFeedChangesTable>[][] = [];
    for (let n = 1; n <= 60; n++) {
      const mine = change(alice.sub, n);
      if (n % 9 === 0) batches.push([mine, { ...change(alice.sub, n + 1000), position: mine.position, seq: 1 }]); // two changes at one position
      else if (n % 7 === 0) batches.push([mine, change(bob.sub, n)]); // another subject's change in the same batch
      else batches.push([mine]);
    }
    const expected = batches.flat().filter((c) => c.subject_id === alice.sub).map((c) => c.entity_id);
    const writer = (async () => {
      for (const batch of batches) await commitFeedChanges(db, batch);
    })();

    const received: FeedMessage[] = [];
    let cursor: string | undefined;
    let connections = 0;
    // Disconnect after every 7 messages and resume from the last cursor received.
    while (received.length < expected.length) {
      const feed: FeedClient = await openFeed(`${feedUrl}${cursor ? `?after=${cursor}` : ''}`, { token: alice.token });
      connections++;
      const batch = await feed.take(Math.min(7, expected.length - received.length));
      await feed.close();
      received.push(...batch);
      cursor = batch.at(-1)?.cursor ?? cursor;
    }
    await writer;
    expect(connections).toBe(Math.ceil(expected.length / 7));
    expect(ids(received)).toEqual(expected);
    expect(new Set(received.map((m) => m.cursor)).size).toBe(received.length);
  });

  it('never sends another subject’s changes', async () => {
    await commitFeedChanges(db, [change(alice.sub, 1), change(bob.sub, 1), change(alice.sub, 2)]);
    const bobFeed = await openFeed(feedUrl, { token: bob.token });
    const [first] = await bobFeed.take(1);
    expect(first?.entityId.startsWith('b0b00000')).toBe(true);
    // A live change of alice's, then one of bob's: bob's feed gets exactly his.
    await commitFeedChanges(db, [change(alice.sub, 3)]);
    await commitFeedChanges(db, [change(bob.sub, 2)]);
    const [second] = await bobFeed.take(1);
    expect(second?.entityId.startsWith('b0b00000')).toBe(true);
    await bobFeed.close();
    expect(bobFeed.pending).toEqual([]);
  });

  it('refuses a handshake without a token, or with a forged one, with HTTP 401 before upgrading (the real token connects)', async () => {
    const forged = await signTestToken(oidc.accessTokenClaims('alice'));
    for (const options of [{}, { token: forged }, { headers: { authorization: 'Basic YWxpY2U6eA==' } }]) {
      const refused = await openFeed(feedUrl, options).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(HandshakeRefused);
      expect((refused as HandshakeRefused).status).toBe(401);
      expect((refused as HandshakeRefused).headers['www-authenticate']).toMatch(/^Bearer realm="fitledger"/);
    }
    const accepted = await openFeed(feedUrl, { token: alice.token });
    await accepted.close();
  });

  it('refuses a valid token without the fitledger:read scope with HTTP 403 before upgrading', async () => {
    const writeOnly = await signTestToken({ ...oidc.accessTokenClaims('alice'), scope: 'fitledger:write' }, { privateKey: oidc.signingKey });
    const refused = await openFeed(feedUrl, { token: writeOnly }).catch((error: unknown) => error);
    expect((refused as HandshakeRefused).status).toBe(403);
    const readable = await signTestToken(oidc.accessTokenClaims('alice'), { privateKey: oidc.signingKey });
    await (await openFeed(feedUrl, { token: readable })).close();
  });

  it('never takes the token from the query string', async () => {
    const refused = await openFeed(`${feedUrl}?access_token=${alice.token}`).catch((error: unknown) => error);
    expect((refused as HandshakeRefused).status).toBe(401);
  });

  it('accepts the token as Sec-WebSocket-Protocol "bearer, <token>" and selects only "bearer"', async () => {
    await commitFeedChanges(db, [change(alice.sub, 1)]);
    const feed = await openFeed(feedUrl, { protocols: ['bearer', alice.token] });
    expect(feed.socket.protocol).toBe('bearer');
    expect((await feed.next()).entityId.startsWith('a11ce000')).toBe(true);
    await feed.close();
  });

  it('refuses a tampered after cursor with HTTP 400 before upgrading', async () => {
    await commitFeedChanges(db, [change(alice.sub, 1)]);
    const feed = await openFeed(feedUrl, { token: alice.token });
    const { cursor } = await feed.next();
    await feed.close();
    const tampered = Buffer.from(JSON.stringify({ k: 'fd', p: 'not-a-position', q: 0 })).toString('base64url');
    for (const bad of [tampered, `${cursor}x`, 'AAAA']) {
      const refused = await openFeed(`${feedUrl}?after=${bad}`, { token: alice.token }).catch((error: unknown) => error);
      expect((refused as HandshakeRefused).status).toBe(400);
      expect(JSON.parse((refused as HandshakeRefused).body)).toMatchObject({ code: 'INVALID_CURSOR' });
    }
    const resumed = await openFeed(`${feedUrl}?after=${cursor}`, { token: alice.token });
    await resumed.close();
  });

  it('refuses a resume from before the retention horizon with HTTP 410 before upgrading; a cursor at the horizon resumes without a gap', async () => {
    const rows = [change(alice.sub, 1), change(alice.sub, 2), change(alice.sub, 3)];
    await commitFeedChanges(db, rows);
    const feed = await openFeed(feedUrl, { token: alice.token });
    const [first, second, third] = await feed.take(3);
    await feed.close();
    try {
      // The first two changes are past retention and pruned.
      await sql`UPDATE rm_feed_changes SET recorded_at = now() - interval '40 days' WHERE position <= ${rows[1]?.position}`.execute(db);
      expect((await pruneFeed(db, { olderThan: new Date(Date.now() - 30 * 24 * 3600 * 1000) })).deleted).toBe(2);

      const refused = await openFeed(`${feedUrl}?after=${first?.cursor}`, { token: alice.token }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(HandshakeRefused);
      expect((refused as HandshakeRefused).status).toBe(410);
      expect(JSON.parse((refused as HandshakeRefused).body)).toMatchObject({ status: 410, code: 'FEED_CURSOR_EXPIRED', errors: [{ field: '/querystring/after' }] });
      // Without an upgrade too (before the 426).
      const plain = await app.inject({ method: 'GET', url: `/api/v1/feed?after=${first?.cursor}`, headers: { authorization: `Bearer ${alice.token}` } });
      expect(plain.statusCode).toBe(410);
      expect(plain.headers['content-type']).toContain('application/problem+json');

      // The last change pruned is the horizon: a client that received it missed nothing.
      const resumed = await openFeed(`${feedUrl}?after=${second?.cursor}`, { token: alice.token });
      expect((await resumed.next()).entityId).toBe(third?.entityId);
      await resumed.close();
    } finally {
      await sql`TRUNCATE feed_retention_horizon`.execute(db);
    }
  });

  it('sends a change committed after a later one at a lower position (a lagging projection): the feed is in commit order', async () => {
    const later = change(alice.sub, 1);
    const lagging = change(alice.sub, 2); // its position is greater: swap them
    const [low, high] = [later.position, lagging.position];
    const feed = await openFeed(feedUrl, { token: alice.token });
    await commitFeedChanges(db, [{ ...later, position: high }]);
    const first = await feed.next();
    expect(first.entityId).toBe(later.entity_id);
    await commitFeedChanges(db, [{ ...lagging, position: low }]);
    expect((await feed.next()).entityId).toBe(lagging.entity_id);
    await feed.close();
    // A resume after the first message gets the second too.
    const resumed = await openFeed(`${feedUrl}?after=${first.cursor}`, { token: alice.token });
    expect((await resumed.next()).entityId).toBe(lagging.entity_id);
    await resumed.close();
  });

  it('answers a cursor of the earlier form (an event position) 410: the client reloads and opens the feed afresh', async () => {
    const retired = Buffer.from(JSON.stringify({ k: 'fd', p: feedPosition(3), q: 0 }), 'utf8').toString('base64url');
    const refused = await openFeed(`${feedUrl}?after=${retired}`, { token: alice.token }).catch((error: unknown) => error);
    expect((refused as HandshakeRefused).status).toBe(410);
    expect(JSON.parse((refused as HandshakeRefused).body)).toMatchObject({ code: 'FEED_CURSOR_EXPIRED', errors: [{ field: '/querystring/after' }] });
  });

  it('closes with 1008 when the access token expires', async () => {
    const claims = oidc.accessTokenClaims('alice');
    const shortLived = await signTestToken({ ...claims, exp: Math.floor(Date.now() / 1000) + 2 }, { privateKey: oidc.signingKey });
    const feed = await openFeed(feedUrl, { token: shortLived });
    const { code } = await feed.closed;
    expect(code).toBe(1008);
  });

  it('pings the client as a heartbeat', async () => {
    const feed = await openFeed(feedUrl, { token: alice.token });
    await new Promise<void>((resolve) => feed.socket.once('ping', () => resolve()));
    await feed.close();
  });

  it('answers a plain GET (no upgrade) with 426', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/feed', headers: { authorization: `Bearer ${alice.token}` } });
    expect(response.statusCode).toBe(426);
  });
});

describe('pg LISTEN change source', () => {
  it('after losing its connection, reconnects and wakes feeds for changes notified meanwhile', async () => {
    const feed = await openFeed(feedUrl, { token: alice.token });
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${LISTENER_APPLICATION_NAME} AND datname = current_database()`.execute(db);
    const row = change(alice.sub, 1);
    await commitFeedChanges(db, [row]); // the NOTIFY may reach no listener
    expect((await feed.next()).entityId).toBe(row.entity_id);
    // And it listens again.
    const later = change(alice.sub, 2);
    await commitFeedChanges(db, [later]);
    expect((await feed.next()).entityId).toBe(later.entity_id);
    await feed.close();
  });
});

describe('in-process change source', () => {
  it('wakes the feed from the projection runner’s commit callback, without NOTIFY, and closes feeds with 1001 on shutdown', async () => {
    const source = inProcessChangeSource();
    const local = buildApp({ db, verifier, changeSource: source });
    const address = await local.listen({ port: 0, host: '127.0.0.1' });
    try {
      const feed = await openFeed(`${address.replace('http', 'ws')}/api/v1/feed`, { token: alice.token });
      const row = change(alice.sub, 1);
      await commitFeedChanges(db, [row], false);
      source.publish({ changes: [{ subjectId: alice.sub }] });
      expect((await feed.next()).entityId).toBe(row.entity_id);
      await local.close();
      expect((await feed.closed).code).toBe(1001);
    } finally {
      await local.close();
    }
  });
});
