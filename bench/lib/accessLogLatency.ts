/**
 * Read latency with and without the access log, in the same run: two query apps built the same way
 * over one database (the system as `npm start` starts it, with alice's demo data), differing only
 * in the access log; open loop at a fixed offered rate against each, alternating, several rounds.
 * Two reads: a page of workouts (the headline: a collection read, whose record is written while the
 * page is read) and one workout with its sets (a read of one record, recorded once its status is
 * known, after the read) — reported side by side.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { hmacPseudonymiser, PostgresAccessLog } from '@fitledger/audit';
import { createTokenVerifier } from '@fitledger/auth';
import { startSystem } from '@fitledger/infra';
import { buildApp as buildQueryApp, inProcessChangeSource } from '@fitledger/query-service';
import { getDevToken } from '@fitledger/testing/oidc';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { readdirSync, readFileSync } from 'node:fs';
import { runLoadInWorker } from './loadWorker';
import { median, percentile, type Row } from './report';

/** CPU seconds so far of this process (all threads) and of every postgres process of this machine, ended ones included (/proc; Linux). */
function cpuSeconds(): { node: number; postgres: number; machineBusy: number; machineIdle: number } {
  const usage = process.cpuUsage();
  let postgres = 0;
  const tick = 100; // USER_HZ
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
      const fields = stat.slice(close + 2).split(' ');
      // utime + stime, and cutime + cstime: the postmaster reaps its ended children (backends,
      // autovacuum workers), whose CPU would otherwise vanish from the sum when they exit.
      postgres += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / tick;
    } catch {
      // the process ended meanwhile
    }
  }
  const [user, nice, system, idle, iowait, irq, softirq, steal] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const machineBusy = ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / tick;
  const machineIdle = ((idle ?? 0) + (iowait ?? 0)) / tick;
  return { node: (usage.user + usage.system) / 1e6, postgres, machineBusy, machineIdle };
}

export interface AccessLogLatencyResult {
  readonly rows: Row[];
  readonly details: Record<string, unknown>;
}

