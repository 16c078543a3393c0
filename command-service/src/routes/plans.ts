import { authenticate, requireIdentity, type TokenVerifier } from '@fitledger/auth';
import type { ClientAccessCheck } from '../clientAssignment';
import { PLAN_LIMITS, type PlanDefinition } from '@fitledger/domain';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { PlanCommandRunner } from '../planCommandRunner';
import { fieldLocator, validationFailed } from '../problems';
import { mayUseTemplate, type TemplateCommandRunner } from '../templateCommandRunner';
import { commandContextOf, emptyBodyIsEmptyObject, sendOutcome } from './commandRequest';
import { API_PREFIX } from './workouts';
import { commandHeaders, UUID_PATTERN } from './workoutSchemas';

export interface PlanRoutesOptions {
  readonly verifier: TokenVerifier;
  readonly plans: PlanCommandRunner;
  readonly templates: TemplateCommandRunner;
  /** With it, trainers create plans in consenting clients' records (`POST /clients/{clientId}/plans`). */
  readonly clientAccess?: ClientAccessCheck;
}

const entrySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['weekday', 'time', 'templateId'],
  properties: {
    weekday: { type: 'integer', minimum: 1, maximum: 7, description: 'ISO weekday: 1 = Monday … 7 = Sunday.' },
    time: { type: 'string', pattern: '^(?:[01]\\d|2[0-3]):[0-5]\\d$', description: 'Local time HH:MM in the plan’s time zone.' },
    templateId: { type: 'string', pattern: UUID_PATTERN, description: 'A template you may use (yours, or shared in your organisation).' },
  },
} as const;
const date = { type: 'string', format: 'date', description: 'Local date YYYY-MM-DD.' } as const;
const definitionProperties = {
  name: { type: 'string', minLength: 1, maxLength: PLAN_LIMITS.nameMaxChars },
  timeZone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone of the times, e.g. Europe/Berlin.' },
  startsOn: date,
  endsOn: date,
  entries: { type: 'array', maxItems: PLAN_LIMITS.entriesMax, items: entrySchema },
} as const;
const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'timeZone', 'startsOn', 'entries'],
  properties: { planId: { type: 'string', pattern: UUID_PATTERN }, ...definitionProperties },
} as const;
const reviseBody = { type: 'object', additionalProperties: false, required: ['name', 'timeZone', 'startsOn', 'entries'], properties: definitionProperties } as const;
const params = { type: 'object', additionalProperties: false, required: ['planId'], properties: { planId: { type: 'string', pattern: UUID_PATTERN } } } as const;
const result = {
  type: 'object',
  required: ['planId', 'revision', 'position'],
  properties: { planId: { type: 'string' }, revision: { type: 'integer' }, position: { type: 'string' } },
} as const;
const problem = (description: string) => ({ description, $ref: 'Problem#' }) as const;
const problems = {
  400: problem('Malformed JSON, a wrong type, an unknown field or a value out of range; `errors` names the field.'),
  401: problem('No valid access token.'),
  403: problem('The token lacks the fitledger:write scope or the role may not keep plans.'),
  404: problem('No such plan (or not yours).'),
  409: problem('The plan kept changing concurrently; retry.'),
  412: problem('If-Match does not match the plan’s current revision.'),
  413: problem('The body is larger than the limit.'),
  415: problem('The body is not application/json.'),
  422: problem('A domain rule refused the command (`code` says which: an unknown time zone, a template you may not use…).'),
} as const;
const tags = ['plans'];
const locate = (planId: string) => fieldLocator({ at: { planId } });

type Body = PlanDefinition & { planId?: string };

