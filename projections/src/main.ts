/**
 * The projections service on its own (`tsx projections/src/main.ts`): runs every read-model
 * projection, catch-up then live, until SIGTERM/SIGINT, then finishes the batch in flight.
 */
import { startTelemetry, telemetryConfigFromEnv, traceProjectionBatch } from '@fitledger/observability';
import { pino } from 'pino';
import { ProjectionsConfigError, loadProjectionsConfig, openProjectionsService } from './projectionsService';

let config;
try {
  config = loadProjectionsConfig(process.env);
} catch (error) {
  if (!(error instanceof ProjectionsConfigError)) throw error;
  process.stderr.write(`configuration error: ${error.message}\n`);
  process.exit(2);
}
const logger = pino({ name: 'projections' });
const telemetry = startTelemetry(telemetryConfigFromEnv('projections'));
const service = await openProjectionsService(config, { logger, traceBatch: traceProjectionBatch });
service.runner.start();

let closing = false;
const shutdown = (signal: string): void => {
  if (closing) return;
  closing = true;
  logger.info({ signal }, 'shutting down');
  service.close().then(() => telemetry.shutdown()).then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
