import { randomUUID } from 'node:crypto';
import type { AccessRecord } from '@fitledger/audit';
import { readAccessRecords } from '@fitledger/audit';
import { accessProjection, bodyMeasurementsProjection, profilesProjection, workoutsProjection } from '@fitledger/projections';
import { signTestToken } from '@fitledger/testing/oidc';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandshakeRefused, openFeed } from '../../query-service/src/testing/feedClient';
import { startPipeline, type Pipeline } from './pipeline';

const SQUAT = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';
/** Distinctive values of alice's: none may ever show up in the access log. */
const PHI = { title: 'Quillon deadlift morning', loadKg: 187.25, weightKg: 63.81, note: 'Quillon weighed after the night shift', birthDate: '1979-11-23' } as const;

interface Sent {
  readonly requestId: string;
  readonly status: number;
  readonly expect: { readonly action?: AccessRecord['action']; readonly purpose?: string; readonly consent?: boolean; readonly grant?: boolean; readonly service: string };
}

// The access log over HTTP: 1,000 mixed requests through the real command and query apps — own
// reads, a trainer's consented reads, break-glass reads, administrative actions and 20% denied —
// each must have exactly one complete access record, and no record may carry PHI.
describe('the access log records every PHI read, denial and administrative action', () => {
  let pipeline: Pipeline;
  const people = {} as Record<'alice' | 'bob' | 'coach' | 'admin' | 'foreign', { sub: string; token: string }>;
  let workoutId = '';
  let grantId = '';

  beforeAll(async () => {
    pipeline = await startPipeline('access_log', [workoutsProjection(), bodyMeasurementsProjection(), profilesProjection(), accessProjection()], { listen: true });
    const { env } = pipeline;
    const sign = async (role: string, tenant?: string) => {
      const sub = randomUUID();
      return { sub, token: await signTestToken({ ...env.oidc.accessTokenClaims('alice'), amr: ['pwd', 'otp'], sub, role, ...(tenant === undefined ? {} : { tenant_id: tenant }) }, { privateKey: env.oidc.signingKey }) };
    };
    people.alice = { sub: env.oidc.users.alice.sub, token: env.tokens.alice };
    people.bob = { sub: env.oidc.users.bob.sub, token: env.tokens.bob };
    people.coach = { sub: env.oidc.users.coach.sub, token: env.tokens.coach };
    people.admin = await sign('org_admin');
    people.foreign = await sign('trainer', randomUUID());
    await env.enrol([
      { ...people.coach, role: 'trainer' },
      { ...people.admin, role: 'org_admin' },
    ]);
    const send = pipeline.send.bind(pipeline);
    await send(people.alice.token, 'PUT', '/api/v1/profile', { birthDate: PHI.birthDate }, 201);
    ({ workoutId = '' } = await send(people.alice.token, 'POST', '/api/v1/workouts', { start: true, title: PHI.title }, 201));
    await send(people.alice.token, 'POST', `/api/v1/workouts/${workoutId}/sets`, { set: { exerciseId: SQUAT, reps: 3, load: { value: PHI.loadKg, unit: 'kg' } } }, 201);
    await send(people.alice.token, 'POST', '/api/v1/body-metrics', { measurement: { metric: 'weight', weight: { value: PHI.weightKg, unit: 'kg' } }, note: PHI.note }, 201);
    const { relationshipId } = await send(people.coach.token, 'POST', '/api/v1/coaching/invitations', { clientId: people.alice.sub }, 201);
    await send(people.alice.token, 'POST', `/api/v1/coaching/${relationshipId}/accept`, {}, 200);
    await send(people.alice.token, 'POST', '/api/v1/consents', { purpose: 'trainer_sharing', trainerId: people.coach.sub, scopes: ['workouts'] }, 201);
    ({ grantId = '' } = await send(people.admin.token, 'POST', '/api/v1/emergency-access', { subjectId: people.alice.sub, reason: 'Member collapsed on the floor; paramedics ask', minutes: 60 }, 201));
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('1,000 mixed requests (20% denied, some break-glass): each has exactly one record with every field; none holds PHI', async () => {
    const { env } = pipeline;
    const { alice, bob, coach, admin, foreign } = people;
    const q = 'query-service';
    const c = 'command-service';
    // Each kind: how to send it, and what its record must say; weighted to 100 per round, 20 of them denied.
    const kinds: { weight: number; send: () => Promise<LightMyRequestResponse>; expect: Sent['expect'] }[] = [
      { weight: 20, send: () => pipeline.get('/api/v1/workouts', alice.token), expect: { action: 'read', purpose: 'PATRQT', service: q } },
      { weight: 10, send: () => pipeline.get(`/api/v1/workouts/${workoutId}`, alice.token), expect: { action: 'read', purpose: 'PATRQT', service: q } },
      { weight: 10, send: () => pipeline.get('/api/v1/body-metrics?metric=weight', alice.token), expect: { action: 'read', purpose: 'PATRQT', service: q } },
      { weight: 15, send: () => pipeline.get(`/api/v1/clients/${alice.sub}/workouts`, coach.token), expect: { action: 'read', purpose: 'TREAT', consent: true, service: q } },
      { weight: 10, send: () => pipeline.get(`/api/v1/clients/${alice.sub}/body-metrics?metric=weight`, admin.token), expect: { action: 'read', purpose: 'ETREAT', grant: true, service: q } },
      { weight: 10, send: () => pipeline.get('/api/v1/emergency-access', alice.token), expect: { action: 'read', purpose: 'PATRQT', service: q } },
      { weight: 5, send: () => env.inject('POST', `/api/v1/organisations/${env.oidc.users.alice.tenantId}/join`, { token: admin.token, body: {} }), expect: { action: 'admin', purpose: 'HOPERAT', service: c } },
      // Denied: 20 of 100.
      { weight: 5, send: () => pipeline.get(`/api/v1/workouts/${workoutId}`, bob.token), expect: { action: 'denied', service: q } },
      { weight: 5, send: () => pipeline.get(`/api/v1/clients/${alice.sub}/body-metrics?metric=weight`, coach.token), expect: { action: 'denied', service: q } },
      { weight: 4, send: () => pipeline.get(`/api/v1/clients/${alice.sub}/workouts`, foreign.token), expect: { action: 'denied', service: q } },
      { weight: 3, send: () => pipeline.get('/api/v1/workouts', 'not-a-token'), expect: { action: 'denied', service: q } },
      { weight: 3, send: () => env.inject('POST', `/api/v1/workouts/${workoutId}/sets`, { token: bob.token, body: { set: { exerciseId: SQUAT, reps: 1 } } }), expect: { action: 'denied', service: c } },
    ];
    const plan = kinds.flatMap((k) => Array.from({ length: k.weight }, () => k));
    expect(plan).toHaveLength(100);
    const sent: Sent[] = [];
    for (let round = 0; round < 10; round++) {
      // 100 at a time, concurrently: group commit under load.
      const responses = await Promise.all(plan.map(async (k) => ({ response: await k.send(), expect: k.expect })));
      for (const { response, expect: e } of responses) sent.push({ requestId: String(response.headers['x-request-id']), status: response.statusCode, expect: e });
    }
    expect(sent).toHaveLength(1_000);
    const denied = sent.filter((s) => s.status === 401 || s.status === 403 || s.status === 404);
    expect(denied).toHaveLength(200);
    expect(sent.filter((s) => s.status >= 500)).toEqual([]);

    const records = (await readAccessRecords(env.pool, 0, 100_000)).map((s) => s.record);
    const byRequest = new Map<string, AccessRecord[]>();
    for (const r of records) byRequest.set(r.requestId, [...(byRequest.get(r.requestId) ?? []), r]);
    let complete = 0;
    for (const s of sent) {
      const found = byRequest.get(s.requestId) ?? [];
      expect(found, `request ${s.requestId}`).toHaveLength(1);
      const r = found[0] as AccessRecord;
      expect(r).toMatchObject({ status: s.status, service: s.expect.service, outcome: s.status < 400 ? 'allowed' : 'denied' });
      if (s.expect.action !== undefined) expect(r.action).toBe(s.expect.action);
      if (s.expect.purpose !== undefined) expect(r.purposeOfUse).toBe(s.expect.purpose);
      // Every field present; those that always apply are filled.
      for (const field of ['id', 'at', 'actorSub', 'actorRole', 'action', 'recordType', 'ip', 'service', 'method', 'route', 'status', 'outcome', 'purposeOfUse', 'requestId'] as const) expect(r[field], field).not.toBeNull();
      expect(Object.keys(r).sort()).toEqual(Object.keys(records[0] as AccessRecord).sort());
      if (s.status !== 401) expect(r.actorOrganisation).not.toBeNull();
      if (r.recordType !== 'join' && s.status !== 401) expect(r.subjectPseudonym).toMatch(/^[0-9a-f]{32}$/);
      if (s.expect.consent) expect(r.consentVersion).toBeGreaterThan(0);
      if (s.expect.grant) expect(r.breakGlassGrantId).toBe(grantId);
      complete += 1;
    }
    expect(complete).toBe(1_000);
    // A subject's reads by others name the same pseudonym as the subject's own reads.
    const ownRead = records.find((r) => r.actorSub === alice.sub && r.route === '/api/v1/workouts');
    const coachRead = records.find((r) => r.actorSub === coach.sub && r.route === '/api/v1/clients/:clientId/workouts' && r.outcome === 'allowed');
    expect(coachRead?.subjectPseudonym).toBe(ownRead?.subjectPseudonym);

    // No PHI: not the seeded values, and no raw subject id where the pseudonym belongs.
    const phi = [PHI.title, 'Quillon', String(PHI.loadKg), String(PHI.weightKg), PHI.note, PHI.birthDate];
    for (const value of phi) {
      const { rows } = await env.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM audit_access_records r WHERE row_to_json(r)::text LIKE '%' || $1 || '%'`, [value]);
      expect(Number(rows[0]?.n), value).toBe(0);
    }
    const raw = await env.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_access_records WHERE subject_pseudonym = $1', [alice.sub]);
    expect(Number(raw.rows[0]?.n)).toBe(0);
  });

  it('records a live feed when it is opened and when it is resumed (the cursor resumed from), and a refused handshake, not each message', async () => {
    const { env } = pipeline;
    const before = (await readAccessRecords(env.pool, 0, 100_000)).length;
    const feed = await openFeed(pipeline.feedUrl, { token: people.alice.token });
    // Messages are not recorded one by one: reading some adds nothing.
    const { cursor } = (await feed.next()) as { cursor: string };
    await feed.next();
    await feed.close();
    const resumed = await openFeed(`${pipeline.feedUrl}?after=${cursor}`, { token: people.alice.token });
    await resumed.close();
    await expect(openFeed(pipeline.feedUrl.replace('/feed', `/clients/${people.alice.sub}/feed`), { token: people.foreign.token })).rejects.toBeInstanceOf(HandshakeRefused);
    const records = (await readAccessRecords(env.pool, 0, 100_000)).map((r) => r.record).slice(before);
    const feeds = records.filter((r) => r.route.endsWith('/feed'));
    expect(feeds.map((r) => [r.actorSub, r.status, r.outcome, r.recordType, r.recordId])).toEqual([
      [people.alice.sub, 101, 'allowed', 'feed', null],
      [people.alice.sub, 101, 'allowed', 'feed', cursor],
      [people.foreign.sub, 403, 'denied', 'feed', null],
    ]);
  });
});
