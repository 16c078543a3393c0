import { randomUUID } from 'node:crypto';
import { signTestToken } from '@fitledger/testing/oidc';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';
import { routeValidationSuite, type RouteCase } from './testing/routeValidationSuite';

const MASS_ASSIGNMENT = {
  subjectId: '5d2e9c71-3a48-4f6b-8e0d-7c9b1a2f3e84',
  tenantId: '00000000-0000-4000-8000-000000000000',
  organisationId: '00000000-0000-4000-8000-000000000000',
  role: 'platform_admin',
  version: 7,
};

interface Fixture {
  readonly consentId: string;
  /** bob's (a minor's) consent naming alice as guardian. */
  readonly minorConsentId: string;
  readonly bob: string;
  readonly relationshipId: string;
  /** An organisation alice administers, the coach a trainer in it, bob invited. */
  readonly organisationId: string;
  /** An emergency grant the org admin opened on alice's data. */
  readonly grantId: string;
}

describe('request validation on every consent and coaching route (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;
  let coach = '';
  let alice = '';
  let platformAdmin = '';
  let orgAdmin = '';
  let auditor = '';

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_access_validation');
    coach = env.oidc.users.coach.sub;
    alice = env.oidc.users.alice.sub;
    const sign = (role: string, sub = randomUUID()) => signTestToken({ ...env.oidc.accessTokenClaims('alice'), sub, role, amr: ['pwd', 'otp'] }, { privateKey: env.oidc.signingKey });
    const orgAdminSub = randomUUID();
    orgAdmin = await sign('org_admin', orgAdminSub);
    // The coach invites and the org admin opens emergency access as active members of the organisation their tokens act in.
    await env.enrol([
      { sub: coach, token: env.tokens.coach, role: 'trainer' },
      { sub: orgAdminSub, token: orgAdmin, role: 'org_admin' },
    ]);
    auditor = await sign('auditor');
    platformAdmin = await signTestToken({ ...env.oidc.accessTokenClaims('alice'), sub: randomUUID(), role: 'platform_admin', amr: ['pwd', 'otp'] }, { privateKey: env.oidc.signingKey });
    const profile = await env.inject('PUT', '/api/v1/profile', { token: env.tokens.bob, body: { birthDate: '2012-02-01' } });
    expect(profile.statusCode, profile.body).toBe(201);
  });
  afterAll(async () => {
    await env?.close();
  });

  const share = () => ({ purpose: 'trainer_sharing', trainerId: coach, scopes: ['workouts'] });

  async function fresh(): Promise<Fixture> {
    const post = async (token: string, url: string, body: object): Promise<Record<string, string>> => {
      const response = await env.inject('POST', url, { token, body });
      expect(response.statusCode, response.body).toBe(201);
      return response.json<Record<string, string>>();
    };
    const { consentId = '' } = await post(env.tokens.alice, '/api/v1/consents', share());
    const { consentId: minorConsentId = '' } = await post(env.tokens.bob, '/api/v1/consents', { ...share(), guardianId: alice });
    const { relationshipId = '' } = await post(env.tokens.coach, '/api/v1/coaching/invitations', { clientId: alice });
    const { organisationId = '' } = await post(platformAdmin, '/api/v1/organisations', { name: 'Validation Gym', kind: 'gym', firstAdminId: alice });
    const act = async (token: string, url: string, body: object): Promise<void> => {
      const response = await env.inject('POST', url, { token, body });
      expect(response.statusCode, response.body).toBe(200);
    };
    await act(env.tokens.alice, `/api/v1/organisations/${organisationId}/join`, {});
    await act(env.tokens.alice, `/api/v1/organisations/${organisationId}/invitations`, { subjectId: coach, role: 'trainer' });
    await act(env.tokens.coach, `/api/v1/organisations/${organisationId}/join`, {});
    await act(env.tokens.alice, `/api/v1/organisations/${organisationId}/invitations`, { subjectId: env.oidc.users.bob.sub, role: 'client' });
    const { grantId = '' } = await post(orgAdmin, '/api/v1/emergency-access', { subjectId: alice, reason: 'Member collapsed on the floor', minutes: 30 });
    return { consentId, minorConsentId, bob: env.oidc.users.bob.sub, relationshipId, organisationId, grantId };
  }

  const routes: readonly RouteCase<Fixture>[] = [
    {
      name: 'POST /consents',
      method: 'POST',
      url: () => '/api/v1/consents',
      get valid() {
        return share();
      },
      wrongTypes: [
        ['/body/scopes', { purpose: 'trainer_sharing', trainerId: '9a7c3e15-2b6d-4c89-b1f0-4e5d6a7b8c92', scopes: 'workouts' }],
        ['/body/expiresAt', { purpose: 'research', expiresAt: 20270101 }],
      ],
      outOfRange: [
        ['/body/purpose', { purpose: 'marketing' }],
        ['/body/scopes/0', { purpose: 'trainer_sharing', trainerId: '9a7c3e15-2b6d-4c89-b1f0-4e5d6a7b8c92', scopes: ['dna'] }],
        ['/body/scopes', { purpose: 'trainer_sharing', trainerId: '9a7c3e15-2b6d-4c89-b1f0-4e5d6a7b8c92', scopes: [] }],
        ['/body/trainerId', { purpose: 'trainer_sharing', trainerId: 'coach', scopes: ['workouts'] }],
        ['/body/provider', { purpose: 'device_sync', provider: 'Garmin Connect' }],
        ['/body/purpose', { scopes: ['workouts'] }],
      ],
    },
    {
      name: 'DELETE /consents/{id}',
      method: 'DELETE',
      url: (f) => `/api/v1/consents/${f.consentId}`,
      badPath: { url: '/api/v1/consents/my-consent', field: '/params/consentId' },
      valid: { reason: 'changed my mind' },
      wrongTypes: [['/body/reason', { reason: 5 }]],
      outOfRange: [['/body/reason', { reason: 'x'.repeat(501) }]],
    },
    {
      name: 'POST /consents/{subjectId}/{id}/guardian-confirmation',
      method: 'POST',
      url: (f) => `/api/v1/consents/${f.bob}/${f.minorConsentId}/guardian-confirmation`,
      badPath: { url: '/api/v1/consents/bob/x/guardian-confirmation', field: '/params/subjectId' },
      valid: {},
      wrongTypes: [],
      outOfRange: [],
    },
    {
      name: 'POST /coaching/invitations',
      method: 'POST',
      as: 'coach',
      url: () => '/api/v1/coaching/invitations',
      get valid() {
        return { clientId: alice, message: 'Spring block?' };
      },
      wrongTypes: [['/body/message', { clientId: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61', message: 5 }]],
      outOfRange: [
        ['/body/clientId', { clientId: 'alice' }],
        ['/body/message', { clientId: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61', message: 'x'.repeat(501) }],
        ['/body/clientId', {}],
      ],
    },
    {
      name: 'POST /coaching/{id}/accept',
      method: 'POST',
      url: (f) => `/api/v1/coaching/${f.relationshipId}/accept`,
      badPath: { url: '/api/v1/coaching/rel-1/accept', field: '/params/relationshipId' },
      valid: {},
      wrongTypes: [],
      outOfRange: [],
    },
    {
      name: 'POST /coaching/{id}/end',
      method: 'POST',
      url: (f) => `/api/v1/coaching/${f.relationshipId}/end`,
      badPath: { url: '/api/v1/coaching/rel-1/end', field: '/params/relationshipId' },
      valid: { reason: 'moving' },
      wrongTypes: [['/body/reason', { reason: ['moving'] }]],
      outOfRange: [['/body/reason', { reason: 'x'.repeat(501) }]],
    },
    {
      name: 'POST /organisations',
      method: 'POST',
      token: () => platformAdmin,
      url: () => '/api/v1/organisations',
      get valid() {
        return { organisationId: randomUUID(), name: 'Another Gym', kind: 'studio', firstAdminId: alice };
      },
      wrongTypes: [['/body/name', { name: 7, kind: 'gym', firstAdminId: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61' }]],
      outOfRange: [
        ['/body/kind', { name: 'X', kind: 'casino', firstAdminId: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61' }],
        ['/body/name', { name: 'x'.repeat(121), kind: 'gym', firstAdminId: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61' }],
        ['/body/firstAdminId', { name: 'X', kind: 'gym', firstAdminId: 'alice' }],
      ],
    },
    {
      name: 'POST /organisations/{id}/invitations',
      method: 'POST',
      url: (f) => `/api/v1/organisations/${f.organisationId}/invitations`,
      badPath: { url: '/api/v1/organisations/gym/invitations', field: '/params/organisationId' },
      get valid() {
        return { subjectId: randomUUID(), role: 'client' };
      },
      wrongTypes: [['/body/role', { subjectId: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61', role: ['client'] }]],
      outOfRange: [
        ['/body/role', { subjectId: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61', role: 'platform_admin' }],
        ['/body/subjectId', { subjectId: 'bob', role: 'client' }],
      ],
    },
    {
      name: 'POST /organisations/{id}/join',
      method: 'POST',
      as: 'bob',
      url: (f) => `/api/v1/organisations/${f.organisationId}/join`,
      badPath: { url: '/api/v1/organisations/gym/join', field: '/params/organisationId' },
      valid: {},
      wrongTypes: [],
      outOfRange: [],
    },
    {
      name: 'PUT /organisations/{id}/members/{subjectId}/role',
      method: 'PUT',
      url: (f) => `/api/v1/organisations/${f.organisationId}/members/${coach}/role`,
      badPath: { url: '/api/v1/organisations/gym/members/coach/role', field: '/params/organisationId' },
      valid: { role: 'org_admin' },
      wrongTypes: [['/body/role', { role: 1 }]],
      outOfRange: [
        ['/body/role', { role: 'platform_admin' }],
        ['/body/role', {}],
      ],
    },
    {
      name: 'DELETE /organisations/{id}/members/{subjectId}',
      method: 'DELETE',
      url: (f) => `/api/v1/organisations/${f.organisationId}/members/${coach}`,
      badPath: { url: '/api/v1/organisations/gym/members/coach', field: '/params/organisationId' },
      valid: { reason: 'moved' },
      wrongTypes: [['/body/reason', { reason: false }]],
      outOfRange: [['/body/reason', { reason: 'x'.repeat(501) }]],
    },
    {
      name: 'POST /emergency-access',
      method: 'POST',
      token: () => orgAdmin,
      url: () => '/api/v1/emergency-access',
      get valid() {
        return { grantId: randomUUID(), subjectId: alice, reason: 'Member collapsed on the floor', minutes: 30 };
      },
      wrongTypes: [['/body/minutes', { subjectId: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61', reason: 'Member collapsed on the floor', minutes: '30' }]],
      outOfRange: [
        ['/body/reason', { subjectId: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61', reason: 'urgent', minutes: 30 }],
        ['/body/minutes', { subjectId: '0b8f4a2e-6c1d-4e57-9a3b-1f2d3c4b5a61', reason: 'Member collapsed on the floor', minutes: 1441 }],
        ['/body/subjectId', { subjectId: 'alice', reason: 'Member collapsed on the floor', minutes: 30 }],
      ],
    },
    {
      name: 'POST /emergency-access/{subjectId}/{grantId}/close',
      method: 'POST',
      url: (f) => `/api/v1/emergency-access/${alice}/${f.grantId}/close`,
      badPath: { url: '/api/v1/emergency-access/alice/g1/close', field: '/params/subjectId' },
      valid: {},
      wrongTypes: [],
      outOfRange: [],
    },
    {
      name: 'POST /emergency-access/{subjectId}/{grantId}/review',
      method: 'POST',
      token: () => auditor,
      url: (f) => `/api/v1/emergency-access/${alice}/${f.grantId}/review`,
      badPath: { url: '/api/v1/emergency-access/alice/g1/review', field: '/params/subjectId' },
      valid: { outcome: 'justified' },
      wrongTypes: [['/body/note', { outcome: 'justified', note: 3 }]],
      outOfRange: [
        ['/body/outcome', { outcome: 'fine' }],
        ['/body/outcome', {}],
      ],
    },
  ];

  routeValidationSuite({ env: () => env, fresh, routes, massAssignment: MASS_ASSIGNMENT, fuzzRuns: 15 });
});
