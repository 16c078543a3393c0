import { authenticate, type TokenVerifier } from '@fitledger/auth';
import type { UpdateProfile } from '@fitledger/domain';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ProfileCommandRunner } from '../profileCommandRunner';
import { commandContextOf, sendOutcome } from './commandRequest';
import { profileResultSchema, updateProfileBody } from './profileSchemas';
import { API_PREFIX } from './workouts';
import { commandHeaders } from './workoutSchemas';

export interface ProfileRoutesOptions {
  readonly verifier: TokenVerifier;
  readonly runner: ProfileCommandRunner;
}

type Body = UpdateProfile['data'];

const problem = (description: string) => ({ description, $ref: 'Problem#' }) as const;
const problems = {
  400: problem('Malformed JSON, a wrong type, an unknown field or a value out of range; `errors` names the field.'),
  401: problem('No valid access token.'),
  403: problem('The token lacks the fitledger:write scope or the role keeps no profile.'),
  409: problem('The profile kept changing concurrently; retry.'),
  410: problem('The subject was erased.'),
  412: problem('If-Match does not match the profile’s current revision.'),
  413: problem('The body is larger than the limit.'),
  415: problem('The body is not application/json.'),
  422: problem('A domain rule refused the update (`errors` names the field: an implausible height, an unknown time zone…), or the Idempotency-Key was reused.'),
} as const;

/** PUT /profile: the caller's own profile, created by the first PUT. There is no way to name anyone else's. */
export const profileRoutes: FastifyPluginAsync<ProfileRoutesOptions> = (app: FastifyInstance, { verifier, runner }) => {
  app.addHook('onRequest', authenticate(verifier));
  app.removeContentTypeParser('text/plain');

  app.put<{ Body: Body }>(
    '/profile',
    {
      schema: {
        tags: ['profile'],
        summary: 'Create or update the caller’s profile (partial update)',
        description:
          'Birth date, sex, height, weight, time zone, locale and week start, display units, notifications and visibility. Only changed fields are recorded; a time-zone change is recorded with the time it took effect.',
        headers: commandHeaders,
        body: updateProfileBody,
        response: { 200: { description: 'Updated (or already so).', ...profileResultSchema }, 201: { description: 'Created.', ...profileResultSchema }, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const ctx = await commandContextOf(request, runner);
      let created = false;
      const outcome = await runner.execute(ctx, {
        id: ctx.identity.sub,
        // "create" is create-or-change on the caller's own stream (owner-only policy).
        action: 'create',
        command: (metadata, state) => {
          created = state.status === 'none';
          return { type: 'UpdateProfile', metadata, data: body };
        },
      });
      return created ? sendOutcome(reply, 201, outcome, `${API_PREFIX}/profile`) : sendOutcome(reply, 200, outcome);
    },
  );
  return Promise.resolve();
};
