import { authenticate, requireIdentity, type TokenVerifier } from '@fitledger/auth';
import { ACCESS_LIMITS, CONSENT_PURPOSES, emergencyAccessKey, SHARING_SCOPES, type ConsentPurpose, type SharingScope } from '@fitledger/domain';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { CoachingCommandRunner, ConsentCommandRunner, EmergencyAccessCommandRunner } from '../accessCommandRunners';
import { HttpProblem } from '@fitledger/http';
import { fieldLocator } from '../problems';
import type { ProfileCommandRunner } from '../profileCommandRunner';
import { assertActsAs, type MembershipLookup } from '../membership';
import { commandContextOf, emptyBodyIsEmptyObject, present, sendOutcome } from './commandRequest';
import { API_PREFIX } from './workouts';
import { commandHeaders, UUID_PATTERN } from './workoutSchemas';

export interface AccessRoutesOptions {
  readonly verifier: TokenVerifier;
  readonly consents: ConsentCommandRunner;
  readonly coaching: CoachingCommandRunner;
  /** Where the subject's birth date comes from (their profile), to tell a minor's consent. */
  readonly profiles: ProfileCommandRunner;
  /** Years; below it a guardian confirms (GDPR Art. 8; default 16). */
  readonly ageOfDigitalConsent: number;
  /** Inviting clients takes an active trainer membership of the caller's organisation. */
  readonly membership: MembershipLookup;
}

const uuid = { type: 'string', pattern: UUID_PATTERN } as const;
const reason = { type: 'string', maxLength: ACCESS_LIMITS.reasonMaxChars } as const;
const problem = (description: string) => ({ description, $ref: 'Problem#' }) as const;
const problems = {
  400: problem('Malformed JSON, a wrong type, an unknown field or a value out of range; `errors` names the field.'),
  401: problem('No valid access token.'),
  403: problem('The token lacks the fitledger:write scope, or the role may not do this.'),
  404: problem('No such consent or relationship (or none you are a party to).'),
  409: problem('Concurrent change; retry.'),
  412: problem('If-Match does not match the current revision.'),
  413: problem('The body is larger than the limit.'),
  415: problem('The body is not application/json.'),
  422: problem('A domain rule refused the command (`code` says which).'),
} as const;
const consentResult = { type: 'object', required: ['consentId', 'revision', 'position'], properties: { consentId: { type: 'string' }, revision: { type: 'integer', description: 'The consent version is revision + 1.' }, position: { type: 'string' } } } as const;
const relationshipResult = { type: 'object', required: ['relationshipId', 'revision', 'position'], properties: { relationshipId: { type: 'string' }, revision: { type: 'integer' }, position: { type: 'string' } } } as const;

interface GiveConsentBody {
  consentId?: string;
  purpose: ConsentPurpose;
  trainerId?: string;
  scopes?: SharingScope[];
  provider?: string;
  expiresAt?: string;
  guardianId?: string;
}

/**
 * Consent (the caller's own stream; a guardian confirms a minor's) and trainer–client coaching.
 * Who the caller is comes from the token only: no body names the subject, a role or an organisation.
 */
