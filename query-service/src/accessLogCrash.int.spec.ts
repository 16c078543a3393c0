import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { migrateReadModels } from '@fitledger/projections';
import { getDevToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONCURRENCY = 16;

/** The service as deployed (its own main), its URL once it listens. */
function startService(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`query-service exited (${code}) before listening: ${stderr.slice(-2000)}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'query-service listening' && entry.url) resolve({ child, url: entry.url });
      } catch {
        // not a log line
      }
    });
  });
}

// A record is durable before its response leaves: kill -9 the service under read load, and every
// response the client did receive has its access record.
describe('the access log under kill -9', () => {
  let database: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let oidc: DevOidcProvider;

  beforeAll(async () => {
    database = await testDatabase('qs_access_log_crash');
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    await migrateReadModels(pool);
    oidc = await startDevOidcProvider();
  });
  afterAll(async () => {
    await pool?.end();
    await oidc?.close();
    await database?.drop();
  });

  it('every response received before a SIGKILL under load has its access record (3 kills)', async () => {
    const token = await getDevToken(oidc.issuer, 'alice');
    const env = { DATABASE_URL: database.url, OIDC_ISSUER: oidc.issuer, OIDC_AUDIENCE: oidc.audience, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', AUDIT_PSEUDONYM_KEY: randomBytes(32).toString('base64'), RATE_LIMIT_ENABLED: 'false' };
    const received: string[] = [];
    for (let kill = 0; kill < 3; kill++) {
      const { child, url } = await startService(env);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      let stop = false;
      let answered = 0;
      const reader = async (): Promise<void> => {
        while (!stop) {
          try {
            const response = await fetch(`${url}/api/v1/workouts?limit=5`, { headers: { authorization: `Bearer ${token}` } });
            await response.arrayBuffer();
            if (response.status === 200) {
              received.push(String(response.headers.get('x-request-id')));
              answered += 1;
            }
          } catch {
            // the service is gone: stop reading
            return;
          }
        }
      };
      const readers = Array.from({ length: CONCURRENCY }, reader);
      // Kill in the middle of the load, with requests in flight.
      while (answered < 150 + kill * 50) await new Promise((resolve) => setTimeout(resolve, 5));
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      stop = true;
      await Promise.all(readers);
    }
    expect(received.length).toBeGreaterThanOrEqual(450);
    const { rows } = await pool.query<{ request_id: string }>('SELECT request_id FROM audit_access_records WHERE request_id = ANY($1::text[])', [received]);
    const recorded = new Set(rows.map((r) => r.request_id));
    expect(received.filter((id) => !recorded.has(id))).toEqual([]);
  });
});
