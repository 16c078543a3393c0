import { randomUUID } from 'node:crypto';
import { accessProjection, bodyMeasurementsProjection, goalsProjection, plansProjection, profilesProjection, templatesProjection, workoutsProjection } from '@fitledger/projections';
import { CONSENT_VERSION_HEADER } from '@fitledger/query-service';
import { signTestToken } from '@fitledger/testing/oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandshakeRefused, openFeed } from '../../query-service/src/testing/feedClient';
import { startPipeline, type Pipeline } from './pipeline';

const SQUAT = '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e';

// Trainer–client access over HTTP, through the real command service, projections and query
// service: the coach sees alice's workouts only with an active relationship AND her consent for
// that scope; her withdrawal counts on the coach's very next request.
describe('coaching and consent: a trainer reads a client’s data only as consented', () => {
  let pipeline: Pipeline;
  let alice: { sub: string; token: string };
  let bob: { sub: string; token: string };
  let coach: { sub: string; token: string };

  beforeAll(async () => {
    pipeline = await startPipeline('coaching_consent', [workoutsProjection(), bodyMeasurementsProjection(), profilesProjection(), goalsProjection(), accessProjection(), templatesProjection(), plansProjection()], { listen: true });
    const { env } = pipeline;
    alice = { sub: env.oidc.users.alice.sub, token: env.tokens.alice };
    bob = { sub: env.oidc.users.bob.sub, token: env.tokens.bob };
    coach = { sub: env.oidc.users.coach.sub, token: env.tokens.coach };
    await env.enrol([{ ...coach, role: 'trainer' }]);
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  const send = (...args: Parameters<Pipeline['send']>) => pipeline.send(...args);

  it('invite → accept → consent for workouts: the coach reads workouts (citing the consent version), never body metrics; a withdrawal denies the next read', async () => {
    const { workoutId } = await send(alice.token, 'POST', '/api/v1/workouts', { start: true, startedAt: '2026-05-04T07:00:00.000Z', title: 'Squats' }, 201);
    await send(alice.token, 'POST', `/api/v1/workouts/${workoutId}/sets`, { occurredAt: '2026-05-04T07:10:00.000Z', set: { exerciseId: SQUAT, reps: 5, load: { value: 100, unit: 'kg' } } }, 201);
    await send(alice.token, 'POST', '/api/v1/body-metrics', { measurement: { metric: 'weight', weight: { value: 61.5, unit: 'kg' } }, measuredAt: '2026-05-04T06:30:00.000Z' }, 201);

    const workouts = `/api/v1/clients/${alice.sub}/workouts`;
    const weights = `/api/v1/clients/${alice.sub}/body-metrics?metric=weight`;
    // Nothing yet: no relationship, no consent.
    expect((await pipeline.get(workouts, coach.token)).statusCode).toBe(403);

    const { relationshipId } = await send(coach.token, 'POST', '/api/v1/coaching/invitations', { clientId: alice.sub }, 201);
    expect((await pipeline.get('/api/v1/coaching', alice.token)).json()).toMatchObject({ items: [{ relationshipId, trainerId: coach.sub, status: 'invited' }] });
    // Only the invited client accepts; to bob the invitation does not exist.
    await send(bob.token, 'POST', `/api/v1/coaching/${relationshipId}/accept`, {}, 404);
    await send(alice.token, 'POST', `/api/v1/coaching/${relationshipId}/accept`, {}, 200);
    expect((await pipeline.get('/api/v1/clients', coach.token)).json()).toMatchObject({ items: [{ relationshipId, clientId: alice.sub, status: 'active' }] });
    // A relationship alone shows nothing.
    expect((await pipeline.get(workouts, coach.token)).statusCode).toBe(403);

    const { consentId } = await send(alice.token, 'POST', '/api/v1/consents', { purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['workouts', 'goals'] }, 201);
    const read = await pipeline.get(workouts, coach.token);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ items: [{ workoutId, setCount: 1 }] });
    expect(read.headers[CONSENT_VERSION_HEADER]).toBe('1');
    expect((await pipeline.get(`/api/v1/clients/${alice.sub}/workouts/${workoutId}`, coach.token)).statusCode).toBe(200);
    expect((await pipeline.get(`/api/v1/clients/${alice.sub}/personal-records`, coach.token)).statusCode).toBe(200);
    // Scope `workouts` does not reveal body metrics.
    const denied = await pipeline.get(weights, coach.token);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'ACCESS_DENIED' });
    expect(denied.body).not.toContain('61.5');
    // The positive control: alice reads her own weights on the same route.
    expect((await pipeline.get(weights, alice.token)).statusCode).toBe(200);
    // bob is no trainer: alice's consent to the coach gives him nothing.
    expect((await pipeline.get(workouts, bob.token)).statusCode).toBe(403);

    // Withdrawn: the coach's next request is refused — no projection to wait for.
    const withdrawn = await pipeline.env.inject('DELETE', `/api/v1/consents/${consentId}`, { token: alice.token, body: {} });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expect((await pipeline.get(workouts, coach.token)).statusCode).toBe(403);
    // Nobody but alice can withdraw or give her consents: the coach cannot re-grant himself.
    await send(coach.token, 'DELETE', `/api/v1/consents/${consentId}`, {}, 404);
  });

  it("a minor's consent is not in force until the named guardian confirms it", async () => {
    // bob is 14 (his profile says so); the coach coaches him.
    await send(bob.token, 'PUT', '/api/v1/profile', { birthDate: '2012-02-01' }, 201);
    const { relationshipId } = await send(coach.token, 'POST', '/api/v1/coaching/invitations', { clientId: bob.sub }, 201);
    await send(bob.token, 'POST', `/api/v1/coaching/${relationshipId}/accept`, {}, 200);
    await send(bob.token, 'POST', '/api/v1/workouts', { start: true, startedAt: '2026-05-05T16:00:00.000Z', title: 'Sprints' }, 201);

    const noGuardian = await pipeline.env.inject('POST', '/api/v1/consents', { token: bob.token, body: { purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['workouts'] } });
    expect(noGuardian.statusCode).toBe(422);
    expect(noGuardian.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: '/body/guardianId' }] });
    // alice stands in as bob's guardian.
    const { consentId } = await send(bob.token, 'POST', '/api/v1/consents', { purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['workouts'], guardianId: alice.sub }, 201);
    const workouts = `/api/v1/clients/${bob.sub}/workouts`;
    expect((await pipeline.get(workouts, coach.token)).statusCode).toBe(403);
    expect((await pipeline.get('/api/v1/consents', bob.token)).json()).toMatchObject({ items: [{ consentId, confirmed: false, withdrawn: false, version: 1 }] });
    // Only the named guardian confirms: the coach cannot.
    await send(coach.token, 'POST', `/api/v1/consents/${bob.sub}/${consentId}/guardian-confirmation`, {}, 404);
    await send(alice.token, 'POST', `/api/v1/consents/${bob.sub}/${consentId}/guardian-confirmation`, {}, 200);
    const read = await pipeline.get(workouts, coach.token);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.headers[CONSENT_VERSION_HEADER]).toBe('2');
    // Ending the relationship ends the access, whatever the consent says.
    await send(bob.token, 'POST', `/api/v1/coaching/${relationshipId}/end`, { reason: 'season over' }, 200);
    expect((await pipeline.get(workouts, coach.token)).statusCode).toBe(403);
  });

  it("a trainer's live feed of a client carries only the consented kinds and closes when the consent is withdrawn", async () => {
    const feedUrl = pipeline.feedUrl.replace(/\/feed$/, `/clients/${alice.sub}/feed`);
    // The consent of the first test was withdrawn: the handshake is refused.
    await expect(openFeed(feedUrl, { token: coach.token })).rejects.toMatchObject({ status: 403 });
    await expect(openFeed(feedUrl, { token: coach.token })).rejects.toBeInstanceOf(HandshakeRefused);
    const { consentId } = await send(alice.token, 'POST', '/api/v1/consents', { purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['workouts'] }, 201);
    const feed = await openFeed(feedUrl, { token: coach.token });
    // Backlog: her workout and PR changes; never her weigh-in (body_metrics is not consented).
    const { workoutId } = await send(alice.token, 'POST', '/api/v1/workouts', { start: true, startedAt: '2026-05-06T07:00:00.000Z', title: 'Live' }, 201);
    await send(alice.token, 'POST', '/api/v1/body-metrics', { measurement: { metric: 'weight', weight: { value: 61.2, unit: 'kg' } }, measuredAt: '2026-05-06T06:30:00.000Z' }, 201);
    const { workoutId: last } = await send(alice.token, 'POST', '/api/v1/workouts', { start: true, startedAt: '2026-05-06T18:00:00.000Z', title: 'Evening' }, 201);
    const seen: { kind: string; entityId: string }[] = [];
    while (!seen.some((m) => m.entityId === last)) seen.push(await feed.next());
    expect(seen.map((m) => m.kind)).not.toContain('body_measurement');
    expect(seen.map((m) => m.entityId)).toContain(workoutId);
    // The owner's own feed has the weigh-in: the filter is the consent's, not the data's.
    const own = await openFeed(pipeline.feedUrl, { token: alice.token });
    const mine: string[] = [];
    while (!mine.includes('body_measurement')) mine.push((await own.next()).kind);
    await own.close();

    await send(alice.token, 'DELETE', `/api/v1/consents/${consentId}`, {}, 200);
    expect(await feed.closed).toMatchObject({ code: 1008 });
  });

  it("a trainer assigns a planned workout to a consenting client: it lands in the client's record as coach-assigned", async () => {
    const assign = (token: string, clientId: string, body: object) => pipeline.env.inject('POST', `/api/v1/clients/${clientId}/workouts`, { token, body });
    const plan = { title: 'Tempo squats', plannedFor: '2026-05-12T07:00:00.000Z', plannedSets: [{ exerciseId: SQUAT, reps: 5, load: { value: 80, unit: 'kg' } }] };
    // No consent in force (the earlier ones were withdrawn): refused, nothing written.
    const before = await pipeline.env.countEvents();
    const refused = await assign(coach.token, alice.sub, plan);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'ACCESS_DENIED' });
    expect(await pipeline.env.countEvents()).toBe(before);

    const { consentId } = await send(alice.token, 'POST', '/api/v1/consents', { purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['workouts'] }, 201);
    const assigned = await assign(coach.token, alice.sub, plan);
    expect(assigned.statusCode, assigned.body).toBe(201);
    const { workoutId, position } = assigned.json<{ workoutId: string; position: string }>();
    await pipeline.settle(position);
    // Alice's own list shows it as coach-assigned; the event says who wrote it for whom, under which consent.
    const mine = await pipeline.get(`/api/v1/workouts/${workoutId}`, alice.token);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json()).toMatchObject({ status: 'planned', title: 'Tempo squats', assignedBy: coach.sub });
    const [event] = await pipeline.env.store.readStream(`workout-${workoutId}`);
    expect(event?.metadata).toMatchObject({ subjectId: alice.sub, actor: { sub: coach.sub, role: 'trainer' }, onBehalfOf: { sub: alice.sub } });
    expect(typeof event?.metadata['consentVersion']).toBe('number');
    // Assigning is all: the trainer does not run the client's workout through her own routes.
    expect((await pipeline.env.inject('POST', `/api/v1/workouts/${workoutId}/start`, { token: coach.token, body: {} })).statusCode).toBe(404);
    // A client cannot assign, nor can a trainer to themselves; bob never consented.
    expect((await assign(bob.token, alice.sub, plan)).statusCode).toBe(403);
    expect((await assign(coach.token, coach.sub, plan)).statusCode).toBe(403);
    expect((await assign(coach.token, bob.sub, plan)).statusCode).toBe(403);
    // Mass assignment and bad input: 400 naming the field.
    const extra = await assign(coach.token, alice.sub, { ...plan, subjectId: bob.sub });
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toMatchObject({ errors: [{ field: '/body/subjectId' }] });

    // A weekly plan too, from a template alice may use (shared in the organisation); a private one is refused.
    const set = { exerciseId: SQUAT, reps: 5, load: { value: 80, unit: 'kg' } };
    const { templateId: shared } = await send(coach.token, 'POST', '/api/v1/templates', { name: 'Squat day', plannedSets: [set], visibility: 'organisation' }, 201);
    const { templateId: coachOnly } = await send(coach.token, 'POST', '/api/v1/templates', { name: 'Coach only', plannedSets: [set], visibility: 'private' }, 201);
    const weekly = (templateId: string) => ({ name: 'Spring block', timeZone: 'Europe/Berlin', startsOn: '2026-05-11', entries: [{ weekday: 1, time: '07:00', templateId }] });
    const privateOne = await pipeline.env.inject('POST', `/api/v1/clients/${alice.sub}/plans`, { token: coach.token, body: weekly(coachOnly as string) });
    expect(privateOne.statusCode).toBe(400);
    expect(privateOne.json()).toMatchObject({ errors: [{ field: '/body/entries/0/templateId' }] });
    const { planId } = await send(coach.token, 'POST', `/api/v1/clients/${alice.sub}/plans`, weekly(shared as string), 201);
    const schedule = await pipeline.get(`/api/v1/plans/${planId}/schedule?from=2026-05-11&to=2026-05-17`, alice.token);
    expect(schedule.statusCode, schedule.body).toBe(200);
    expect(schedule.json()).toMatchObject({ assignedBy: coach.sub, sessions: [{ date: '2026-05-11', time: '07:00', templateName: 'Squat day' }] });
    expect((await pipeline.get(`/api/v1/plans/${planId}`, alice.token)).json()).toMatchObject({ name: 'Spring block', assignedBy: coach.sub });
    // Alice's own plans stay hers: not coach-assigned.
    const { planId: own } = await send(alice.token, 'POST', '/api/v1/plans', weekly(shared as string), 201);
    expect((await pipeline.get(`/api/v1/plans/${own}`, alice.token)).json()).toMatchObject({ assignedBy: null });

    await send(alice.token, 'DELETE', `/api/v1/consents/${consentId}`, {}, 200);
    expect((await assign(coach.token, alice.sub, plan)).statusCode).toBe(403);
    expect((await pipeline.env.inject('POST', `/api/v1/clients/${alice.sub}/plans`, { token: coach.token, body: weekly(shared as string) })).statusCode).toBe(403);
  });

  it('a trainer acts only as an active trainer member of the organisation: removed, relationship and consent no longer let them in', async () => {
    const { env } = pipeline;
    const signed = async (as: 'coach' | 'bob') => {
      const sub = randomUUID();
      return { sub, token: await signTestToken({ ...env.oidc.accessTokenClaims(as), sub }, { privateKey: env.oidc.signingKey }) };
    };
    const [trainer, client] = await Promise.all([signed('coach'), signed('bob')]);
    // Not (yet) a member: the token's role alone invites nobody.
    const refused = await env.inject('POST', '/api/v1/coaching/invitations', { token: trainer.token, body: { clientId: client.sub } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'NOT_A_MEMBER' });

    const { admin } = await env.enrol([{ ...trainer, role: 'trainer' }]);
    const { relationshipId } = await send(trainer.token, 'POST', '/api/v1/coaching/invitations', { clientId: client.sub }, 201);
    await send(client.token, 'POST', `/api/v1/coaching/${relationshipId}/accept`, {}, 200);
    await send(client.token, 'POST', '/api/v1/consents', { purpose: 'trainer_sharing', trainerId: trainer.sub, scopes: ['workouts'] }, 201);
    const clientsWorkouts = `/api/v1/clients/${client.sub}/workouts`;
    expect((await pipeline.get(clientsWorkouts, trainer.token)).statusCode).toBe(200);

    // Demoted to client: the next read and the next assignment are refused.
    await send(admin.token, 'PUT', `/api/v1/organisations/${env.oidc.users.alice.tenantId}/members/${trainer.sub}/role`, { role: 'client' }, 200);
    expect((await pipeline.get(clientsWorkouts, trainer.token)).statusCode).toBe(403);
    await send(trainer.token, 'POST', `/api/v1/clients/${client.sub}/workouts`, { title: 'Assigned', plannedFor: '2026-08-01T07:00:00.000Z' }, 403);
    // Back as trainer: in again (the relationship and consent never changed).
    await send(admin.token, 'PUT', `/api/v1/organisations/${env.oidc.users.alice.tenantId}/members/${trainer.sub}/role`, { role: 'trainer' }, 200);
    expect((await pipeline.get(clientsWorkouts, trainer.token)).statusCode).toBe(200);
    // Removed from the organisation: out.
    await send(admin.token, 'DELETE', `/api/v1/organisations/${env.oidc.users.alice.tenantId}/members/${trainer.sub}`, {}, 200);
    expect((await pipeline.get(clientsWorkouts, trainer.token)).statusCode).toBe(403);
  });

  it('refuses mass assignment and bad input with 400 naming the field; only trainers invite', async () => {
    for (const [body, field] of [
      [{ purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['workouts'], subjectId: bob.sub }, '/body/subjectId'],
      [{ purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['workouts'], role: 'trainer' }, '/body/role'],
      [{ purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['workouts'], organisationId: 'x' }, '/body/organisationId'],
      [{ purpose: 'trainer_sharing', trainerId: coach.sub, scopes: ['dna'] }, '/body/scopes/0'],
      [{ purpose: 'marketing' }, '/body/purpose'],
    ] as const) {
      const response = await pipeline.env.inject('POST', '/api/v1/consents', { token: alice.token, body });
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(field);
    }
    const byClient = await pipeline.env.inject('POST', '/api/v1/coaching/invitations', { token: alice.token, body: { clientId: bob.sub } });
    expect(byClient.statusCode).toBe(403);
    const withRole = await pipeline.env.inject('POST', '/api/v1/coaching/invitations', { token: coach.token, body: { clientId: bob.sub, trainerId: alice.sub } });
    expect(withRole.statusCode).toBe(400);
    // A client id that is not a UUID on the read side: 400 naming the parameter.
    const badId = await pipeline.get('/api/v1/clients/not-a-subject/workouts', coach.token);
    expect(badId.statusCode).toBe(400);
    expect(badId.json()).toMatchObject({ errors: [{ field: '/params/clientId' }] });
  });
});
