/**
 * npm run bench:http — the system as `npm start` runs it (one process, durable embedded PostgreSQL)
 * against a fastify hello-world in the same process, load from a child process, real tokens:
 *  1. saturation: hello world vs the log-set command (closed loop), each at 32, 64 and 128
 *     connections; the best concurrency's median over the rounds is its ceiling → commandsPerSec;
 *     commandsToHelloWorldRatio is ceiling over ceiling (the two may be at different concurrencies;
 *     the JSON also has the ratio at the command's best concurrency and each concurrency's runs)
 *  2. open loop at 1,000 log-set commands/s                            → commandP95MsAt1k
 *  3. append → visible in the read model during (2)                    → projectionLagP99Ms
 *  4. rebuild of the workouts projection from position 0, three times  → rebuildEventsPerSec (median)
 * `BENCH_QUICK=1` shortens every phase.
 * Rate limiting is off (RATE_LIMIT_ENABLED=false): the load comes from one user (alice) at thousands
 * of requests/s, far over the per-user budget (RATE_LIMIT_USER_PER_MINUTE) `npm start` enforces.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { getDevToken } from '@fitledger/testing/oidc';
import { encodePgPosition } from '@fitledger/event-store';
import { startSystem } from '@fitledger/infra';
import { median, percentile, report, type Row } from './lib/report';
import { runLoadInWorker, type LoadJobResult } from './lib/loadWorker';

const quick = process.env['BENCH_QUICK'] === '1';
const SATURATION_S = quick ? 3 : 10;
const OPEN_LOOP_S = quick ? 3 : 15;
const ROUNDS = quick ? 1 : 3;
const REBUILDS = quick ? 1 : 3;
/**
 * Closed-loop connections per saturation run. A ceiling is the best of these: at 32 connections
 * the command path left the CPU a sixth idle (each command waits for its group commit's fsync, so
 * 32 in flight bounded the rate, not the machine), and its batches — group commit, projection
 * transactions — grow with the load, so more connections also cost less per command.
 */
const CONCURRENCIES = [32, 64, 128] as const;
/**
 * Workouts each load run spreads its sets over, round robin: every run (each saturation run and each
 * open-loop phase) logs into 2,000 workouts started for it, so every run meets sessions of the same
 * size (about 15–20 sets by its end) whatever ran before it. Shared workouts grew past 100 sets
 * over the nine saturation runs, and the per-command fold and the projection's workout snapshot
 * (both linear in a workout's sets) made each run slower than the one before.
 */
const WORKOUTS = 2_000;
/** An offered rate well below this machine's saturation (see commandsPerSec), for latency and lag without queueing. */
const SUSTAINABLE_RATE = 250;
const BENCH_EXERCISE = '0190f5a2-0001-7000-8000-000000000002';

const ok2xx = (r: LoadJobResult): number => Object.entries(r.statusCounts).filter(([s]) => s.startsWith('2')).reduce((n, [, c]) => n + c, 0);

