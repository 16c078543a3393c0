import { authenticate, requireIdentity, type TokenVerifier } from '@fitledger/auth';
import type { PlanWorkout } from '@fitledger/domain';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ClientAccessCheck } from '../clientAssignment';
import { fieldLocator } from '../problems';
import type { WorkoutCommandRunner } from '../workoutCommandRunner';
import { commandContextOf, present, sendOutcome } from './commandRequest';
import { assignWorkoutBody, commandHeaders, commandProblems, commandResultSchema, UUID_PATTERN } from './workoutSchemas';

type AssignBody = { workoutId?: string; title: string; plannedFor: string; location?: PlanWorkout['data']['location']; notes?: string; plannedSets?: PlanWorkout['data']['plannedSets'] };

/**
 * POST /clients/{clientId}/workouts: a trainer plans a workout in a client's record. Allowed by the
 * same policy as reading their workouts (active relationship, consent to `workouts`); the events
 * are the client's, written by the trainer on their behalf and citing the consent version.
 */
export const clientAssignmentRoutes: FastifyPluginAsync<{ verifier: TokenVerifier; workouts: WorkoutCommandRunner; access: ClientAccessCheck }> = (app: FastifyInstance, { verifier, workouts, access }) => {
  app.addHook('onRequest', authenticate(verifier));
  app.removeContentTypeParser('text/plain');
  app.post<{ Params: { clientId: string }; Body: AssignBody }>(
    '/clients/:clientId/workouts',
    {
      schema: {
        tags: ['coaching'],
        summary: "Assign a planned workout to a client (trainers; needs the client's consent to workouts)",
        headers: commandHeaders,
        params: { type: 'object', additionalProperties: false, required: ['clientId'], properties: { clientId: { type: 'string', pattern: UUID_PATTERN } } },
        body: assignWorkoutBody,
        response: { 201: { description: 'Assigned (or already so).', ...commandResultSchema }, ...commandProblems },
      },
    },
    async (request, reply) => {
      const identity = requireIdentity(request);
      const { clientId } = request.params;
      const body = request.body;
      const client = await access.assertMayWriteFor(identity, clientId, 'workouts');
      // The trainer's own write permission (scope) is checked; the owner-only role gate is not theirs here.
      const ctx = { ...(await commandContextOf(request, { assertMayWrite: () => undefined, context: workouts.context })), onBehalfOf: client };
      const workoutId = body.workoutId ?? ctx.newId('workoutId');
      const outcome = await workouts.execute(ctx, {
        workoutId,
        action: 'create',
        ifMatchTarget: true,
        locate: fieldLocator({ at: { workoutId: '/body/workoutId' } }),
        command: (metadata) => ({
          type: 'PlanWorkout',
          metadata,
          data: { workoutId, title: body.title, plannedFor: new Date(body.plannedFor), ...present({ location: body.location, notes: body.notes, plannedSets: body.plannedSets }) },
        }),
      });
      return sendOutcome(reply, 201, { workoutId, ...outcome });
    },
  );
  return Promise.resolve();
};
