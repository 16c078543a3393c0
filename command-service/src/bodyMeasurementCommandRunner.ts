import {
  bodyMeasurementDecider,
  bodyMeasurementStreamId,
  type BodyMeasurementCommand,
  type BodyMeasurementEvent,
  type BodyMeasurementState,
} from '@fitledger/domain';
import { decideWorkoutAccess } from './accessPolicy';
import { createStreamCommandRunner, type StreamKind, type StreamRunnerDeps } from './streamCommandRunner';

/**
 * Body measurements: one short stream per measurement. Access is the workouts' owner-only
 * policy: a person records their own health data (clients and trainers, with fitledger:write).
 */
export const bodyMeasurementKind: StreamKind<BodyMeasurementState, BodyMeasurementCommand, BodyMeasurementEvent> = {
  noun: 'measurement',
  notFoundCode: 'MEASUREMENT_NOT_FOUND',
  alreadyExists: { code: 'MEASUREMENT_ALREADY_EXISTS', field: 'measurementId' },
  notFoundDomainCodes: new Set(['MEASUREMENT_NOT_FOUND']),
  roleNotAllowed: 'this role does not record body measurements',
  decider: bodyMeasurementDecider,
  streamId: bodyMeasurementStreamId,
  access: decideWorkoutAccess,
};

export function createBodyMeasurementCommandRunner(deps: StreamRunnerDeps) {
  return createStreamCommandRunner(bodyMeasurementKind, deps);
}

export type BodyMeasurementCommandRunner = ReturnType<typeof createBodyMeasurementCommandRunner>;
