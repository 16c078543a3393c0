import { authenticate, type TokenVerifier } from '@fitledger/auth';
import { ACCESS_LIMITS, MEMBERSHIP_ROLES, ORGANISATION_KINDS, type CommandMetadata, type MembershipRole, type OrganisationCommand, type OrganisationKind } from '@fitledger/domain';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { OrganisationCommandRunner } from '../accessCommandRunners';
import { fieldLocator } from '../problems';
import { commandContextOf, emptyBodyIsEmptyObject, present, sendOutcome } from './commandRequest';
import { API_PREFIX } from './workouts';
import { commandHeaders, UUID_PATTERN } from './workoutSchemas';

const uuid = { type: 'string', pattern: UUID_PATTERN } as const;
const role = { type: 'string', enum: MEMBERSHIP_ROLES, description: 'Never platform_admin: that role is platform-wide.' } as const;
const problem = (description: string) => ({ description, $ref: 'Problem#' }) as const;
const problems = {
  400: problem('Malformed JSON, a wrong type, an unknown field or a value out of range; `errors` names the field.'),
  401: problem('No valid access token.'),
  403: problem('The token lacks the fitledger:write scope, or only a platform admin creates organisations.'),
  404: problem('No such organisation.'),
  409: problem('Concurrent change; retry.'),
  412: problem('If-Match does not match the organisation’s current revision.'),
  413: problem('The body is larger than the limit.'),
  415: problem('The body is not application/json.'),
  422: problem('A membership rule refused it (`code`: NOT_ORGANISATION_ADMIN, OWN_ROLE, LAST_ADMIN, INVITATION_NOT_FOUND…).'),
} as const;
const result = { type: 'object', required: ['organisationId', 'revision', 'position'], properties: { organisationId: { type: 'string' }, revision: { type: 'integer' }, position: { type: 'string' } } } as const;
const orgParams = { type: 'object', additionalProperties: false, required: ['organisationId'], properties: { organisationId: uuid } } as const;
const memberParams = { type: 'object', additionalProperties: false, required: ['organisationId', 'subjectId'], properties: { organisationId: uuid, subjectId: uuid } } as const;
const tags = ['organisations'];

/**
 * Organisations and memberships. Only creation is gated on the token's role (platform admin); the
 * rest is decided on the organisation's own membership state, so a token cannot grant itself a role.
 */
export const organisationRoutes: FastifyPluginAsync<{ verifier: TokenVerifier; organisations: OrganisationCommandRunner }> = (app: FastifyInstance, { verifier, organisations }) => {
  app.addHook('onRequest', authenticate(verifier));
  app.removeContentTypeParser('text/plain');
  // Members act by their membership, not their token role: the creation gate does not apply to them.
  const membersContext = { assertMayWrite: () => undefined, context: organisations.context };
  /** A change of an existing organisation, decided on its membership state; answers 200 with the outcome. `subjectIn`: where the request names the member. */
  async function changeOrganisation(request: FastifyRequest, reply: FastifyReply, organisationId: string, command: (metadata: CommandMetadata) => OrganisationCommand, subjectIn: 'body' | 'params' = 'params'): Promise<FastifyReply> {
    const ctx = await commandContextOf(request, membersContext);
    const outcome = await organisations.execute(ctx, {
      id: organisationId,
      action: 'change',
      locate: fieldLocator({ at: { organisationId: '/params/organisationId', subjectId: `/${subjectIn}/subjectId` } }),
      command,
    });
    return sendOutcome(reply, 200, { organisationId, ...outcome });
  }

  app.post<{ Body: { organisationId?: string; name: string; kind: OrganisationKind; firstAdminId: string } }>(
    '/organisations',
    {
      schema: {
        tags,
        summary: 'Create an organisation (platform admins) with its first org admin invited',
        headers: commandHeaders,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'kind', 'firstAdminId'],
          properties: { organisationId: uuid, name: { type: 'string', minLength: 1, maxLength: ACCESS_LIMITS.organisationNameMaxChars }, kind: { type: 'string', enum: ORGANISATION_KINDS }, firstAdminId: uuid },
        },
        response: { 201: { description: 'Created (or already so).', ...result }, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const ctx = await commandContextOf(request, organisations);
      const organisationId = body.organisationId ?? ctx.newId('organisationId');
      const outcome = await organisations.execute(ctx, {
        id: organisationId,
        action: 'create',
        locate: fieldLocator(),
        command: (metadata) => ({ type: 'CreateOrganisation', metadata, data: { organisationId, name: body.name, kind: body.kind, firstAdminId: body.firstAdminId } }),
      });
      return sendOutcome(reply, 201, { organisationId, ...outcome }, `${API_PREFIX}/organisations/${organisationId}`);
    },
  );

  app.post<{ Params: { organisationId: string }; Body: { subjectId: string; role: MembershipRole } }>(
    '/organisations/:organisationId/invitations',
    {
      schema: {
        tags,
        summary: 'Invite a member with a role (org admins)',
        headers: commandHeaders,
        params: orgParams,
        body: { type: 'object', additionalProperties: false, required: ['subjectId', 'role'], properties: { subjectId: uuid, role } },
        response: { 200: { description: 'Invited (or already so).', ...result }, ...problems },
      },
    },
    async (request, reply) => {
      const { organisationId } = request.params;
      return changeOrganisation(request, reply, organisationId, (metadata) => ({ type: 'InviteMember', metadata, data: { organisationId, subjectId: request.body.subjectId, role: request.body.role } }), 'body');
    },
  );

  app.post<{ Params: { organisationId: string } }>(
    '/organisations/:organisationId/join',
    {
      schema: {
        tags,
        summary: 'Accept an invitation (the invited person)',
        headers: commandHeaders,
        params: orgParams,
        body: { type: 'object', additionalProperties: false, properties: {} },
        response: { 200: { description: 'Joined (or already so).', ...result }, ...problems },
      },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { organisationId } = request.params;
      return changeOrganisation(request, reply, organisationId, (metadata) => ({ type: 'JoinOrganisation', metadata, data: { organisationId } }));
    },
  );

  app.put<{ Params: { organisationId: string; subjectId: string }; Body: { role: MembershipRole } }>(
    '/organisations/:organisationId/members/:subjectId/role',
    {
      schema: {
        tags,
        summary: "Change a member's role (org admins; never their own)",
        headers: commandHeaders,
        params: memberParams,
        body: { type: 'object', additionalProperties: false, required: ['role'], properties: { role } },
        response: { 200: { description: 'Changed (or already so).', ...result }, ...problems },
      },
    },
    async (request, reply) => {
      const { organisationId, subjectId } = request.params;
      return changeOrganisation(request, reply, organisationId, (metadata) => ({ type: 'ChangeMemberRole', metadata, data: { organisationId, subjectId, role: request.body.role } }));
    },
  );

  app.delete<{ Params: { organisationId: string; subjectId: string }; Body: { reason?: string } }>(
    '/organisations/:organisationId/members/:subjectId',
    {
      schema: {
        tags,
        summary: 'Remove a member (org admins) or leave (the member)',
        headers: commandHeaders,
        params: memberParams,
        body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: ACCESS_LIMITS.reasonMaxChars } } },
        response: { 200: { description: 'Removed (or was no member).', ...result }, ...problems },
      },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { organisationId, subjectId } = request.params;
      return changeOrganisation(request, reply, organisationId, (metadata) => ({ type: 'RemoveMember', metadata, data: { organisationId, subjectId, ...present({ reason: request.body.reason }) } }));
    },
  );
  return Promise.resolve();
};
