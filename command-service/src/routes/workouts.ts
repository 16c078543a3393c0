import { authenticate, type TokenVerifier } from '@fitledger/auth';
import type { GeoLocation, SetInput, WorkoutCommand } from '@fitledger/domain';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { fieldLocator, validationFailed } from '../problems';
import { commandContextOf, emptyBodyIsEmptyObject, present, sendOutcome } from './commandRequest';
import type { CommandContext, CommandOutcome, CommandSpec, WorkoutCommandRunner } from '../workoutCommandRunner';
import {
  cancelWorkoutBody,
  cloneWorkoutBody,
  commandHeaders,
  commandProblems,
  commandResultSchema,
  completeWorkoutBody,
  correctSetBody,
  createWorkoutBody,
  deleteSetBody,
  logSetBody,
  startWorkoutBody,
  workoutIdParams,
  workoutSetParams,
} from './workoutSchemas';

/** Where the API lives; Location headers name resources under it. */
export const API_PREFIX = '/api/v1';

export interface WorkoutRoutesOptions {
  readonly verifier: TokenVerifier;
  readonly runner: WorkoutCommandRunner;
}

// Request shapes as the schemas guarantee them (validation runs before the handlers).
type CreateWorkoutBody = {
  workoutId?: string;
  start?: boolean;
  title?: string;
  plannedFor?: string;
  startedAt?: string;
  location?: GeoLocation;
  notes?: string;
  plannedSets?: SetInput[];
};
type StartWorkoutBody = { startedAt?: string; title?: string; location?: GeoLocation };
type LogSetBody = { setId?: string; occurredAt?: string; set: SetInput };
type CorrectSetBody = { set: SetInput; reason?: string };
type DeleteSetBody = { reason?: string };
type CompleteWorkoutBody = { completedAt?: string; perceivedExertion?: number; energyKcal?: number; notes?: string };
type CancelWorkoutBody = { cancelledAt?: string; reason?: string };
type CloneWorkoutBody = { workoutId?: string; title?: string; plannedFor?: string };
type WorkoutParams = { workoutId: string };
type SetParams = { workoutId: string; setId: string };

const created = { 201: { description: 'Recorded.', ...commandResultSchema }, ...commandProblems } as const;
const done = { 200: { description: 'Recorded (or already so: nothing new to record).', ...commandResultSchema }, ...commandProblems } as const;
const tags = ['workouts'];

const toDate = (value: string | undefined): Date | undefined => (value === undefined ? undefined : new Date(value));

/**
 * The workout command routes. Each is thin: the schema validated the request; the handler maps
 * it to a domain command and hands it to the runner, which loads, authorises, decides and appends.
 */
