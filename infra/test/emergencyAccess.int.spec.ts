import { randomUUID } from 'node:crypto';
import { accessProjection, bodyMeasurementsProjection, profilesProjection } from '@fitledger/projections';
import { EMERGENCY_ACCESS_HEADER } from '@fitledger/query-service';
import { signTestToken } from '@fitledger/testing/oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from './pipeline';

// Break-glass over HTTP: an org admin opens emergency access with a reason, reads the subject's
// data while it is open (the response names the grant), the subject sees it, an auditor reviews it.
describe('emergency (break-glass) access', () => {
  let pipeline: Pipeline;
  let orgAdmin: { sub: string; token: string };
  let foreignAdmin: string;
  let auditor: string;

  beforeAll(async () => {
    pipeline = await startPipeline('emergency_access', [bodyMeasurementsProjection(), profilesProjection(), accessProjection()]);
    const { oidc } = pipeline.env;
    const claims = oidc.accessTokenClaims('alice');
    const sign = (over: Record<string, unknown>) => signTestToken({ ...claims, amr: ['pwd', 'otp'], ...over }, { privateKey: oidc.signingKey });
    const sub = randomUUID();
    orgAdmin = { sub, token: await sign({ sub, role: 'org_admin' }) };
    foreignAdmin = await sign({ sub: randomUUID(), role: 'org_admin', tenant_id: randomUUID() });
    auditor = await sign({ sub: randomUUID(), role: 'auditor' });
    await pipeline.env.enrol([{ ...orgAdmin, role: 'org_admin' }]);
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  const send = (...args: Parameters<Pipeline['send']>) => pipeline.send(...args);

  it('opens with a reason, lets the opener read while open, shows the subject, is reviewed once and ends when closed', async () => {
    const { tokens, oidc } = pipeline.env;
    const alice = oidc.users.alice.sub;
    await send(tokens.alice, 'POST', '/api/v1/body-metrics', { measurement: { metric: 'resting_heart_rate', heartRateBpm: 48 }, measuredAt: '2026-06-01T06:00:00.000Z' }, 201);
    const weights = `/api/v1/clients/${alice}/body-metrics?metric=resting_heart_rate`;
    expect((await pipeline.get(weights, orgAdmin.token)).statusCode).toBe(403);

    // Only org admins open it, with a real reason, and only as active admins of their organisation.
    const notMember = randomUUID();
    const notMemberToken = await signTestToken({ ...oidc.accessTokenClaims('alice'), amr: ['pwd', 'otp'], sub: notMember, role: 'org_admin' }, { privateKey: oidc.signingKey });
    const refused = await pipeline.env.inject('POST', '/api/v1/emergency-access', { token: notMemberToken, body: { subjectId: alice, reason: 'Member collapsed on the floor', minutes: 60 } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'NOT_A_MEMBER' });
    await send(tokens.coach, 'POST', '/api/v1/emergency-access', { subjectId: alice, reason: 'Member collapsed on the floor', minutes: 60 }, 403);
    await send(orgAdmin.token, 'POST', '/api/v1/emergency-access', { subjectId: alice, reason: 'urgent', minutes: 60 }, 400);
    await send(orgAdmin.token, 'POST', '/api/v1/emergency-access', { subjectId: alice, reason: 'Member collapsed on the floor', minutes: 24 * 60 + 1 }, 400);
    const { grantId } = await send(orgAdmin.token, 'POST', '/api/v1/emergency-access', { subjectId: alice, reason: 'Member collapsed on the floor; paramedics ask for heart data', minutes: 60 }, 201);

    const read = await pipeline.get(weights, orgAdmin.token);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.headers[EMERGENCY_ACCESS_HEADER]).toBe(grantId);
    expect(read.json()).toMatchObject({ items: [{ metric: 'resting_heart_rate' }] });
    // Another organisation's admin gets nothing from it.
    expect((await pipeline.get(weights, foreignAdmin)).statusCode).toBe(403);

    // The subject sees who, why and until when.
    const mine = await pipeline.get('/api/v1/emergency-access', tokens.alice);
    expect(mine.json()).toMatchObject({ items: [{ grantId, openedBy: orgAdmin.sub, reason: 'Member collapsed on the floor; paramedics ask for heart data', closed: false, reviewOutcome: null }] });

    // Flagged for review: the auditor's queue; never reviewed by the opener.
    const queue = await pipeline.get('/api/v1/emergency-access/review-queue', auditor);
    expect(queue.json<{ items: { grantId: string }[] }>().items.map((g) => g.grantId)).toContain(grantId);
    expect((await pipeline.get('/api/v1/emergency-access/review-queue', orgAdmin.token)).statusCode).toBe(403);
    await send(orgAdmin.token, 'POST', `/api/v1/emergency-access/${alice}/${grantId}/review`, { outcome: 'justified' }, 403);
    await send(auditor, 'POST', `/api/v1/emergency-access/${alice}/${grantId}/review`, { outcome: 'justified', note: 'matches the incident log' }, 200);
    expect((await pipeline.get('/api/v1/emergency-access/review-queue', auditor)).json<{ items: { grantId: string }[] }>().items.map((g) => g.grantId)).not.toContain(grantId);

    // The subject closes it: the next read is refused.
    await send(tokens.alice, 'POST', `/api/v1/emergency-access/${alice}/${grantId}/close`, {}, 200);
    expect((await pipeline.get(weights, orgAdmin.token)).statusCode).toBe(403);

    expect((await pipeline.get('/api/v1/emergency-access', tokens.alice)).json()).toMatchObject({ items: [{ grantId, closed: true, reviewOutcome: 'justified' }] });

    // An open grant ends with its opener's membership: removed from the organisation, no more reads.
    const second = await send(orgAdmin.token, 'POST', '/api/v1/emergency-access', { subjectId: alice, reason: 'Member collapsed again; paramedics ask for heart data', minutes: 60 }, 201);
    expect((await pipeline.get(weights, orgAdmin.token)).headers[EMERGENCY_ACCESS_HEADER]).toBe(second['grantId']);
    const { admin } = await pipeline.env.enrol([]);
    await send(admin.token, 'DELETE', `/api/v1/organisations/${oidc.users.alice.tenantId}/members/${orgAdmin.sub}`, {}, 200);
    expect((await pipeline.get(weights, orgAdmin.token)).statusCode).toBe(403);
  });
});