export async function measureAccessLogLatency(options: { readonly rate: number; readonly seconds: number; readonly rounds: number }): Promise<AccessLogLatencyResult> {
  const system = await startSystem({ persistent: false, seed: true, logLevel: 'error', rateLimitEnv: { RATE_LIMIT_ENABLED: 'false' } });
  // As query-service has them: the access log on the shared pool, the read models on their own.
  const pool = new pg.Pool({ connectionString: system.databaseUrl, max: 10 });
  const readPools = [new pg.Pool({ connectionString: system.databaseUrl, max: 10 }), new pg.Pool({ connectionString: system.databaseUrl, max: 10 })];
  const durable = new PostgresAccessLog(pool);
  // Time each record's append (until committed), as the response waits for it.
  const appendMs: number[] = [];
  const accessLog = {
    append: async (record: Parameters<PostgresAccessLog['append']>[0]): Promise<void> => {
      const t0 = performance.now();
      await durable.append(record);
      appendMs.push(performance.now() - t0);
    },
    close: () => durable.close(),
  };
  const apps: FastifyInstance[] = [];
  try {
    const verifier = createTokenVerifier({ issuer: system.oidc.issuer, audience: system.oidc.audience });
    const build = (withLog: boolean): FastifyInstance =>
      buildQueryApp({
        db: readPools[withLog ? 1 : 0] as pg.Pool,
        dedicatedReadPool: true,
        verifier,
        changeSource: inProcessChangeSource(),
        rateLimits: { enabled: false, userPerMinute: 1, orgPerMinute: 1 },
        ...(withLog ? { accessLog: { log: accessLog, pseudonymise: hmacPseudonymiser(randomBytes(32)) } } : {}),
      });
    const ports: number[] = [];
    for (const withLog of [false, true]) {
      const app = build(withLog);
      apps.push(app);
      await app.listen({ port: 0, host: '127.0.0.1' });
      ports.push((app.server.address() as { port: number }).port);
    }
    const token = await getDevToken(system.oidc.issuer, 'alice');
    const listPath = '/api/v1/workouts?limit=20';
    const page = (await (apps[0] as FastifyInstance).inject({ method: 'GET', url: listPath, headers: { authorization: `Bearer ${token}` } })).json<{ items: { workoutId: string }[] }>();
    const detailPath = `/api/v1/workouts/${page.items[0]?.workoutId ?? 'none'}`;
    const job = (port: number, path: string) => runLoadInWorker({ port, durationS: options.seconds, concurrency: 128, rate: options.rate, method: 'GET', paths: [path], headers: { authorization: `Bearer ${token}` } });
    // Warm-up of both (JIT, connections, caches).
    for (const path of [listPath, detailPath]) {
      await job(ports[0] as number, path);
      await job(ports[1] as number, path);
    }
    const without: number[] = [];
    const withLog: number[] = [];
    const detailWithout: number[] = [];
    const detailWith: number[] = [];
    const statuses: Record<string, number>[] = [];
    // CPU per request on each side: this process (request thread, audit worker) and PostgreSQL.
    const cpu = [
      { node: 0, postgres: 0, requests: 0, busy: 0, idle: 0 },
      { node: 0, postgres: 0, requests: 0, busy: 0, idle: 0 },
    ];
    for (let round = 0; round < options.rounds; round++) {
      // Alternate the order per round so drift on a noisy machine does not favour one side.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const which of order) {
        const before = cpuSeconds();
        const result = await job(ports[which] as number, listPath);
        const after = cpuSeconds();
        const side = cpu[which] as { node: number; postgres: number; requests: number; busy: number; idle: number };
        side.busy += after.machineBusy - before.machineBusy;
        side.idle += after.machineIdle - before.machineIdle;
        side.node += after.node - before.node;
        side.postgres += after.postgres - before.postgres;
        side.requests += result.latenciesMs.length;
        statuses.push(result.statusCounts);
        (which === 0 ? without : withLog).push(percentile(result.latenciesMs, 95));
      }
      for (const which of order) {
        const result = await job(ports[which] as number, detailPath);
        statuses.push(result.statusCounts);
        (which === 0 ? detailWithout : detailWith).push(percentile(result.latenciesMs, 95));
      }
    }
    // The floor under any durable record: one commit (WAL flush) on this machine, sequential.
    const commitMs: number[] = [];
    const client = await pool.connect();
    try {
      await client.query('CREATE TABLE IF NOT EXISTS bench_commit_probe (n int)');
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        await client.query('INSERT INTO bench_commit_probe VALUES ($1)', [i]);
        commitMs.push(performance.now() - t0);
      }
    } finally {
      client.release();
    }
    const p95Without = median(without);
    const p95With = median(withLog);
    const added = p95With - p95Without;
    return {
      rows: [
        { metric: 'readP95MsWithoutAccessLog', value: p95Without, unit: 'ms' },
        { metric: 'readP95MsWithAccessLog', value: p95With, unit: 'ms' },
        { metric: 'accessLogAddedP95Ms', value: added, unit: 'ms', target: '<= 2', pass: added <= 2 },
        { metric: 'readP95MsWithoutAccessLogDetail', value: median(detailWithout), unit: 'ms' },
        { metric: 'readP95MsWithAccessLogDetail', value: median(detailWith), unit: 'ms' },
        { metric: 'accessLogAddedP95MsDetail', value: median(detailWith) - median(detailWithout), unit: 'ms' },
        ...cpu.map((side, i) => ({ metric: i === 0 ? 'nodeCpuMsPerReadWithoutAccessLog' : 'nodeCpuMsPerReadWithAccessLog', value: (side.node * 1000) / side.requests, unit: 'ms' })),
        ...cpu.map((side, i) => ({ metric: i === 0 ? 'postgresCpuMsPerReadWithoutAccessLog' : 'postgresCpuMsPerReadWithAccessLog', value: (side.postgres * 1000) / side.requests, unit: 'ms' })),
        ...cpu.map((side, i) => ({ metric: i === 0 ? 'machineBusyWithoutAccessLog' : 'machineBusyWithAccessLog', value: side.busy / (side.busy + side.idle), unit: 'share' })),
        { metric: 'accessRecordAppendP50Ms', value: percentile(appendMs, 50), unit: 'ms' },
        { metric: 'accessRecordAppendP95Ms', value: percentile(appendMs, 95), unit: 'ms' },
        { metric: 'durableCommitP50Ms', value: percentile(commitMs, 50), unit: 'ms' },
        { metric: 'durableCommitP95Ms', value: percentile(commitMs, 95), unit: 'ms' },
      ],
      details: {
        offeredPerSec: options.rate,
        seconds: options.seconds,
        rounds: options.rounds,
        p95MsWithout: without,
        p95MsWith: withLog,
        detailP95MsWithout: detailWithout,
        detailP95MsWith: detailWith,
        statuses,
        route: 'GET /api/v1/workouts?limit=20 (alice, demo data): accessLogAddedP95Ms and the CPU rows',
        detailRoute: 'GET /api/v1/workouts/{a workout of that page} (with its sets): the *Detail rows',
      },
    };
  } finally {
    for (const app of apps) await app.close();
    await accessLog.close();
    await pool.end();
    for (const readPool of readPools) await readPool.end();
    await system.close();
  }
}
