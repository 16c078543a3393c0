import { authenticate, type TokenVerifier } from '@fitledger/auth';
import type { MeasurementInput } from '@fitledger/domain';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { BodyMeasurementCommandRunner } from '../bodyMeasurementCommandRunner';
import { fieldLocator } from '../problems';
import {
  correctMeasurementBody,
  deleteMeasurementBody,
  measurementIdParams,
  measurementResultSchema,
  recordMeasurementBody,
} from './bodyMeasurementSchemas';
import { commandContextOf, emptyBodyIsEmptyObject, present, sendOutcome } from './commandRequest';
import { API_PREFIX } from './workouts';
import { commandHeaders } from './workoutSchemas';

export interface BodyMeasurementRoutesOptions {
  readonly verifier: TokenVerifier;
  readonly runner: BodyMeasurementCommandRunner;
}

type RecordBody = { measurementId?: string; measurement: MeasurementInput; measuredAt?: string; note?: string };
type CorrectBody = { measurement: MeasurementInput; measuredAt?: string; note?: string; reason?: string };
type DeleteBody = { reason?: string };
type Params = { measurementId: string };

const problem = (description: string) => ({ description, $ref: 'Problem#' }) as const;
const problems = {
  400: problem('Malformed JSON, a wrong type, an unknown field or a value out of range; `errors` names the field.'),
  401: problem('No valid access token.'),
  403: problem('The token lacks the fitledger:write scope or the role may not record body measurements.'),
  404: problem('No such measurement (or not one of yours).'),
  409: problem('The measurement kept changing concurrently; retry.'),
  410: problem('The subject was erased.'),
  412: problem('If-Match does not match the measurement’s current revision.'),
  413: problem('The body is larger than the limit.'),
  415: problem('The body is not application/json.'),
  422: problem('A domain rule refused the command (`code` says which: an implausible value, a deleted measurement…), or the Idempotency-Key was reused.'),
} as const;
const tags = ['body metrics'];
const toDate = (value: string | undefined): Date | undefined => (value === undefined ? undefined : new Date(value));
/** Domain fields → where they were in the request. */
const at = (measurementId: string) =>
  fieldLocator({ at: { measurementId, measuredAt: '/body/measuredAt', note: '/body/note', reason: '/body/reason', measurement: '/body/measurement' } });

/** POST/PUT/DELETE /body-metrics: record, correct and delete one's own body measurements. */
export const bodyMeasurementRoutes: FastifyPluginAsync<BodyMeasurementRoutesOptions> = (app: FastifyInstance, { verifier, runner }) => {
  app.addHook('onRequest', authenticate(verifier));
  app.removeContentTypeParser('text/plain');

  app.post<{ Body: RecordBody }>(
    '/body-metrics',
    {
      schema: {
        tags,
        summary: 'Record a body measurement (weight, body fat, circumference, resting heart rate, blood pressure, sleep, hydration)',
        headers: commandHeaders,
        body: recordMeasurementBody,
        response: { 201: { description: 'Recorded (or already so).', ...measurementResultSchema }, ...problems },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const ctx = await commandContextOf(request, runner);
      const measurementId = body.measurementId ?? ctx.newId('measurementId');
      const outcome = await runner.execute(ctx, {
        id: measurementId,
        action: 'create',
        locate: at('/body/measurementId'),
        command: (metadata) => ({
          type: 'RecordBodyMeasurement',
          metadata,
          data: { measurementId, measurement: body.measurement, ...present({ measuredAt: toDate(body.measuredAt), note: body.note }) },
        }),
      });
      return sendOutcome(reply, 201, { measurementId, ...outcome }, `${API_PREFIX}/body-metrics/${measurementId}`);
    },
  );

  app.put<{ Params: Params; Body: CorrectBody }>(
    '/body-metrics/:measurementId',
    {
      schema: {
        tags,
        summary: 'Correct a body measurement (full replacement of its values)',
        headers: commandHeaders,
        params: measurementIdParams,
        body: correctMeasurementBody,
        response: { 200: { description: 'Corrected (or already so).', ...measurementResultSchema }, ...problems },
      },
    },
    async (request, reply) => {
      const { measurementId } = request.params;
      const body = request.body;
      const ctx = await commandContextOf(request, runner);
      const outcome = await runner.execute(ctx, {
        id: measurementId,
        action: 'change',
        locate: at('/params/measurementId'),
        command: (metadata) => ({
          type: 'CorrectBodyMeasurement',
          metadata,
          data: { measurementId, measurement: body.measurement, ...present({ measuredAt: toDate(body.measuredAt), note: body.note, reason: body.reason }) },
        }),
      });
      return sendOutcome(reply, 200, { measurementId, ...outcome });
    },
  );

  app.delete<{ Params: Params; Body: DeleteBody }>(
    '/body-metrics/:measurementId',
    {
      schema: {
        tags,
        summary: 'Delete a body measurement',
        headers: commandHeaders,
        params: measurementIdParams,
        body: deleteMeasurementBody,
        response: { 200: { description: 'Deleted (or already so).', ...measurementResultSchema }, ...problems },
      },
      preValidation: emptyBodyIsEmptyObject,
    },
    async (request, reply) => {
      const { measurementId } = request.params;
      const body = request.body;
      const ctx = await commandContextOf(request, runner);
      const outcome = await runner.execute(ctx, {
        id: measurementId,
        action: 'change',
        locate: at('/params/measurementId'),
        command: (metadata) => ({ type: 'DeleteBodyMeasurement', metadata, data: { measurementId, ...present({ reason: body.reason }) } }),
      });
      return sendOutcome(reply, 200, { measurementId, ...outcome });
    },
  );
  return Promise.resolve();
};
