/**
 * npm run audit:retention -- purge | hold --subject <id> | hold --all | release <holdId> | holds
 *   purge     removes access records older than AUDIT_RETENTION_YEARS (default and minimum 6) under no legal hold
 *   hold      suspends deletion for one subject (--subject, pseudonymised with AUDIT_PSEUDONYM_KEY) or the whole log (--all); --reason required
 *   release   ends a hold; holds lists them
 * Needs DATABASE_URL. Exit 0 done, 1 nothing to release, 2 usage or configuration error.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { hmacPseudonymiser } from '../accessLog/postgresAccessLog';
import { loadPseudonymSecret } from '../accessLog/pseudonymSecret';
import { listLegalHolds, placeLegalHold, purgeExpiredAccessRecords, releaseLegalHold, retentionYearsFromEnv } from '../accessLog/retention';

function usage(message: string): never {
  process.stderr.write(`audit:retention: ${message}\nusage: purge | hold (--subject <id> | --all) --reason <text> | release <holdId> | holds\n`);
  process.exit(2);
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { subject: { type: 'string' }, all: { type: 'boolean' }, reason: { type: 'string' } } });
const [command, argument] = positionals;
const url = process.env['DATABASE_URL'];
if (!url) usage('DATABASE_URL is not set');
let retentionYears = 6;
try {
  retentionYears = retentionYearsFromEnv(process.env);
} catch (error) {
  usage((error as Error).message);
}
const pool = new pg.Pool({ connectionString: url, max: 1 });
try {
  switch (command ?? '') {
    case 'purge':
      process.stdout.write(`purged ${await purgeExpiredAccessRecords(pool, retentionYears)} access records older than ${retentionYears} years\n`);
      break;
    case 'hold': {
      if (!values.reason) usage('--reason is required');
      if (values.all === (values.subject !== undefined)) usage('give exactly one of --subject and --all');
      const pseudonym = values.subject === undefined ? null : hmacPseudonymiser(loadPseudonymSecret(process.env))(values.subject);
      process.stdout.write(`${await placeLegalHold(pool, pseudonym, values.reason)}\n`);
      break;
    }
    case 'release':
      if (!argument) usage('release needs the hold id');
      if (!(await releaseLegalHold(pool, argument))) {
        process.stderr.write('audit:retention: no open hold with that id\n');
        process.exitCode = 1;
      }
      break;
    case 'holds':
      for (const hold of await listLegalHolds(pool)) process.stdout.write(`${JSON.stringify(hold)}\n`);
      break;
    default:
      usage(`unknown command ${command ?? '(none)'}`);
  }
} finally {
  await pool.end();
}
