import { randomUUID } from 'node:crypto';
import { accessProjection } from '@fitledger/projections';
import { signTestToken } from '@fitledger/testing/oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from './pipeline';

// Organisations and memberships over HTTP: created by a platform admin, then run by the
// membership state — a token's role claim alone grants nothing inside an organisation.
describe('organisations and memberships as events', () => {
  let pipeline: Pipeline;
  let platformAdmin: string;
  /** alice's subject with an org_admin role claim: the claim must not make her an admin of anything. */
  let aliceAsOrgAdmin: string;

  beforeAll(async () => {
    pipeline = await startPipeline('organisations', [accessProjection()]);
    const { oidc } = pipeline.env;
    const claims = oidc.accessTokenClaims('alice');
    const sign = (over: Record<string, unknown>) => signTestToken({ ...claims, amr: ['pwd', 'otp'], ...over }, { privateKey: oidc.signingKey });
    platformAdmin = await sign({ sub: randomUUID(), role: 'platform_admin' });
    aliceAsOrgAdmin = await sign({ role: 'org_admin' });
  });
  afterAll(async () => {
    await pipeline?.close();
  });

  const send = (...args: Parameters<Pipeline['send']>) => pipeline.send(...args);

  it('platform admin creates → first admin joins → invites a trainer → trainer joins → admin changes roles; nobody changes their own', async () => {
    const { tokens, oidc } = pipeline.env;
    const coach = oidc.users.coach.sub;
    const bob = oidc.users.bob.sub;
    // Only a platform admin creates organisations.
    await send(tokens.coach, 'POST', '/api/v1/organisations', { name: 'Riverside Strength', kind: 'gym', firstAdminId: bob }, 403);
    const { organisationId } = await send(platformAdmin, 'POST', '/api/v1/organisations', { name: 'Riverside Strength', kind: 'gym', firstAdminId: bob }, 201);
    expect((await pipeline.get('/api/v1/memberships', tokens.bob)).json()).toMatchObject({ items: [{ organisationId, organisationName: 'Riverside Strength', role: 'org_admin', status: 'invited' }] });
    // An invited admin is no admin yet.
    await send(tokens.bob, 'POST', `/api/v1/organisations/${organisationId}/invitations`, { subjectId: coach, role: 'trainer' }, 422);
    await send(tokens.bob, 'POST', `/api/v1/organisations/${organisationId}/join`, {}, 200);
    await send(tokens.bob, 'POST', `/api/v1/organisations/${organisationId}/invitations`, { subjectId: coach, role: 'trainer' }, 200);
    // The invitation is the coach's alone to accept; alice's org_admin claim gives her nothing here.
    await send(tokens.alice, 'POST', `/api/v1/organisations/${organisationId}/join`, {}, 422);
    const claimOnly = await pipeline.env.inject('POST', `/api/v1/organisations/${organisationId}/invitations`, { token: aliceAsOrgAdmin, body: { subjectId: pipeline.env.oidc.users.alice.sub, role: 'org_admin' } });
    expect(claimOnly.statusCode).toBe(422);
    expect(claimOnly.json()).toMatchObject({ code: 'NOT_ORGANISATION_ADMIN' });
    await send(tokens.coach, 'POST', `/api/v1/organisations/${organisationId}/join`, {}, 200);
    // Already a member: a role change is another route; the problem names the body's subjectId.
    const again = await pipeline.env.inject('POST', `/api/v1/organisations/${organisationId}/invitations`, { token: tokens.bob, body: { subjectId: coach, role: 'client' } });
    expect(again.json()).toMatchObject({ code: 'ALREADY_MEMBER', errors: [{ field: '/body/subjectId' }] });
    const unknown = await pipeline.env.inject('PUT', `/api/v1/organisations/${organisationId}/members/${randomUUID()}/role`, { token: tokens.bob, body: { role: 'trainer' } });
    expect(unknown.json()).toMatchObject({ code: 'MEMBER_NOT_FOUND', errors: [{ field: '/params/subjectId' }] });

    // Nobody changes their own role: not the coach, not the admin.
    const own = await pipeline.env.inject('PUT', `/api/v1/organisations/${organisationId}/members/${coach}/role`, { token: tokens.coach, body: { role: 'org_admin' } });
    expect(own.json()).toMatchObject({ code: 'NOT_ORGANISATION_ADMIN' });
    const ownAdmin = await pipeline.env.inject('PUT', `/api/v1/organisations/${organisationId}/members/${bob}/role`, { token: tokens.bob, body: { role: 'trainer' } });
    expect(ownAdmin.json()).toMatchObject({ code: 'OWN_ROLE' });
    await send(tokens.bob, 'PUT', `/api/v1/organisations/${organisationId}/members/${coach}/role`, { role: 'org_admin' }, 200);
    // platform_admin is never an organisation role; role and subject come from the path and the token only.
    await send(tokens.bob, 'PUT', `/api/v1/organisations/${organisationId}/members/${coach}/role`, { role: 'platform_admin' }, 400);
    await send(tokens.bob, 'POST', `/api/v1/organisations/${organisationId}/invitations`, { subjectId: coach, role: 'trainer', organisationId }, 400);

    // Members are listed to the organisation's admins only.
    const members = await pipeline.get(`/api/v1/organisations/${organisationId}/members`, tokens.bob);
    expect(members.statusCode).toBe(200);
    expect(members.json<{ items: { subjectId: string; role: string; status: string }[] }>().items.map((m) => [m.subjectId, m.role, m.status]).sort()).toEqual(
      [
        [bob, 'org_admin', 'active'],
        [coach, 'org_admin', 'active'],
      ].sort(),
    );
    expect((await pipeline.get(`/api/v1/organisations/${organisationId}/members`, tokens.alice)).statusCode).toBe(404);
    expect((await pipeline.get(`/api/v1/organisations/${organisationId}/members`, aliceAsOrgAdmin)).statusCode).toBe(404);

    // Leaving: the coach leaves; the last admin cannot.
    await send(tokens.coach, 'DELETE', `/api/v1/organisations/${organisationId}/members/${coach}`, {}, 200);
    const last = await pipeline.env.inject('DELETE', `/api/v1/organisations/${organisationId}/members/${bob}`, { token: tokens.bob, body: {} });
    expect(last.json()).toMatchObject({ code: 'LAST_ADMIN' });
    expect((await pipeline.get('/api/v1/memberships', tokens.coach)).json()).toMatchObject({ items: [] });
  });

  it('answers 404 for an organisation that does not exist, and 400 naming the field for bad input', async () => {
    const { tokens } = pipeline.env;
    await send(tokens.bob, 'POST', `/api/v1/organisations/${randomUUID()}/join`, {}, 404);
    for (const [body, field] of [
      [{ name: '', kind: 'gym', firstAdminId: randomUUID() }, '/body/name'],
      [{ name: 'X', kind: 'casino', firstAdminId: randomUUID() }, '/body/kind'],
      [{ name: 'X', kind: 'gym', firstAdminId: 'bob' }, '/body/firstAdminId'],
      [{ name: 'X', kind: 'gym', firstAdminId: randomUUID(), tenantId: 'x' }, '/body/tenantId'],
    ] as const) {
      const response = await pipeline.env.inject('POST', '/api/v1/organisations', { token: platformAdmin, body });
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(field);
    }
  });
});
