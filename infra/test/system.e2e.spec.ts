import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@fitledger/testing';
import { getDevToken } from '@fitledger/testing/oidc';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

// The system started exactly as `npm start` starts it (infra/start.ts in a child process), used
// over HTTP and websockets as a client would, then stopped with SIGTERM and started again.

interface Runtime {
  issuer: string;
  commandUrl: string;
  queryUrl: string;
}
interface FeedMessage {
  cursor: string;
  kind: 'workout' | 'personal_record';
  op: 'upsert' | 'delete';
  entityId: string;
  payload: Record<string, unknown> | null;
}

const root = join(import.meta.dirname, '..', '..');
const stateDir = mkdtempSync(join(tmpdir(), 'fitledger-e2e-'));
let pgPort = 0;
let child: ChildProcess | undefined;
let output = '';

async function start(): Promise<Runtime> {
  pgPort ||= await freePort();
  rmSync(join(stateDir, 'runtime.json'), { force: true });
  output = '';
  child = spawn(process.execPath, ['--import', 'tsx', 'infra/start.ts'], {
    cwd: root,
    env: { ...process.env, FITLEDGER_STATE_DIR: stateDir, FITLEDGER_PG_PORT: String(pgPort), FITLEDGER_OIDC_PORT: '0', FITLEDGER_COMMAND_PORT: '0', FITLEDGER_QUERY_PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 180_000;
  while (!output.includes('FitLedger is running')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')) as Runtime;
}

async function stop(): Promise<number | null> {
  const proc = child;
  if (!proc || proc.exitCode !== null) return proc?.exitCode ?? null;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGTERM');
  return exited;
}

function openFeed(queryUrl: string, token: string, after?: string): { messages: FeedMessage[]; ready: Promise<void>; close(): Promise<void>; waitFor(pred: (m: FeedMessage[]) => boolean): Promise<void> } {
  const url = `${queryUrl.replace('http', 'ws')}/api/v1/feed${after ? `?after=${after}` : ''}`;
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const messages: FeedMessage[] = [];
  socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as FeedMessage));
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    messages,
    ready,
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      const closed = new Promise((r) => socket.once('close', r));
      socket.close(1000);
      await closed;
    },
    async waitFor(pred) {
      const deadline = Date.now() + 30_000;
      while (!pred(messages)) {
        if (Date.now() > deadline) throw new Error(`feed did not deliver in time; got ${JSON.stringify(messages.map((m) => [m.kind, m.op]))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

async function call(method: string, url: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const BENCH = '0190f5a2-0001-7000-8000-000000000002';
const prFor = (messages: FeedMessage[]): FeedMessage[] => messages.filter((m) => m.kind === 'personal_record' && m.entityId === BENCH);

describe('FitLedger started as npm start starts it', () => {
  afterAll(async () => {
    await stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('logs a workout over HTTP that appears in the query API and on the live feed with its PR, and recomputes the PR after a correction', async () => {
    const rt = await start();
    expect(output).toMatch(/Seeded \d+ demo workouts for alice/);
    const bob = await getDevToken(rt.issuer, 'bob');
    const alice = await getDevToken(rt.issuer, 'alice');
    // The rest of alice's demo data, read back once the projections have it.
    const goals = await eventually(() => call('GET', `${rt.queryUrl}/api/v1/goals`, alice), (r) => r.status === 200 && (r.body['items'] as unknown[]).length === 2);
    expect((goals.body['items'] as { status: string }[]).every((g) => g.status === 'active')).toBe(true);
    expect((await call('GET', `${rt.queryUrl}/api/v1/profile`, alice)).body).toMatchObject({ timeZone: 'Europe/Berlin' });
    expect(((await call('GET', `${rt.queryUrl}/api/v1/body-metrics?metric=weight`, alice)).body['items'] as unknown[]).length).toBeGreaterThan(5);
    // The demo gym: the coach, an active trainer there, reads alice's workouts under her consent; the org admin lists the members.
    const coach = await getDevToken(rt.issuer, 'coach');
    const aliceSub = decodeJwt(alice).sub ?? '';
    const coached = await eventually(() => call('GET', `${rt.queryUrl}/api/v1/clients/${aliceSub}/workouts?limit=5`, coach), (r) => r.status === 200);
    expect((coached.body['items'] as unknown[]).length).toBe(5);
    expect((await call('GET', `${rt.queryUrl}/api/v1/clients/${aliceSub}/body-metrics?metric=weight`, coach)).status).toBe(403);
    const tenant = String(decodeJwt(alice)['tenant_id']);
    const orgAdmin = await getDevToken(rt.issuer, 'org-admin');
    const members = await eventually(() => call('GET', `${rt.queryUrl}/api/v1/organisations/${tenant}/members`, orgAdmin), (r) => r.status === 200 && (r.body['items'] as unknown[]).length >= 6);
    expect((members.body['items'] as { role: string }[]).map((m) => m.role).sort()).toEqual(['auditor', 'client', 'client', 'org_admin', 'researcher', 'trainer']);
    expect(((await call('GET', `${rt.queryUrl}/api/v1/templates`, bob)).body['items'] as { name: string }[]).map((t) => t.name)).toContain('Strength A');
    // The audit trail runs (its worker thread): the auditor reads a signed checkpoint over the seeded
    // history, and the same checkpoints are published in the state directory, outside the database.
    const auditor = await getDevToken(rt.issuer, 'auditor');
    const checkpoint = await eventually(() => call('GET', `${rt.queryUrl}/api/v1/audit/checkpoints/latest`, auditor), (r) => r.status === 200 && Number(r.body['size']) > 0);
    expect(String(checkpoint.body['note'])).toMatch(/^fitledger\.local\/audit\n/);
    expect(readdirSync(join(stateDir, 'audit', 'checkpoints')).length).toBeGreaterThan(0);

    const feed = openFeed(rt.queryUrl, bob);
    await feed.ready;

    const created = await call('POST', `${rt.commandUrl}/api/v1/workouts`, bob, { start: true, title: 'Push day' });
    expect(created.status).toBe(201);
    const workoutId = created.body['workoutId'] as string;
    const sets: string[] = [];
    for (const [kg, reps] of [[60, 5], [70, 5], [80, 3]] as const) {
      const logged = await call('POST', `${rt.commandUrl}/api/v1/workouts/${workoutId}/sets`, bob, { set: { exerciseId: BENCH, reps, load: { value: kg, unit: 'kg' } } });
      expect(logged.status).toBe(201);
      sets.push(logged.body['setId'] as string);
    }

    const detail = await eventually(() => call('GET', `${rt.queryUrl}/api/v1/workouts/${workoutId}`, bob), (r) => r.status === 200 && (r.body['sets'] as unknown[]).length === 3);
    expect((detail.body['sets'] as { loadKg: number }[]).map((s) => s.loadKg)).toEqual([60, 70, 80]);
    const prs = await call('GET', `${rt.queryUrl}/api/v1/personal-records?exerciseId=${BENCH}`, bob);
    expect((prs.body['items'] as { oneRmKg: number; threeRmKg: number }[])[0]).toMatchObject({ oneRmKg: 80, threeRmKg: 80 });

    await feed.waitFor((m) => prFor(m).some((p) => p.payload?.['oneRmKg'] === 80));
    expect(feed.messages.some((m) => m.kind === 'workout' && m.entityId === workoutId)).toBe(true);

    // Correct the heaviest set: 80 kg → 85 kg; the PR is recomputed everywhere.
    const corrected = await call('PUT', `${rt.commandUrl}/api/v1/workouts/${workoutId}/sets/${sets[2]}`, bob, { set: { exerciseId: BENCH, reps: 3, load: { value: 85, unit: 'kg' } } });
    expect(corrected.status).toBe(200);
    await feed.waitFor((m) => prFor(m).some((p) => p.payload?.['oneRmKg'] === 85));
    const prsAfter = await eventually(() => call('GET', `${rt.queryUrl}/api/v1/personal-records?exerciseId=${BENCH}`, bob), (r) => (r.body['items'] as { oneRmKg: number }[])[0]?.oneRmKg === 85);
    expect((prsAfter.body['items'] as { oneRmKg: number }[])[0]?.oneRmKg).toBe(85);

    // Owners only: alice cannot read bob's workout (404), bob can (positive control above).
    expect((await call('GET', `${rt.queryUrl}/api/v1/workouts/${workoutId}`, alice)).status).toBe(404);
    expect(feed.messages.every((m) => m.kind !== 'workout' || m.entityId === workoutId)).toBe(true);

    // Resume: disconnect, keep writing, reconnect from the last cursor → each change once.
    const before = [...feed.messages];
    await feed.close();
    const cursor = (before[before.length - 1] as FeedMessage).cursor;
    expect((await call('POST', `${rt.commandUrl}/api/v1/workouts/${workoutId}/sets`, bob, { set: { exerciseId: BENCH, reps: 1, load: { value: 90, unit: 'kg' } } })).status).toBe(201);
    expect((await call('POST', `${rt.commandUrl}/api/v1/workouts/${workoutId}/complete`, bob, {})).status).toBe(200);
    const resumed = openFeed(rt.queryUrl, bob, cursor);
    await resumed.waitFor((m) => m.some((x) => x.kind === 'workout' && x.payload?.['status'] === 'completed'));
    const full = openFeed(rt.queryUrl, bob);
    await full.waitFor((m) => m.some((x) => x.kind === 'workout' && x.payload?.['status'] === 'completed'));
    await new Promise((r) => setTimeout(r, 300));
    const fullCursors = full.messages.map((m) => m.cursor);
    expect(new Set(fullCursors).size).toBe(fullCursors.length);
    const suffix = fullCursors.slice(fullCursors.indexOf(cursor) + 1);
    expect(resumed.messages.map((m) => m.cursor)).toEqual(suffix);
    expect(before.map((m) => m.cursor)).toEqual(fullCursors.slice(0, before.length));
    expect(prFor(resumed.messages).some((p) => p.payload?.['oneRmKg'] === 90)).toBe(true);
    await resumed.close();
    await full.close();
  });

  it('stops cleanly on SIGTERM and a second start reuses the data', async () => {
    expect(await stop()).toBe(0);
    const rt = await start();
    expect(output).toContain('Existing data reused');
    const alice = await getDevToken(rt.issuer, 'alice');
    const list = await call('GET', `${rt.queryUrl}/api/v1/workouts?limit=100`, alice);
    expect(list.status).toBe(200);
    expect((list.body['items'] as unknown[]).length).toBeGreaterThan(5);
    expect(existsSync(join(stateDir, 'master.key'))).toBe(true);
  });

  it('after keys:rotate-master promote a restart reads and extends the data wrapped under the old key (master.previous.key)', async () => {
    expect(await stop()).toBe(0);
    const oldKey = readFileSync(join(stateDir, 'master.key'), 'utf8');
    // As the runbook says for npm start: promote (the key is generated, no stage), restart, then rewrap.
    const promoted = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'packages/crypto/src/cli/rotateMasterKey.ts', 'promote'], { cwd: root, env: { ...process.env, FITLEDGER_STATE_DIR: stateDir } });
    expect(promoted.stdout).toContain('promoted master key');
    expect(readFileSync(join(stateDir, 'master.previous.key'), 'utf8')).toBe(oldKey);
    expect(readFileSync(join(stateDir, 'master.key'), 'utf8')).not.toBe(oldKey);

    const rt = await start();
    const alice = await getDevToken(rt.issuer, 'alice');
    const aliceSub = decodeJwt(alice).sub ?? '';
    // query-service: the coach's consent check decrypts alice's consent stream (her data key is still wrapped under the old key).
    const coach = await getDevToken(rt.issuer, 'coach');
    const coached = await call('GET', `${rt.queryUrl}/api/v1/clients/${aliceSub}/workouts?limit=5`, coach);
    expect(coached.status).toBe(200);
    expect((coached.body['items'] as unknown[]).length).toBe(5);
    // command-service encrypts under alice's existing data key, and the projections decrypt it.
    const created = await call('POST', `${rt.commandUrl}/api/v1/workouts`, alice, { start: true, title: 'After the rotation' });
    expect(created.status).toBe(201);
    const workoutId = created.body['workoutId'] as string;
    const logged = await call('POST', `${rt.commandUrl}/api/v1/workouts/${workoutId}/sets`, alice, { set: { exerciseId: BENCH, reps: 5, load: { value: 40, unit: 'kg' } } });
    expect(logged.status).toBe(201);
    const detail = await eventually(() => call('GET', `${rt.queryUrl}/api/v1/workouts/${workoutId}`, alice), (r) => r.status === 200 && (r.body['sets'] as unknown[]).length === 1);
    expect(detail.body).toMatchObject({ title: 'After the rotation' });
  });
});
