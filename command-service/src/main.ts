import { loadPseudonymSecret, PseudonymSecretConfigError } from '@fitledger/audit';
import { MfaPolicyConfigError, mfaPolicyFromEnv } from '@fitledger/auth';
import { startTelemetry, telemetryConfigFromEnv } from '@fitledger/observability';
import { ConfigError, loadConfig, startCommandService } from './app';

/**
 * Separate deployment of the command service: configuration from the environment (see
 * CommandServiceConfig), migrations, listen; closes everything on SIGTERM / SIGINT.
 */
async function main(): Promise<void> {
  let config;
  let mfa;
  let pseudonymSecret;
  try {
    config = loadConfig(process.env);
    // Privileged roles need a multi-factor login unless OIDC_MFA_ROLES=none.
    mfa = mfaPolicyFromEnv(process.env);
    pseudonymSecret = loadPseudonymSecret(process.env);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof MfaPolicyConfigError || error instanceof PseudonymSecretConfigError) {
      process.stderr.write(`command-service: configuration error: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const telemetry = startTelemetry(telemetryConfigFromEnv('command-service'));
  const service = await startCommandService(config, { ...(mfa ? { mfa } : {}), pseudonymSecret });
  service.app.log.info({ url: service.url }, 'command-service listening');
  const stop = (signal: NodeJS.Signals): void => {
    service.app.log.info({ signal }, 'command-service stopping');
    service.close().then(() => telemetry.shutdown()).then(
      () => process.exit(0),
      (error: unknown) => {
        service.app.log.error({ err: error }, 'command-service did not close cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`command-service: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
