import { authenticate, type TokenVerifier } from '@fitledger/auth';
import type { ExerciseDefinitionInput } from '@fitledger/domain';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ExerciseCommandRunner } from '../exerciseCommandRunner';
import type { CommandOutcome } from '../streamCommandRunner';
import { commandContextOf, sendOutcome } from './commandRequest';
import { fieldLocator } from '../problems';
import {
  archiveExerciseBody,
  createExerciseBody,
  exerciseCommandHeaders,
  exerciseIdParams,
  exerciseProblems,
  exerciseResultSchema,
  reviseExerciseBody,
} from './exerciseSchemas';
import { API_PREFIX } from './workouts';

export interface ExerciseRoutesOptions {
  readonly verifier: TokenVerifier;
  readonly runner: ExerciseCommandRunner;
}

type CreateExerciseBody = ExerciseDefinitionInput & { exerciseId?: string };
type ArchiveExerciseBody = { reason?: string };
type ExerciseParams = { exerciseId: string };

const tags = ['exercises'];

/**
 * The custom-exercise command routes: create, revise (full replacement), archive. Thin like the
 * workout routes: the schema validated the request, the runner loads, authorises, decides, appends.
 */
export const exerciseRoutes: FastifyPluginAsync<ExerciseRoutesOptions> = (app: FastifyInstance, { verifier, runner }) => {
  app.addHook('onRequest', authenticate(verifier));
  app.removeContentTypeParser('text/plain');

  const contextOf = (request: FastifyRequest) => commandContextOf(request, runner);
  const respond = (reply: FastifyReply, status: 200 | 201, result: { exerciseId: string } & CommandOutcome, location?: string): FastifyReply =>
    sendOutcome(reply, status, result, location);

  const definitionOf = (body: ExerciseDefinitionInput): ExerciseDefinitionInput => {
    const { exerciseId: _exerciseId, ...definition } = body as CreateExerciseBody;
    return definition;
  };

  app.post<{ Body: CreateExerciseBody }>(
    '/exercises',
    {
      schema: {
        tags,
        summary: 'Create a custom exercise (private, or shared with your organisation)',
        headers: exerciseCommandHeaders,
        body: createExerciseBody,
        response: { 201: { description: 'Recorded (or already so).', ...exerciseResultSchema }, ...exerciseProblems },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const ctx = await contextOf(request);
      const exerciseId = body.exerciseId ?? ctx.newId('exerciseId');
      const outcome = await runner.execute(ctx, {
        id: exerciseId,
        action: 'create',
        locate: fieldLocator({ at: { exerciseId: '/body/exerciseId' } }),
        command: (metadata) => ({ type: 'CreateExercise', metadata, data: { exerciseId, definition: definitionOf(body) } }),
      });
      return respond(reply, 201, { exerciseId, ...outcome }, `${API_PREFIX}/exercises/${exerciseId}`);
    },
  );

  app.put<{ Params: ExerciseParams; Body: ExerciseDefinitionInput }>(
    '/exercises/:exerciseId',
    {
      schema: {
        tags,
        summary: 'Revise one of your custom exercises (replaces its whole definition)',
        headers: exerciseCommandHeaders,
        params: exerciseIdParams,
        body: reviseExerciseBody,
        response: { 200: { description: 'Recorded (or nothing changed).', ...exerciseResultSchema }, ...exerciseProblems },
      },
    },
    async (request, reply) => {
      const { exerciseId } = request.params;
      const ctx = await contextOf(request);
      const outcome = await runner.execute(ctx, {
        id: exerciseId,
        action: 'change',
        locate: fieldLocator({ at: { exerciseId: '/params/exerciseId' } }),
        command: (metadata) => ({ type: 'ReviseExercise', metadata, data: { exerciseId, definition: request.body } }),
      });
      return respond(reply, 200, { exerciseId, ...outcome });
    },
  );

  app.delete<{ Params: ExerciseParams; Body: ArchiveExerciseBody }>(
    '/exercises/:exerciseId',
    {
      schema: {
        tags,
        summary: 'Archive one of your custom exercises',
        description: 'It leaves search and suggestions; reading it by id still works (workouts name it).',
        headers: exerciseCommandHeaders,
        params: exerciseIdParams,
        body: archiveExerciseBody,
        response: { 200: { description: 'Archived (or already so).', ...exerciseResultSchema }, ...exerciseProblems },
      },
      preValidation: (request: FastifyRequest) => {
        if (request.body === undefined) request.body = {};
        return Promise.resolve();
      },
    },
    async (request, reply) => {
      const { exerciseId } = request.params;
      const { reason } = request.body;
      const ctx = await contextOf(request);
      const outcome = await runner.execute(ctx, {
        id: exerciseId,
        action: 'change',
        locate: fieldLocator({ at: { exerciseId: '/params/exerciseId' } }),
        command: (metadata) => ({ type: 'ArchiveExercise', metadata, data: { exerciseId, ...(reason === undefined ? {} : { reason }) } }),
      });
      return respond(reply, 200, { exerciseId, ...outcome });
    },
  );

  return Promise.resolve();
};
