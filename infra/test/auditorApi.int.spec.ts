import { randomUUID } from 'node:crypto';
import { accessProjection, bodyMeasurementsProjection, profilesProjection, workoutsProjection } from '@fitledger/projections';
import { signTestToken } from '@fitledger/testing/oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from './pipeline';

const SQUAT = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface HistoryItem {
  type: string;
  revision: number;
  recordedAt: string;
  occurredAt: string | null;
  actor: { sub: string; role: string };
  onBehalfOf: { sub: string } | null;
  consentVersion: number | null;
}

// The auditor API over HTTP: a record's full history and its state as of either timeline, the
// accounting of disclosures (JSON, NDJSON, FHIR AuditEvent), and a person's own "who has seen my data".
describe('auditor API and the subject’s own access view', () => {
  let pipeline: Pipeline;
  const people = {} as Record<'alice' | 'coach' | 'auditor' | 'foreignAuditor' | 'admin', { sub: string; token: string }>;
  let workoutId = '';
  let setId = '';
  let beforeCorrection = '';

  beforeAll(async () => {
    pipeline = await startPipeline('auditor_api', [workoutsProjection(), bodyMeasurementsProjection(), profilesProjection(), accessProjection()]);
    const { env } = pipeline;
    const sign = async (role: string, tenant?: string) => {
      const sub = randomUUID();
      return { sub, token: await signTestToken({ ...env.oidc.accessTokenClaims('alice'), amr: ['pwd', 'otp'], sub, role, ...(tenant === undefined ? {} : { tenant_id: tenant }) }, { privateKey: env.oidc.signingKey }) };
    };
    people.alice = { sub: env.oidc.users.alice.sub, token: env.tokens.alice };
    people.coach = { sub: env.oidc.users.coach.sub, token: env.tokens.coach };
    people.auditor = await sign('auditor');
    people.foreignAuditor = await sign('auditor', randomUUID());
    people.admin = await sign('org_admin');
    await env.enrol([
      { ...people.coach, role: 'trainer' },
      { ...people.admin, role: 'org_admin' },
    ]);
    const send = pipeline.send.bind(pipeline);
    const { alice, coach } = people;
    ({ workoutId = '' } = await send(alice.token, 'POST', '/api/v1/workouts', { start: true, startedAt: '2026-05-04T07:00:00.000Z', title: 'Squats' }, 201));
    ({ setId = '' } = await send(alice.token, 'POST', `/api/v1/workouts/${workoutId}/sets`, { occurredAt: '2026-05-04T07:10:00.000Z', set: { exerciseId: SQUAT, reps: 5, load: { value: 100, unit: 'kg' } } }, 201));
    await pause(20);
    beforeCorrection = new Date().toISOString();
    await pause(20);
    await send(alice.token, 'PUT', `/api/v1/workouts/${workoutId}/sets/${setId}`, { set: { exerciseId: SQUAT, reps: 5, load: { value: 110, unit: 'kg' } }, reason: 'misread the plates' }, 200);
    const { relationshipId } = await send(coach.token, 'POST', '/api/v1/coaching/invitations', { clientId: alice.sub }, 201);
    await send(alice.token, 'POST', `/api/v1/coaching/${relationshipId}/accept`, {}, 200);
    await send(alice.token, 'POST', '/api/v1/consents', { purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['workouts'] }, 201);
    expect((await pipeline.get(`/api/v1/clients/${alice.sub}/workouts`, coach.token)).statusCode).toBe(200);
    await send(people.admin.token, 'POST', '/api/v1/emergency-access', { subjectId: alice.sub, reason: 'Member collapsed on the floor; paramedics ask', minutes: 30 }, 201);
    expect((await pipeline.get(`/api/v1/clients/${alice.sub}/workouts`, people.admin.token)).statusCode).toBe(200);
    // bob tries: refused, and recorded.
    expect((await pipeline.get(`/api/v1/clients/${alice.sub}/workouts`, env.tokens.bob)).statusCode).toBe(403);
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  it('shows a record’s full history (actor, both timestamps) to auditors of its organisation only', async () => {
    const url = `/api/v1/audit/records/workout-${workoutId}/history`;
    const response = await pipeline.get(url, people.auditor.token);
    expect(response.statusCode, response.body).toBe(200);
    const items = response.json<{ items: HistoryItem[] }>().items;
    expect(items.map((i) => i.type)).toEqual(['WorkoutStarted', 'SetLogged', 'SetCorrected']);
    expect(items.map((i) => i.revision)).toEqual([0, 1, 2]);
    expect(items[1]).toMatchObject({ occurredAt: '2026-05-04T07:10:00.000Z', actor: { sub: people.alice.sub, role: 'client' }, onBehalfOf: null });
    for (const item of items) expect(Date.parse(item.recordedAt)).toBeGreaterThan(Date.parse('2026-01-01'));
    // No health data in the history: types, actors and times only.
    expect(response.body).not.toContain('Squats');
    expect((await pipeline.get(url, people.foreignAuditor.token)).statusCode).toBe(404);
    expect((await pipeline.get(url, people.alice.token)).statusCode).toBe(403);
    expect((await pipeline.get(`/api/v1/audit/records/workout-${randomUUID()}/history`, people.auditor.token)).statusCode).toBe(404);
    expect((await pipeline.get('/api/v1/audit/records/DROP%20TABLE/history', people.auditor.token)).statusCode).toBe(400);
  });

  it('reconstructs a record as of a recorded time (what we knew then) and as of an occurred time', async () => {
    const state = async (asOf: string, timeline: string) => {
      const response = await pipeline.get(`/api/v1/audit/records/workout-${workoutId}/state?asOf=${encodeURIComponent(asOf)}&timeline=${timeline}`, people.auditor.token);
      expect(response.statusCode, response.body).toBe(200);
      return response.json<{ eventsApplied: number; state: { sets: { load?: { kg?: number; value?: number } }[] } }>();
    };
    const then = await state(beforeCorrection, 'recorded');
    expect(then.eventsApplied).toBe(2);
    // The loads themselves (a set id is a UUID: its text may hold any digits).
    expect(then.state.sets.map((s) => s.load?.value)).toEqual([100]);
    const now = await state(new Date().toISOString(), 'recorded');
    expect(now.eventsApplied).toBe(3);
    expect(now.state.sets.map((s) => s.load?.value)).toEqual([110]);
    // By when it happened: at 07:05 only the start had happened; the correction (recorded today) happened after.
    expect((await state('2026-05-04T07:05:00.000Z', 'occurred')).eventsApplied).toBe(1);
    expect((await state('2026-05-04T07:15:00.000Z', 'occurred')).eventsApplied).toBe(2);
    const bad = await pipeline.get(`/api/v1/audit/records/workout-${workoutId}/state?asOf=yesterday`, people.auditor.token);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ errors: [{ field: '/querystring/asOf' }] });
  });

  it('accounts for disclosures of a subject (who, when, under which consent) as JSON, NDJSON and FHIR AuditEvent', async () => {
    const { alice, coach, auditor } = people;
    const response = await pipeline.get(`/api/v1/audit/access-records?subjectId=${alice.sub}&limit=200`, auditor.token);
    expect(response.statusCode, response.body).toBe(200);
    const items = response.json<{ items: { actorSub: string; consentVersion: number | null; purposeOfUse: string; outcome: string; route: string }[] }>().items;
    const coachRead = items.find((r) => r.actorSub === coach.sub && r.route === '/api/v1/clients/:clientId/workouts');
    expect(coachRead).toMatchObject({ purposeOfUse: 'TREAT', outcome: 'allowed', consentVersion: 1 });
    expect(items.some((r) => r.actorSub === people.admin.sub && r.purposeOfUse === 'ETREAT' && r.outcome === 'allowed')).toBe(true);
    expect(items.some((r) => r.actorSub === pipeline.env.oidc.users.bob.sub && r.outcome === 'denied')).toBe(true);
    // The auditor's own reads of alice's record are disclosures too.
    expect(items.some((r) => r.actorSub === auditor.sub && r.purposeOfUse === 'HOPERAT')).toBe(true);

    const ndjson = await pipeline.get(`/api/v1/audit/access-records/export?subjectId=${alice.sub}`, auditor.token);
    expect(ndjson.statusCode).toBe(200);
    expect(ndjson.headers['content-type']).toContain('application/x-ndjson');
    const lines = ndjson.body.trim().split('\n').map((l) => JSON.parse(l) as { id: string });
    expect(lines.length).toBeGreaterThanOrEqual(items.length);
    const fhir = await pipeline.get(`/api/v1/audit/access-records/export?subjectId=${alice.sub}&format=fhir`, auditor.token);
    const events = fhir.body.trim().split('\n').map((l) => JSON.parse(l) as { resourceType: string; id: string; outcome: string; purposeOfEvent: { coding: { code: string }[] }[]; agent: { who: { identifier: { value: string } } }[] });
    expect(events.every((e) => e.resourceType === 'AuditEvent')).toBe(true);
    const coachEvent = events.find((e) => e.agent[0]?.who.identifier.value === coach.sub && e.purposeOfEvent[0]?.coding[0]?.code === 'TREAT');
    expect(coachEvent?.outcome).toBe('0');
    // The same records (plus the NDJSON export itself, a disclosure recorded in between).
    const fhirIds = new Set(events.map((e) => e.id));
    expect(lines.every((l) => fhirIds.has(l.id))).toBe(true);
    expect(fhirIds.size).toBe(lines.length + 1);

    // Another organisation's auditor sees none of it; a client may not ask.
    const foreign = await pipeline.get(`/api/v1/audit/access-records?subjectId=${alice.sub}`, people.foreignAuditor.token);
    expect(foreign.json<{ items: unknown[] }>().items).toEqual([]);
    expect((await pipeline.get(`/api/v1/audit/access-records?subjectId=${alice.sub}`, alice.token)).statusCode).toBe(403);
    expect((await pipeline.get(`/api/v1/audit/access-records?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`, auditor.token)).statusCode).toBe(400);
    expect((await pipeline.get(`/api/v1/audit/access-records?limit=100000`, auditor.token)).statusCode).toBe(400);
  });

  it('shows a person who has seen their data — the coach, the auditor, break-glass, a refused attempt — never their own reads', async () => {
    const { alice, coach } = people;
    const response = await pipeline.get('/api/v1/access-log?limit=200', alice.token);
    expect(response.statusCode, response.body).toBe(200);
    const items = response.json<{ items: { who: { sub: string; role: string }; purposeOfUse: string; consentVersion: number | null; outcome: string; breakGlassGrantId: string | null }[] }>().items;
    expect(items.some((i) => i.who.sub === alice.sub)).toBe(false);
    expect(items.find((i) => i.who.sub === coach.sub && i.purposeOfUse === 'TREAT')).toMatchObject({ consentVersion: 1, outcome: 'allowed' });
    expect(items.some((i) => i.who.role === 'auditor')).toBe(true);
    expect(items.find((i) => i.who.role === 'org_admin' && i.purposeOfUse === 'ETREAT')?.breakGlassGrantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(items.some((i) => i.who.role === 'client' && i.outcome === 'denied')).toBe(true);
    // The coach's own view does not show alice's data accesses.
    const coachView = await pipeline.get('/api/v1/access-log', coach.token);
    expect(coachView.json<{ items: { who: { sub: string } }[] }>().items.every((i) => i.who.sub !== coach.sub)).toBe(true);
  });
});