export const workoutRoutes: FastifyPluginAsync<WorkoutRoutesOptions> = (app: FastifyInstance, { verifier, runner }) => {
  // Every route in this plugin needs a caller; health probes and docs live outside it.
  app.addHook('onRequest', authenticate(verifier));
  // JSON only: fastify would otherwise hand text/plain bodies to the schema as strings.
  app.removeContentTypeParser('text/plain');

  const contextOf = (request: FastifyRequest): Promise<CommandContext> => commandContextOf(request, runner);
  const respond = (reply: FastifyReply, status: 200 | 201, result: { workoutId: string; setId?: string } & CommandOutcome, location?: string): FastifyReply =>
    sendOutcome(reply, status, result, location);

  const run = (ctx: CommandContext, spec: CommandSpec): Promise<CommandOutcome> => runner.execute(ctx, spec);

  app.post<{ Body: CreateWorkoutBody }>(
    '/workouts',
    {
      schema: {
        tags,
        summary: 'Plan a workout, or start a new one right away',
        headers: commandHeaders,
        body: createWorkoutBody,
        response: created,
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.start === true) {
        for (const field of ['plannedFor', 'plannedSets', 'notes'] as const) {
          if (body[field] !== undefined) throw validationFailed(`/body/${field}`, 'is only accepted when planning (without start: true)');
        }
      } else {
        if (body.startedAt !== undefined) throw validationFailed('/body/startedAt', 'is only accepted with start: true');
        for (const field of ['title', 'plannedFor'] as const) {
          if (body[field] === undefined) throw validationFailed(`/body/${field}`, `must have required property '${field}' to plan a workout`);
        }
      }
      const ctx = await contextOf(request);
      const workoutId = body.workoutId ?? ctx.newId('workoutId');
      const locate = fieldLocator({ at: { workoutId: '/body/workoutId' } });
      const outcome = await run(ctx, {
        workoutId,
        action: 'create',
        ifMatchTarget: true,
        locate,
        command: (metadata): WorkoutCommand =>
          body.start === true
            ? {
                type: 'StartWorkout',
                metadata,
                data: { workoutId, ...present({ startedAt: toDate(body.startedAt), title: body.title, location: body.location }) },
              }
            : {
                type: 'PlanWorkout',
                metadata,
                data: {
                  workoutId,
                  title: body.title as string,
                  plannedFor: new Date(body.plannedFor as string),
                  ...present({ location: body.location, notes: body.notes, plannedSets: body.plannedSets }),
                },
              },
      });
      return respond(reply, 201, { workoutId, ...outcome }, `${API_PREFIX}/workouts/${workoutId}`);
    },
  );

  app.post<{ Params: WorkoutParams; Body: StartWorkoutBody }>(
    '/workouts/:workoutId/start',
    {
      schema: { tags, summary: 'Start a planned workout', headers: commandHeaders, params: workoutIdParams, body: startWorkoutBody, response: done },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { workoutId } = request.params;
      const body = request.body;
      const ctx = await contextOf(request);
      const outcome = await run(ctx, {
        workoutId,
        action: 'change',
        ifMatchTarget: true,
        locate: fieldLocator({ at: { workoutId: '/params/workoutId' } }),
        command: (metadata) => ({
          type: 'StartWorkout',
          metadata,
          data: { workoutId, ...present({ startedAt: toDate(body.startedAt), title: body.title, location: body.location }) },
        }),
      });
      return respond(reply, 200, { workoutId, ...outcome });
    },
  );

  app.post<{ Params: WorkoutParams; Body: LogSetBody }>(
    '/workouts/:workoutId/sets',
    { schema: { tags, summary: 'Log a set', headers: commandHeaders, params: workoutIdParams, body: logSetBody, response: created } },
    async (request, reply) => {
      const { workoutId } = request.params;
      const body = request.body;
      const ctx = await contextOf(request);
      const setId = body.setId ?? ctx.newId('setId');
      const outcome = await run(ctx, {
        workoutId,
        action: 'change',
        ifMatchTarget: true,
        locate: fieldLocator({ at: { workoutId: '/params/workoutId', setId: '/body/setId', occurredAt: '/body/occurredAt' }, setFieldsUnder: '/body/set' }),
        command: (metadata) => ({
          type: 'LogSet',
          metadata,
          data: { workoutId, setId, set: body.set, ...present({ occurredAt: toDate(body.occurredAt) }) },
        }),
      });
      return respond(reply, 201, { workoutId, setId, ...outcome }, `${API_PREFIX}/workouts/${workoutId}/sets/${setId}`);
    },
  );

  app.put<{ Params: SetParams; Body: CorrectSetBody }>(
    '/workouts/:workoutId/sets/:setId',
    { schema: { tags, summary: 'Correct a set (replaces all its values)', headers: commandHeaders, params: workoutSetParams, body: correctSetBody, response: done } },
    async (request, reply) => {
      const { workoutId, setId } = request.params;
      const body = request.body;
      const ctx = await contextOf(request);
      const outcome = await run(ctx, {
        workoutId,
        action: 'change',
        ifMatchTarget: true,
        locate: fieldLocator({ at: { workoutId: '/params/workoutId', setId: '/params/setId', reason: '/body/reason' }, setFieldsUnder: '/body/set' }),
        command: (metadata) => ({ type: 'CorrectSet', metadata, data: { workoutId, setId, set: body.set, ...present({ reason: body.reason }) } }),
      });
      return respond(reply, 200, { workoutId, setId, ...outcome });
    },
  );

  app.delete<{ Params: SetParams; Body: DeleteSetBody }>(
    '/workouts/:workoutId/sets/:setId',
    {
      schema: { tags, summary: 'Delete a set', headers: commandHeaders, params: workoutSetParams, body: deleteSetBody, response: done },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { workoutId, setId } = request.params;
      const body = request.body;
      const ctx = await contextOf(request);
      const outcome = await run(ctx, {
        workoutId,
        action: 'change',
        ifMatchTarget: true,
        locate: fieldLocator({ at: { workoutId: '/params/workoutId', setId: '/params/setId' } }),
        command: (metadata) => ({ type: 'DeleteSet', metadata, data: { workoutId, setId, ...present({ reason: body.reason }) } }),
      });
      return respond(reply, 200, { workoutId, setId, ...outcome });
    },
  );

  app.post<{ Params: WorkoutParams; Body: CompleteWorkoutBody }>(
    '/workouts/:workoutId/complete',
    {
      schema: { tags, summary: 'Complete a workout', headers: commandHeaders, params: workoutIdParams, body: completeWorkoutBody, response: done },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { workoutId } = request.params;
      const body = request.body;
      const ctx = await contextOf(request);
      const outcome = await run(ctx, {
        workoutId,
        action: 'change',
        ifMatchTarget: true,
        locate: fieldLocator({ at: { workoutId: '/params/workoutId' } }),
        command: (metadata) => ({
          type: 'CompleteWorkout',
          metadata,
          data: { workoutId, ...present({ completedAt: toDate(body.completedAt), perceivedExertion: body.perceivedExertion, energyKcal: body.energyKcal, notes: body.notes }) },
        }),
      });
      return respond(reply, 200, { workoutId, ...outcome });
    },
  );

  app.post<{ Params: WorkoutParams; Body: CancelWorkoutBody }>(
    '/workouts/:workoutId/cancel',
    {
      schema: { tags, summary: 'Cancel a planned or running workout', headers: commandHeaders, params: workoutIdParams, body: cancelWorkoutBody, response: done },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { workoutId } = request.params;
      const body = request.body;
      const ctx = await contextOf(request);
      const outcome = await run(ctx, {
        workoutId,
        action: 'change',
        ifMatchTarget: true,
        locate: fieldLocator({ at: { workoutId: '/params/workoutId' } }),
        command: (metadata) => ({
          type: 'CancelWorkout',
          metadata,
          data: { workoutId, ...present({ cancelledAt: toDate(body.cancelledAt), reason: body.reason }) },
        }),
      });
      return respond(reply, 200, { workoutId, ...outcome });
    },
  );

  app.post<{ Params: WorkoutParams; Body: CloneWorkoutBody }>(
    '/workouts/:workoutId/clone',
    {
      schema: {
        tags,
        summary: 'Plan a new workout from an existing one',
        description: 'If-Match applies to the source workout (path); the answer names the new workout.',
        headers: commandHeaders,
        params: workoutIdParams,
        body: cloneWorkoutBody,
        response: created,
      },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const sourceWorkoutId = request.params.workoutId;
      const body = request.body;
      const ctx = await contextOf(request);
      const workoutId = body.workoutId ?? ctx.newId('workoutId');
      const outcome = await run(ctx, {
        workoutId,
        action: 'create',
        ifMatchTarget: false,
        locate: fieldLocator({ at: { workoutId: '/body/workoutId', sourceWorkoutId: '/params/workoutId' } }),
        command: async (metadata) => {
          const source = await runner.loadForChange(ctx, sourceWorkoutId, true);
          return {
            type: 'CloneWorkout',
            metadata,
            data: { workoutId, sourceWorkoutId, source: source.state, ...present({ title: body.title, plannedFor: toDate(body.plannedFor) }) },
          };
        },
      });
      return respond(reply, 201, { workoutId, ...outcome }, `${API_PREFIX}/workouts/${workoutId}`);
    },
  );

  return Promise.resolve();
};

