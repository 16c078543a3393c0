import { authenticate, requireIdentity, type TokenVerifier } from '@fitledger/auth';
import { DomainError, type SetInput, type SetValues, type TemplateInput, type TemplateVisibility } from '@fitledger/domain';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { domainProblem, fieldLocator } from '../problems';
import { mayUseTemplate, type TemplateCommandRunner } from '../templateCommandRunner';
import type { WorkoutCommandRunner } from '../workoutCommandRunner';
import { commandContextOf, emptyBodyIsEmptyObject, present, sendOutcome } from './commandRequest';
import { archiveTemplateBody, createTemplateBody, instantiateTemplateBody, reviseTemplateBody, templateIdParams, templateResultSchema } from './templateSchemas';
import { API_PREFIX } from './workouts';
import { commandHeaders } from './workoutSchemas';

export interface TemplateRoutesOptions {
  readonly verifier: TokenVerifier;
  readonly templates: TemplateCommandRunner;
  readonly workouts: WorkoutCommandRunner;
}

type DefinitionBody = { name: string; notes?: string; plannedSets?: SetInput[]; visibility?: TemplateVisibility };
type CreateBody = DefinitionBody & { templateId?: string };
type ArchiveBody = { reason?: string };
type InstantiateBody = { workoutId?: string; plannedFor: string; title?: string };
type Params = { templateId: string };

const problem = (description: string) => ({ description, $ref: 'Problem#' }) as const;
const problems = {
  400: problem('Malformed JSON, a wrong type, an unknown field or a value out of range; `errors` names the field.'),
  401: problem('No valid access token.'),
  403: problem('The token lacks the fitledger:write scope or the role may not use templates.'),
  404: problem('No such template (or not one you may use or change).'),
  409: problem('The template kept changing concurrently; retry.'),
  412: problem('If-Match does not match the current revision.'),
  413: problem('The body is larger than the limit.'),
  415: problem('The body is not application/json.'),
  422: problem('A domain rule refused the command (`code` says which: an archived template, a taken id…), or the Idempotency-Key was reused.'),
} as const;
const tags = ['templates'];
const locate = (templateId: string) => fieldLocator({ at: { templateId, reason: '/body/reason', workoutId: '/body/workoutId', plannedFor: '/body/plannedFor', title: '/body/title' } });
const definitionOf = (body: DefinitionBody): TemplateInput => present({ name: body.name, notes: body.notes, plannedSets: body.plannedSets, visibility: body.visibility }) as TemplateInput;

/** A stored planned set back as input: the decider derives the canonical values again. */
function inputOf(set: SetValues): SetInput {
  const { loadKg: _loadKg, distanceM: _distanceM, ...input } = set;
  return input;
}

/** Templates: create, revise (next version), archive, and plan a workout from one (author, or organisation when shared). */
export const templateRoutes: FastifyPluginAsync<TemplateRoutesOptions> = (app: FastifyInstance, { verifier, templates, workouts }) => {
  app.addHook('onRequest', authenticate(verifier));
  app.removeContentTypeParser('text/plain');

  app.post<{ Body: CreateBody }>(
    '/templates',
    { schema: { tags, summary: 'Create a workout template (version 1)', headers: commandHeaders, body: createTemplateBody, response: { 201: { description: 'Created (or already so).', ...templateResultSchema }, ...problems } } },
    async (request, reply) => {
      const ctx = await commandContextOf(request, templates);
      const templateId = request.body.templateId ?? ctx.newId('templateId');
      const outcome = await templates.execute(ctx, {
        id: templateId,
        action: 'create',
        locate: locate('/body/templateId'),
        command: (metadata) => ({ type: 'CreateTemplate', metadata, data: { templateId, definition: definitionOf(request.body) } }),
      });
      return sendOutcome(reply, 201, { templateId, ...outcome }, `${API_PREFIX}/templates/${templateId}`);
    },
  );

  app.put<{ Params: Params; Body: DefinitionBody }>(
    '/templates/:templateId',
    {
      schema: { tags, summary: 'Revise a template: its next version', headers: commandHeaders, params: templateIdParams, body: reviseTemplateBody, response: { 200: { description: 'Revised (or already so).', ...templateResultSchema }, ...problems } },
    },
    async (request, reply) => {
      const { templateId } = request.params;
      const ctx = await commandContextOf(request, templates);
      const outcome = await templates.execute(ctx, {
        id: templateId,
        action: 'change',
        locate: locate('/params/templateId'),
        command: (metadata) => ({ type: 'ReviseTemplate', metadata, data: { templateId, definition: definitionOf(request.body) } }),
      });
      return sendOutcome(reply, 200, { templateId, ...outcome });
    },
  );

  app.delete<{ Params: Params; Body: ArchiveBody }>(
    '/templates/:templateId',
    {
      schema: { tags, summary: 'Archive a template', headers: commandHeaders, params: templateIdParams, body: archiveTemplateBody, response: { 200: { description: 'Archived (or already so).', ...templateResultSchema }, ...problems } },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { templateId } = request.params;
      const ctx = await commandContextOf(request, templates);
      const outcome = await templates.execute(ctx, {
        id: templateId,
        action: 'change',
        locate: locate('/params/templateId'),
        command: (metadata) => ({ type: 'ArchiveTemplate', metadata, data: { templateId, ...present({ reason: request.body.reason }) } }),
      });
      return sendOutcome(reply, 200, { templateId, ...outcome });
    },
  );

  app.post<{ Params: Params; Body: InstantiateBody }>(
    '/templates/:templateId/instantiate',
    {
      schema: {
        tags,
        summary: 'Plan a workout from the template’s current version (counts as a use)',
        headers: commandHeaders,
        params: templateIdParams,
        body: instantiateTemplateBody,
        response: { 201: { description: 'Planned (or already so).', ...templateResultSchema }, ...problems },
      },
    },
    async (request, reply) => {
      const { templateId } = request.params;
      const body = request.body;
      const identity = requireIdentity(request);
      const ctx = await commandContextOf(request, workouts);
      const template = await templates.peek(templateId);
      // Not one's own and not shared with one's organisation: the same 404 as a missing template.
      if (template === undefined || !mayUseTemplate(identity, template.owner, template.state)) throw templates.notFound();
      const { state } = template;
      if (state.status !== 'active') throw domainProblem(new DomainError('TEMPLATE_ARCHIVED', 'the template is archived', { field: 'templateId' }), locate('/params/templateId'));
      const workoutId = body.workoutId ?? ctx.newId('workoutId');
      const outcome = await workouts.execute(ctx, {
        workoutId,
        action: 'create',
        ifMatchTarget: true,
        locate: locate('/params/templateId'),
        command: (metadata) => ({
          type: 'PlanWorkout',
          metadata,
          data: {
            workoutId,
            title: body.title ?? state.definition.name,
            plannedFor: new Date(body.plannedFor),
            plannedSets: state.definition.plannedSets.map(inputOf),
            ...present({ notes: state.definition.notes }),
            fromTemplate: { templateId, version: state.version },
          },
        }),
      });
      return sendOutcome(reply, 201, { templateId, workoutId, templateVersion: state.version, ...outcome }, `${API_PREFIX}/workouts/${workoutId}`);
    },
  );
  return Promise.resolve();
};
