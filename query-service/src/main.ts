/**
 * query-service on its own (`tsx query-service/src/main.ts`): config from the environment, a pg
 * LISTEN change source, listen; on SIGTERM/SIGINT closes feeds and connections, then exits.
 */
import { createLogger, startTelemetry, telemetryConfigFromEnv } from '@fitledger/observability';
import { loadQueryServiceConfig, QueryServiceConfigError } from './config';
import { startQueryService } from './queryService';

let config;
try {
  config = loadQueryServiceConfig(process.env);
} catch (error) {
  if (!(error instanceof QueryServiceConfigError)) throw error;
  process.stderr.write(`configuration error: ${error.message}\n`);
  process.exit(2);
}
const telemetry = startTelemetry(telemetryConfigFromEnv('query-service'));
const logger = createLogger({ level: config.logLevel, service: 'query-service' });
const service = await startQueryService(config, { logger });
logger.info({ url: service.url }, 'query-service listening');

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
