/**
 * `npm run token -- <user>`: a real access token from the running dev OIDC provider (started by
 * `npm start`), through the authorization code + PKCE flow. Prints only the token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DEMO_USERS, getDevToken } from '@fitledger/testing/oidc';
import { localPaths } from './src/localState';

const username = process.argv[2] ?? 'alice';
if (!(username in DEMO_USERS)) {
  console.error(`unknown demo user "${username}"; one of: ${Object.keys(DEMO_USERS).join(', ')}`);
  process.exit(2);
}
const { runtimeFile } = localPaths();
const issuer = process.env['OIDC_ISSUER'] ?? (existsSync(runtimeFile) ? (JSON.parse(readFileSync(runtimeFile, 'utf8')) as { issuer: string }).issuer : undefined);
if (!issuer) {
  console.error('no running FitLedger found: start it with `npm start` (or set OIDC_ISSUER)');
  process.exit(2);
}
try {
  console.log(await getDevToken(issuer, username));
} catch (error) {
  console.error(`could not get a token from ${issuer}: ${error instanceof Error ? error.message : String(error)} — is \`npm start\` running?`);
  process.exit(1);
}
