import { authenticate, type TokenVerifier } from '@fitledger/auth';
import { GOAL_LIMITS as L, type GoalTarget } from '@fitledger/domain';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { GoalCommandRunner } from '../goalCommandRunner';
import { fieldLocator } from '../problems';
import { commandContextOf, emptyBodyIsEmptyObject, present, sendOutcome } from './commandRequest';
import { API_PREFIX } from './workouts';
import { commandHeaders, UUID_PATTERN } from './workoutSchemas';

const num = (range: { min: number; max: number }, integer = false) => ({ type: integer ? 'integer' : 'number', minimum: range.min, maximum: range.max }) as const;
const kind = (name: string) => ({ type: 'string', const: name }) as const;
const date = { type: 'string', format: 'date', description: 'Local date YYYY-MM-DD (inclusive).' } as const;

export const goalTargetSchema = {
  type: 'object',
  required: ['kind'],
  properties: { kind: { type: 'string', enum: ['weight', 'reps_at_load', 'distance', 'calories', 'streak', 'workouts_per_week'] } },
  discriminator: { propertyName: 'kind' },
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['kind', 'weightKg', 'direction'], properties: { kind: kind('weight'), weightKg: num(L.weightKg), direction: { type: 'string', enum: ['at_most', 'at_least'] } } },
    {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'exerciseId', 'reps', 'loadKg'],
      properties: { kind: kind('reps_at_load'), exerciseId: { type: 'string', pattern: UUID_PATTERN }, reps: num(L.reps, true), loadKg: num(L.loadKg) },
    },
    { type: 'object', additionalProperties: false, required: ['kind', 'distanceM'], properties: { kind: kind('distance'), distanceM: num(L.distanceM) } },
    { type: 'object', additionalProperties: false, required: ['kind', 'kcal'], properties: { kind: kind('calories'), kcal: num(L.kcal) } },
    { type: 'object', additionalProperties: false, required: ['kind', 'days'], properties: { kind: kind('streak'), days: num(L.streakDays, true) } },
    { type: 'object', additionalProperties: false, required: ['kind', 'perWeek'], properties: { kind: kind('workouts_per_week'), perWeek: num(L.perWeek, true) } },
  ],
} as const;

const setGoalBody = {
  type: 'object',
  additionalProperties: false,
  required: ['target', 'startsOn', 'endsOn'],
  properties: { goalId: { type: 'string', pattern: UUID_PATTERN }, target: goalTargetSchema, startsOn: date, endsOn: date },
} as const;
const params = { type: 'object', additionalProperties: false, required: ['goalId'], properties: { goalId: { type: 'string', pattern: UUID_PATTERN } } } as const;
const result = { type: 'object', required: ['goalId', 'revision', 'position'], properties: { goalId: { type: 'string' }, revision: { type: 'integer' }, position: { type: 'string' } } } as const;
const problem = (description: string) => ({ description, $ref: 'Problem#' }) as const;
const problems = {
  400: problem('Malformed JSON, a wrong type, an unknown field or a value out of range; `errors` names the field.'),
  401: problem('No valid access token.'),
  403: problem('The token lacks the fitledger:write scope or the role may not keep goals.'),
  404: problem('No such goal (or not yours).'),
  409: problem('The goal kept changing concurrently; retry.'),
  412: problem('If-Match does not match the goal’s current revision.'),
  413: problem('The body is larger than the limit.'),
  415: problem('The body is not application/json.'),
  422: problem('A domain rule refused the command (`code` says which: the period, a decided goal…).'),
} as const;
const tags = ['goals'];

/** Goals: set one (target and period), cancel it. Achieved and missed are recorded by the goal evaluator. */
export const goalRoutes: FastifyPluginAsync<{ verifier: TokenVerifier; goals: GoalCommandRunner }> = (app: FastifyInstance, { verifier, goals }) => {
  app.addHook('onRequest', authenticate(verifier));
  app.removeContentTypeParser('text/plain');

  app.post<{ Body: { goalId?: string; target: GoalTarget; startsOn: string; endsOn: string } }>(
    '/goals',
    { schema: { tags, summary: 'Set a goal', headers: commandHeaders, body: setGoalBody, response: { 201: { description: 'Set (or already so).', ...result }, ...problems } } },
    async (request, reply) => {
      const body = request.body;
      const ctx = await commandContextOf(request, goals);
      const goalId = body.goalId ?? ctx.newId('goalId');
      const outcome = await goals.execute(ctx, {
        id: goalId,
        action: 'create',
        locate: fieldLocator({ at: { goalId: '/body/goalId' } }),
        command: (metadata) => ({ type: 'SetGoal', metadata, data: { goalId, target: body.target, startsOn: body.startsOn, endsOn: body.endsOn } }),
      });
      return sendOutcome(reply, 201, { goalId, ...outcome }, `${API_PREFIX}/goals/${goalId}`);
    },
  );

  app.delete<{ Params: { goalId: string }; Body: { reason?: string } }>(
    '/goals/:goalId',
    {
      schema: {
        tags,
        summary: 'Cancel a goal that is not decided yet',
        headers: commandHeaders,
        params,
        body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 500 } } },
        response: { 200: { description: 'Cancelled (or already so).', ...result }, ...problems },
      },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { goalId } = request.params;
      const ctx = await commandContextOf(request, goals);
      const outcome = await goals.execute(ctx, {
        id: goalId,
        action: 'change',
        locate: fieldLocator({ at: { goalId: '/params/goalId' } }),
        command: (metadata) => ({ type: 'CancelGoal', metadata, data: { goalId, ...present({ reason: request.body.reason }) } }),
      });
      return sendOutcome(reply, 200, { goalId, ...outcome });
    },
  );
  return Promise.resolve();
};
