/**
 * query-service on its own (`tsx query-service/src/main.ts`): config from the environment, a pg
 * LISTEN change source, listen; on SIGTERM/SIGINT closes feeds and connections, then exits.
 */
import { loadPseudonymSecret, PseudonymSecretConfigError } from '@fitledger/audit';
import { BrowserLoginConfigError, browserLoginConfigFromEnv, MfaPolicyConfigError, mfaPolicyFromEnv } from '@fitledger/auth';
import { createLogger, startTelemetry, telemetryConfigFromEnv } from '@fitledger/observability';
import { loadQueryServiceConfig, QueryServiceConfigError } from './config';
import { startQueryService } from './queryService';

let config;
let auth;
try {
  config = loadQueryServiceConfig(process.env);
  // MFA for privileged roles unless OIDC_MFA_ROLES=none; browser login when OIDC_REDIRECT_URI is set.
  const mfa = mfaPolicyFromEnv(process.env);
  const browserLogin = browserLoginConfigFromEnv(process.env);
  auth = { ...(mfa ? { mfa } : {}), ...(browserLogin ? { browserLogin } : {}), pseudonymSecret: loadPseudonymSecret(process.env) };
} catch (error) {
  if (!(error instanceof QueryServiceConfigError || error instanceof BrowserLoginConfigError || error instanceof MfaPolicyConfigError || error instanceof PseudonymSecretConfigError)) throw error;
  process.stderr.write(`configuration error: ${error.message}\n`);
  process.exit(2);
}
const telemetry = startTelemetry(telemetryConfigFromEnv('query-service'));
const logger = createLogger({ level: config.logLevel, service: 'query-service' });
// With a key store configured (config.keyStore, as the command service has it) trainers read clients' data by consent.
const service = await startQueryService(config, { logger, ...auth });
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