export const accessRoutes: FastifyPluginAsync<AccessRoutesOptions> = (app: FastifyInstance, options) => {
  const { consents, coaching, profiles } = options;
  app.addHook('onRequest', authenticate(options.verifier));
  app.removeContentTypeParser('text/plain');

  app.post<{ Body: GiveConsentBody }>(
    '/consents',
    {
      schema: {
        tags: ['consent'],
        summary: 'Give a consent',
        description:
          'One purpose per consent. `trainer_sharing` names the trainer and the scopes they may see; `device_sync` names the provider. Below the age of digital consent (profile birth date) `guardianId` is required and the consent takes effect once that guardian confirms it.',
        headers: commandHeaders,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['purpose'],
          properties: {
            consentId: uuid,
            purpose: { type: 'string', enum: CONSENT_PURPOSES },
            trainerId: { ...uuid, description: 'trainer_sharing: the trainer (subject id).' },
            scopes: { type: 'array', minItems: 1, maxItems: SHARING_SCOPES.length, uniqueItems: true, items: { type: 'string', enum: SHARING_SCOPES } },
            provider: { type: 'string', minLength: 1, maxLength: ACCESS_LIMITS.providerMaxChars, pattern: '^[a-z][a-z0-9_]*$' },
            expiresAt: { type: 'string', format: 'date-time' },
            guardianId: { ...uuid, description: 'Below the age of digital consent: the guardian who must confirm.' },
          },
          example: { purpose: 'trainer_sharing', trainerId: '9a7c3e15-2b6d-4c89-b1f0-4e5d6a7b8c92', scopes: ['workouts', 'goals'] },
        },
        response: { 201: { description: 'Given (or already so).', ...consentResult }, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const ctx = await commandContextOf(request, consents);
      const consentId = body.consentId ?? ctx.newId('consentId');
      const profile = await profiles.peek(ctx.identity.sub);
      const birthDate = profile?.state.status === 'active' ? profile.state.profile.birthDate : undefined;
      const outcome = await consents.execute(ctx, {
        id: ctx.identity.sub,
        action: 'create',
        locate: fieldLocator(),
        command: (metadata) => ({
          type: 'GiveConsent',
          metadata,
          data: {
            consentId,
            purpose: body.purpose,
            ...present({ trainerId: body.trainerId, scopes: body.scopes, provider: body.provider, expiresAt: body.expiresAt, guardianId: body.guardianId, subjectBirthDate: birthDate }),
            ageOfDigitalConsent: options.ageOfDigitalConsent,
          },
        }),
      });
      return sendOutcome(reply, 201, { consentId, ...outcome }, `${API_PREFIX}/consents/${consentId}`);
    },
  );

  app.delete<{ Params: { consentId: string }; Body: { reason?: string } }>(
    '/consents/:consentId',
    {
      schema: {
        tags: ['consent'],
        summary: 'Withdraw a consent',
        description: 'Takes effect on the next request of whoever relied on it; open live feeds that relied on it are closed.',
        headers: commandHeaders,
        params: { type: 'object', additionalProperties: false, required: ['consentId'], properties: { consentId: uuid } },
        body: { type: 'object', additionalProperties: false, properties: { reason } },
        response: { 200: { description: 'Withdrawn (or already so).', ...consentResult }, ...problems },
      },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { consentId } = request.params;
      const ctx = await commandContextOf(request, consents);
      const outcome = await consents.execute(ctx, {
        id: ctx.identity.sub,
        action: 'change',
        locate: fieldLocator({ at: { consentId: '/params/consentId' } }),
        command: (metadata) => ({ type: 'WithdrawConsent', metadata, data: { consentId, ...present({ reason: request.body.reason }) } }),
      });
      return sendOutcome(reply, 200, { consentId, ...outcome });
    },
  );

  app.post<{ Params: { subjectId: string; consentId: string } }>(
    '/consents/:subjectId/:consentId/guardian-confirmation',
    {
      schema: {
        tags: ['consent'],
        summary: "Confirm a minor's consent as their guardian",
        description: 'Only the guardian named in the consent; to anyone else it does not exist (404).',
        headers: commandHeaders,
        params: { type: 'object', additionalProperties: false, required: ['subjectId', 'consentId'], properties: { subjectId: uuid, consentId: uuid } },
        body: { type: 'object', additionalProperties: false, properties: {} },
        response: { 200: { description: 'Confirmed (or already so).', ...consentResult }, ...problems },
      },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { subjectId, consentId } = request.params;
      const ctx = await commandContextOf(request, consents);
      const outcome = await consents.execute(ctx, {
        id: subjectId,
        action: 'change',
        locate: fieldLocator({ at: { consentId: '/params/consentId' } }),
        command: (metadata) => ({ type: 'ConfirmConsentAsGuardian', metadata, data: { consentId } }),
      });
      return sendOutcome(reply, 200, { consentId, ...outcome });
    },
  );

  app.post<{ Body: { relationshipId?: string; clientId: string; message?: string } }>(
    '/coaching/invitations',
    {
      schema: {
        tags: ['coaching'],
        summary: 'Invite a client (trainers)',
        description: 'Starts a trainer–client relationship in the trainer’s organisation; the client accepts it. Seeing the client’s data also needs their consent (trainer_sharing).',
        headers: commandHeaders,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['clientId'],
          properties: { relationshipId: uuid, clientId: uuid, message: { type: 'string', maxLength: ACCESS_LIMITS.messageMaxChars } },
        },
        response: { 201: { description: 'Invited (or already so).', ...relationshipResult }, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const ctx = await commandContextOf(request, coaching);
      if (ctx.identity.role === 'trainer') await assertActsAs(options.membership, ctx.identity, 'trainer', 'inviting a client');
      const relationshipId = body.relationshipId ?? ctx.newId('relationshipId');
      const outcome = await coaching.execute(ctx, {
        id: relationshipId,
        action: 'create',
        locate: fieldLocator(),
        command: (metadata) => ({ type: 'InviteClient', metadata, data: { relationshipId, clientId: body.clientId, ...present({ message: body.message }) } }),
      });
      return sendOutcome(reply, 201, { relationshipId, ...outcome }, `${API_PREFIX}/coaching/${relationshipId}`);
    },
  );

  for (const [action, type, summary] of [
    ['accept', 'AcceptCoaching', 'Accept an invitation (the invited client)'],
    ['end', 'EndCoaching', 'End a relationship (either party)'],
  ] as const) {
    app.post<{ Params: { relationshipId: string }; Body: { reason?: string } }>(
      `/coaching/:relationshipId/${action}`,
      {
        schema: {
          tags: ['coaching'],
          summary,
          headers: commandHeaders,
          params: { type: 'object', additionalProperties: false, required: ['relationshipId'], properties: { relationshipId: uuid } },
          body: { type: 'object', additionalProperties: false, properties: type === 'EndCoaching' ? { reason } : {} },
          response: { 200: { description: 'Done (or already so).', ...relationshipResult }, ...problems },
        },
        preValidation: emptyBodyIsEmptyObject,
      },
      async (request, reply) => {
        const { relationshipId } = request.params;
        requireIdentity(request);
        // Either party acts here, clients included: the role gate of invitations does not apply
        // (the stream's access check still asks for the write scope and the organisation).
        const ctx = await commandContextOf(request, { assertMayWrite: () => undefined, context: (input) => coaching.context(input) });
        const outcome = await coaching.execute(ctx, {
          id: relationshipId,
          action: 'change',
          locate: fieldLocator({ at: { relationshipId: '/params/relationshipId' } }),
          command: (metadata) =>
            type === 'AcceptCoaching'
              ? { type, metadata, data: { relationshipId } }
              : { type, metadata, data: { relationshipId, ...present({ reason: request.body.reason }) } },
        });
        return sendOutcome(reply, 200, { relationshipId, ...outcome });
      },
    );
  }
  return Promise.resolve();
};

/** Break-glass: open (org admins), close (opener or subject), review (auditors, platform admins). */
export const emergencyAccessRoutes: FastifyPluginAsync<{ verifier: TokenVerifier; emergency: EmergencyAccessCommandRunner; membership: MembershipLookup }> = (app: FastifyInstance, { verifier, emergency, membership }) => {
  app.addHook('onRequest', authenticate(verifier));
  app.removeContentTypeParser('text/plain');
  const tags = ['emergency access'];
  const grantParams = { type: 'object', additionalProperties: false, required: ['subjectId', 'grantId'], properties: { subjectId: uuid, grantId: uuid } } as const;
  const grantResult = { type: 'object', required: ['grantId', 'revision', 'position'], properties: { grantId: { type: 'string' }, revision: { type: 'integer' }, position: { type: 'string' } } } as const;
  // Closing and reviewing are decided on the grant (opener, subject) and the reviewer roles, not the opening role.
  const anyRole = { assertMayWrite: () => undefined, context: emergency.context };

  app.post<{ Body: { grantId?: string; subjectId: string; reason: string; minutes: number } }>(
    '/emergency-access',
    {
      schema: {
        tags,
        summary: 'Open emergency access to a subject of your organisation (org admins)',
        description: 'States a reason (10–500 characters) and lasts at most 24 h. The subject sees it; it is flagged for review by an auditor.',
        headers: commandHeaders,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['subjectId', 'reason', 'minutes'],
          properties: {
            grantId: uuid,
            subjectId: uuid,
            reason: { type: 'string', minLength: ACCESS_LIMITS.emergencyReasonMinChars, maxLength: ACCESS_LIMITS.reasonMaxChars },
            minutes: { type: 'integer', minimum: 1, maximum: ACCESS_LIMITS.emergencyMinutesMax },
          },
        },
        response: { 201: { description: 'Opened (or already so).', ...grantResult }, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const ctx = await commandContextOf(request, emergency);
      if (ctx.identity.role === 'org_admin') await assertActsAs(membership, ctx.identity, 'org_admin', 'opening emergency access');
      const grantId = body.grantId ?? ctx.newId('grantId');
      const outcome = await emergency.execute(ctx, {
        id: emergencyAccessKey(ctx.identity.tenantId, body.subjectId),
        action: 'create',
        locate: fieldLocator(),
        command: (metadata) => ({ type: 'OpenEmergencyAccess', metadata, data: { grantId, reason: body.reason, minutes: body.minutes } }),
      });
      return sendOutcome(reply, 201, { grantId, ...outcome });
    },
  );

  app.post<{ Params: { subjectId: string; grantId: string } }>(
    '/emergency-access/:subjectId/:grantId/close',
    {
      schema: { tags, summary: 'Close emergency access early (the opener or the subject)', headers: commandHeaders, params: grantParams, body: { type: 'object', additionalProperties: false, properties: {} }, response: { 200: { description: 'Closed (or already so).', ...grantResult }, ...problems } },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { subjectId, grantId } = request.params;
      const ctx = await commandContextOf(request, anyRole);
      const outcome = await emergency.execute(ctx, {
        id: emergencyAccessKey(ctx.identity.tenantId, subjectId),
        action: 'change',
        locate: fieldLocator({ at: { grantId: '/params/grantId' } }),
        command: (metadata) => ({ type: 'CloseEmergencyAccess', metadata, data: { grantId } }),
      });
      return sendOutcome(reply, 200, { grantId, ...outcome });
    },
  );

  app.post<{ Params: { subjectId: string; grantId: string }; Body: { outcome: 'justified' | 'unjustified'; note?: string } }>(
    '/emergency-access/:subjectId/:grantId/review',
    {
      schema: {
        tags,
        summary: 'Review an emergency access (auditors, platform admins; never the opener)',
        headers: commandHeaders,
        params: grantParams,
        body: { type: 'object', additionalProperties: false, required: ['outcome'], properties: { outcome: { type: 'string', enum: ['justified', 'unjustified'] }, note: reason } },
        response: { 200: { description: 'Reviewed (or already so).', ...grantResult }, ...problems },
      },
    },
    async (request, reply) => {
      const { subjectId, grantId } = request.params;
      const identity = requireIdentity(request);
      if (identity.role !== 'auditor' && identity.role !== 'platform_admin') throw new HttpProblem(403, 'ROLE_NOT_ALLOWED', 'Forbidden', 'only auditors and platform admins review emergency access');
      const ctx = await commandContextOf(request, anyRole);
      const outcome = await emergency.execute(ctx, {
        id: emergencyAccessKey(ctx.identity.tenantId, subjectId),
        action: 'change',
        locate: fieldLocator({ at: { grantId: '/params/grantId' } }),
        command: (metadata) => ({ type: 'ReviewEmergencyAccess', metadata, data: { grantId, outcome: request.body.outcome, ...present({ note: request.body.note }) } }),
      });
      return sendOutcome(reply, 200, { grantId, ...outcome });
    },
  );
  return Promise.resolve();
};
