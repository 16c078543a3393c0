/**
 * Dev OIDC provider from the command line (development only).
 *   tsx packages/testing/src/devOidcCli.ts start [--port 4010] [--key-file .fitledger/dev-oidc-signing-key.json]
 *   tsx packages/testing/src/devOidcCli.ts token <user: alice, bob, coach, coach-nomfa, org-admin, auditor, researcher, platform-admin> [--issuer http://127.0.0.1:4010]
 * `token` prints only the access token, so `TOKEN=$(npm run -s token -- alice)` works.
 * Environment: FITLEDGER_OIDC_PORT, FITLEDGER_OIDC_ISSUER, FITLEDGER_OIDC_KEY_FILE.
 */
import { parseArgs } from 'node:util';
import { DEMO_PASSWORD, DEMO_USERS, getDevToken, startDevOidcProvider } from './devOidcProvider';

export const DEFAULT_DEV_OIDC_PORT = 4010;
export const DEFAULT_DEV_OIDC_KEY_FILE = '.fitledger/dev-oidc-signing-key.json';

function portFrom(value: string | undefined): number {
  const port = Number(value ?? DEFAULT_DEV_OIDC_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`FITLEDGER_OIDC_PORT / --port: not a port: ${value}`);
  return port;
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { port: { type: 'string' }, 'key-file': { type: 'string' }, issuer: { type: 'string' }, password: { type: 'string' } },
  });
  const [command, username] = positionals;
  if (command === 'start') {
    const provider = await startDevOidcProvider({
      port: portFrom(values.port ?? process.env['FITLEDGER_OIDC_PORT']),
      keyFile: values['key-file'] ?? process.env['FITLEDGER_OIDC_KEY_FILE'] ?? DEFAULT_DEV_OIDC_KEY_FILE,
    });
    console.log(`dev OIDC provider: issuer ${provider.issuer}, audience ${provider.audience}`);
    console.log(`demo users: ${Object.keys(DEMO_USERS).join(', ')}; password ${DEMO_PASSWORD}`);
    const stop = (): void => {
      provider.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }
  if (command === 'token' && username) {
    const issuer = values.issuer ?? process.env['FITLEDGER_OIDC_ISSUER'] ?? `http://127.0.0.1:${DEFAULT_DEV_OIDC_PORT}`;
    process.stdout.write(`${await getDevToken(issuer, username, values.password ?? DEMO_PASSWORD)}\n`);
    return;
  }
  console.error('usage: devOidcCli start [--port N] [--key-file PATH] | token <username> [--issuer URL] [--password P]');
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