async function main(): Promise<void> {
  const system = await startSystem({ persistent: false, seed: false, logLevel: 'error', rateLimitEnv: { RATE_LIMIT_ENABLED: 'false' } });
  const hello = Fastify({ logger: false });
  hello.get('/hello', () => ({ hello: 'world' }));
  await hello.listen({ port: 0, host: '127.0.0.1' });
  const helloPort = (hello.server.address() as { port: number }).port;
  const commandPort = Number(new URL(system.command.url).port);
  try {
    const token = await getDevToken(system.oidc.issuer, 'alice');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    /** Starts WORKOUTS workouts for one load run; their set paths. */
    const freshSetPaths = async (): Promise<string[]> => {
      const paths: string[] = [];
      let created = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (created < WORKOUTS) {
            const i = created++;
            const res = await fetch(`${system.command.url}/api/v1/workouts`, { method: 'POST', headers: auth, body: JSON.stringify({ start: true, title: `bench ${i}` }) });
            if (res.status !== 201) throw new Error(`starting workout ${i}: HTTP ${res.status}`);
            paths.push(`/api/v1/workouts/${((await res.json()) as { workoutId: string }).workoutId}/sets`);
          }
        }),
      );
      return paths;
    };
    /** Lets the projection finish what the previous phase left queued, so each phase starts from an idle system. */
    const drain = async (): Promise<void> => {
      const pool = new pg.Pool({ connectionString: system.databaseUrl, max: 1 });
      const row = (await pool.query<{ tx: string; seq: string }>('SELECT transaction_id::text AS tx, seq::text AS seq FROM es_events ORDER BY transaction_id DESC, seq DESC LIMIT 1')).rows[0];
      await pool.end();
      if (row) await system.projections.runner.waitForPosition('workouts', encodePgPosition(row.tx, row.seq));
    };
    const setBody = JSON.stringify({ set: { exerciseId: BENCH_EXERCISE, reps: 5, load: { value: 100, unit: 'kg' }, rpe: 8 } });

    // 1. saturation, alternating order per round, at each concurrency
    const helloRates = new Map<number, number[]>(CONCURRENCIES.map((c) => [c, []]));
    const commandRates = new Map<number, number[]>(CONCURRENCIES.map((c) => [c, []]));
    const commandStatuses = new Map<number, Record<string, number>>();
    const generatorCpuMs = new Map<number, { hello: number[]; command: number[] }>(CONCURRENCIES.map((c) => [c, { hello: [], command: [] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const concurrency of CONCURRENCIES) {
        const runHello = (): Promise<LoadJobResult> => runLoadInWorker({ port: helloPort, durationS: SATURATION_S, concurrency, method: 'GET', paths: ['/hello'], headers: {} });
        const setPaths = await freshSetPaths();
        await drain(); // the starts of those workouts projected: every run begins from an idle system
        const runCommand = (): Promise<LoadJobResult> => runLoadInWorker({ port: commandPort, durationS: SATURATION_S, concurrency, method: 'POST', paths: setPaths, headers: auth, body: setBody });
        let h: LoadJobResult;
        let c: LoadJobResult;
        if (round % 2 === 0) {
          h = await runHello();
          c = await runCommand();
        } else {
          c = await runCommand();
          h = await runHello();
        }
        const helloPerSec = ok2xx(h) / h.durationS;
        const commandPerSec = ok2xx(c) / c.durationS;
        helloRates.get(concurrency)?.push(helloPerSec);
        commandRates.get(concurrency)?.push(commandPerSec);
        commandStatuses.set(concurrency, c.statusCounts);
        generatorCpuMs.get(concurrency)?.hello.push(Math.round(h.generatorCpuMs));
        generatorCpuMs.get(concurrency)?.command.push(Math.round(c.generatorCpuMs));
        console.log(`round ${round}, ${concurrency} connections: hello ${helloPerSec.toFixed(0)}/s, log-set ${commandPerSec.toFixed(0)}/s (statuses ${JSON.stringify(c.statusCounts)})`);
      }
    }
    // Each side's ceiling: the concurrency with the best median over the rounds.
    const best = (rates: Map<number, number[]>): { concurrency: number; perSec: number } =>
      [...rates].map(([concurrency, r]) => ({ concurrency, perSec: median(r) })).reduce((a, b) => (b.perSec > a.perSec ? b : a));
    const helloBest = best(helloRates);
    const commandBest = best(commandRates);

    // 2 + 3. open loop at 1,000/s (and at a rate this machine sustains), with projection lag from the runner's commit notifications
    const openLoop = async (rate: number, seconds: number, setPaths: readonly string[]): Promise<{ open: LoadJobResult; p95: number; lagP99: number; lagP50: number; lagSamples: number }> => {
      const commits: { position: string; atMs: number }[] = [];
      // The workouts projection's commits only: what "visible in the read model" means for a logged
      // set. Every projection announces its own progress, and the others (which skip set events)
      // would otherwise make the lag look like theirs.
      const unsubscribe = system.projections.runner.addCommitListener(({ projection, position }) => {
        if (projection === 'workouts') commits.push({ position, atMs: performance.timeOrigin + performance.now() });
      });
      const open = await runLoadInWorker({ port: commandPort, durationS: seconds, concurrency: 256, rate, method: 'POST', paths: setPaths, headers: auth, body: setBody, collectPositions: true });
      await new Promise((r) => setTimeout(r, 1_000));
      unsubscribe();
      const lags: number[] = [];
      let k = 0;
      const sortedCommits = [...commits].sort((a, b) => (a.position < b.position ? -1 : 1));
      for (const response of [...open.positions].sort((a, b) => (a.position < b.position ? -1 : 1))) {
        while (k < sortedCommits.length && (sortedCommits[k] as { position: string }).position < response.position) k++;
        const commit = sortedCommits[k];
        if (commit) lags.push(Math.max(0, commit.atMs - response.atMs));
      }
      const result = {
        open,
        p95: percentile(open.latenciesMs, 95),
        lagP99: lags.length > 0 ? percentile(lags, 99) : Number.NaN,
        lagP50: lags.length > 0 ? percentile(lags, 50) : Number.NaN,
        lagSamples: lags.length,
      };
      console.log(
        `open loop: offered ${(open.sent / open.durationS).toFixed(0)}/s, completed ${ok2xx(open)} ok, p95 ${result.p95.toFixed(1)} ms, lag p50 ${result.lagP50.toFixed(1)} / p99 ${result.lagP99.toFixed(1)} ms over ${lags.length} appends`,
      );
      return result;
    };
    const pathsAtTarget = await freshSetPaths();
    await drain();
    const atTarget = await openLoop(1_000, OPEN_LOOP_S, pathsAtTarget);
    const { open } = atTarget;
    const p95 = atTarget.p95;
    const lagP99 = atTarget.lagP99;
    // The same measurement below saturation: what the pipeline adds when requests do not queue.
    const pathsSustainable = await freshSetPaths();
    await drain();
    const sustainable = await openLoop(SUSTAINABLE_RATE, OPEN_LOOP_S, pathsSustainable);

    // 4. rebuild from position 0
    const pool = new pg.Pool({ connectionString: system.databaseUrl, max: 1 });
    const events = Number(((await pool.query('SELECT count(*) AS n FROM es_events')).rows[0] as { n: string }).n);
    const tableBytes = Object.fromEntries(
      (await pool.query<{ t: string; b: string }>(`SELECT relname AS t, pg_total_relation_size(oid)::text AS b FROM pg_class WHERE relname IN ('es_events','rm_feed_changes','rm_workouts','rm_workout_sets')`)).rows.map((r) => [r.t, Number(r.b)]),
    );
    console.log('table sizes (bytes):', tableBytes);
    await pool.end();
    // Three rebuilds (each resets the projection and replays everything): the median counts.
    const rebuildRates: number[] = [];
    for (let i = 0; i < REBUILDS; i++) {
      const t0 = performance.now();
      await system.projections.runner.rebuild('workouts');
      const rebuildS = (performance.now() - t0) / 1000;
      rebuildRates.push(events / rebuildS);
      console.log(`rebuild ${i}: ${events} events in ${rebuildS.toFixed(2)} s = ${Math.round(events / rebuildS)} events/s`);
    }
    const rebuildEventsPerSec = median(rebuildRates);

    const commandsPerSec = commandBest.perSec;
    // Ceiling over ceiling (the two may be at different concurrencies), and the like-for-like ratio at the command's best concurrency.
    const ratio = commandBest.perSec / helloBest.perSec;
    const ratioSameConcurrency = commandBest.perSec / median(helloRates.get(commandBest.concurrency) ?? []);
    const rows: Row[] = [
      { metric: 'helloWorldPerSec', value: Math.round(helloBest.perSec), unit: 'req/s' },
      { metric: 'commandsPerSec', value: Math.round(commandsPerSec), unit: 'cmd/s', target: '>= 3,000', pass: commandsPerSec >= 3_000 },
      { metric: 'commandsToHelloWorldRatio', value: ratio, unit: 'ratio' },
      { metric: 'commandsToHelloWorldRatioSameConcurrency', value: ratioSameConcurrency, unit: 'ratio' },
      // The earlier, single-concurrency measure (32 connections), for comparison across runs.
      { metric: 'commandsPerSecAt32', value: Math.round(median(commandRates.get(32) ?? [])), unit: 'cmd/s' },
      { metric: 'commandP95MsAt1k', value: p95, unit: 'ms', target: '< 25', pass: p95 < 25 },
      { metric: 'projectionLagP99Ms', value: lagP99, unit: 'ms', target: '< 100', pass: lagP99 < 100 },
      { metric: `commandP95MsAt${SUSTAINABLE_RATE}`, value: sustainable.p95, unit: 'ms' },
      { metric: `projectionLagP99MsAt${SUSTAINABLE_RATE}`, value: sustainable.lagP99, unit: 'ms' },
      { metric: 'rebuildEventsPerSec', value: Math.round(rebuildEventsPerSec), unit: 'events/s', target: '>= 20,000', pass: rebuildEventsPerSec >= 20_000 },
    ];
    const settings = await (async () => {
      const p = new pg.Pool({ connectionString: system.databaseUrl, max: 1 });
      const r = await p.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','shared_buffers','server_version')`);
      await p.end();
      return Object.fromEntries(r.rows.map((x) => [x.name, x.setting]));
    })();
    report('http', rows, {
      postgres: settings,
      volumes: {
        saturationSecondsPerSide: SATURATION_S,
        rounds: ROUNDS,
        concurrencies: CONCURRENCIES,
        saturation: CONCURRENCIES.map((c) => ({
          concurrency: c,
          helloPerSecMedian: Math.round(median(helloRates.get(c) ?? [])),
          commandsPerSecMedian: Math.round(median(commandRates.get(c) ?? [])),
          helloPerSecRuns: (helloRates.get(c) ?? []).map(Math.round),
          commandsPerSecRuns: (commandRates.get(c) ?? []).map(Math.round),
          commandStatuses: commandStatuses.get(c),
          // CPU the load generator (a child process) used per run: it shares the two cores with the system.
          generatorCpuMsHelloRuns: generatorCpuMs.get(c)?.hello,
          generatorCpuMsCommandRuns: generatorCpuMs.get(c)?.command,
        })),
        helloCeilingConcurrency: helloBest.concurrency,
        commandCeilingConcurrency: commandBest.concurrency,
        workoutsPerRun: WORKOUTS,
        openLoop: { offeredPerSec: 1_000, seconds: OPEN_LOOP_S, sent: open.sent, statuses: open.statusCounts },
        sustainableOpenLoop: { offeredPerSec: SUSTAINABLE_RATE, seconds: OPEN_LOOP_S, sent: sustainable.open.sent, statuses: sustainable.open.statusCounts, lagP50Ms: sustainable.lagP50, lagSamples: sustainable.lagSamples },
        lagSamples: atTarget.lagSamples,
        rebuildEvents: events,
        rebuildEventsPerSecRuns: rebuildRates.map((r) => Math.round(r)),
        tableBytes,
      },
      notes: [
        'one process as npm start runs it; load generator in a child process on the same two cores; tokens from the dev OIDC provider (code + PKCE)',
        'commandsToHelloWorldRatio: command ceiling / hello-world ceiling, each the best concurrency median (helloCeilingConcurrency, commandCeilingConcurrency); commandsToHelloWorldRatioSameConcurrency: both at commandCeilingConcurrency',
        'each saturation and open-loop run logs into workoutsPerRun workouts started for it (about 15-20 sets each by its end)',
      ],
    });
  } finally {
    await hello.close();
    await system.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