/** Weekly plans: which template on which weekday at which local time. */
export const planRoutes: FastifyPluginAsync<PlanRoutesOptions> = (app: FastifyInstance, { verifier, plans, templates, clientAccess }) => {
  app.addHook('onRequest', authenticate(verifier));
  app.removeContentTypeParser('text/plain');

  /** Every template an entry names must be one the plan's owner may use: 400 naming the entry otherwise. */
  async function assertTemplatesUsable(request: { body: Body }, identity: Parameters<typeof mayUseTemplate>[0]): Promise<void> {
    const ids = [...new Set(request.body.entries.map((e) => e.templateId))];
    const usable = new Set<string>();
    for (const id of ids) {
      const template = await templates.peek(id);
      if (template !== undefined && template.state.status === 'active' && mayUseTemplate(identity, template.owner, template.state)) usable.add(id);
    }
    const bad = request.body.entries.findIndex((e) => !usable.has(e.templateId));
    if (bad >= 0) throw validationFailed(`/body/entries/${bad}/templateId`, 'is not an active template you may use');
  }

  const definitionOf = (body: Body): PlanDefinition => {
    const { planId: _planId, ...definition } = body;
    return definition;
  };

  app.post<{ Body: Body }>(
    '/plans',
    { schema: { tags, summary: 'Create a weekly plan', headers: commandHeaders, body: createBody, response: { 201: { description: 'Created (or already so).', ...result }, ...problems } } },
    async (request, reply) => {
      const ctx = await commandContextOf(request, plans);
      await assertTemplatesUsable(request, ctx.identity);
      const planId = request.body.planId ?? ctx.newId('planId');
      const outcome = await plans.execute(ctx, {
        id: planId,
        action: 'create',
        locate: locate('/body/planId'),
        command: (metadata) => ({ type: 'CreatePlan', metadata, data: { planId, definition: definitionOf(request.body) } }),
      });
      return sendOutcome(reply, 201, { planId, ...outcome }, `${API_PREFIX}/plans/${planId}`);
    },
  );

  if (clientAccess !== undefined) {
    app.post<{ Params: { clientId: string }; Body: Body }>(
      '/clients/:clientId/plans',
      {
        schema: {
          tags: ['coaching'],
          summary: "Assign a weekly plan to a client (trainers; needs the client's consent to workouts)",
          description: 'Every template must be one the client may use (theirs or shared in the organisation), so the client sees what each session is.',
          headers: commandHeaders,
          params: { type: 'object', additionalProperties: false, required: ['clientId'], properties: { clientId: { type: 'string', pattern: UUID_PATTERN } } },
          body: createBody,
          response: { 201: { description: 'Assigned (or already so).', ...result }, ...problems },
        },
      },
      async (request, reply) => {
        const identity = requireIdentity(request);
        const client = await clientAccess.assertMayWriteFor(identity, request.params.clientId, 'workouts');
        await assertTemplatesUsable(request, { sub: client.subjectId, tenantId: client.tenantId, role: 'client', scopes: [] });
        const ctx = { ...(await commandContextOf(request, { assertMayWrite: () => undefined, context: plans.context })), onBehalfOf: client };
        const planId = request.body.planId ?? ctx.newId('planId');
        const outcome = await plans.execute(ctx, {
          id: planId,
          action: 'create',
          locate: locate('/body/planId'),
          command: (metadata) => ({ type: 'CreatePlan', metadata, data: { planId, definition: definitionOf(request.body) } }),
        });
        return sendOutcome(reply, 201, { planId, ...outcome });
      },
    );
  }

  app.put<{ Params: { planId: string }; Body: Body }>(
    '/plans/:planId',
    { schema: { tags, summary: 'Replace a weekly plan', headers: commandHeaders, params, body: reviseBody, response: { 200: { description: 'Revised (or already so).', ...result }, ...problems } } },
    async (request, reply) => {
      const { planId } = request.params;
      const ctx = await commandContextOf(request, plans);
      await assertTemplatesUsable(request, ctx.identity);
      const outcome = await plans.execute(ctx, {
        id: planId,
        action: 'change',
        locate: locate('/params/planId'),
        command: (metadata) => ({ type: 'RevisePlan', metadata, data: { planId, definition: definitionOf(request.body) } }),
      });
      return sendOutcome(reply, 200, { planId, ...outcome });
    },
  );

  app.delete<{ Params: { planId: string } }>(
    '/plans/:planId',
    {
      schema: { tags, summary: 'Archive a weekly plan', headers: commandHeaders, params, body: { type: 'object', additionalProperties: false, properties: {} }, response: { 200: { description: 'Archived (or already so).', ...result }, ...problems } },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { planId } = request.params;
      const ctx = await commandContextOf(request, plans);
      const outcome = await plans.execute(ctx, { id: planId, action: 'change', locate: locate('/params/planId'), command: (metadata) => ({ type: 'ArchivePlan', metadata, data: { planId } }) });
      return sendOutcome(reply, 200, { planId, ...outcome });
    },
  );
  return Promise.resolve();
};
