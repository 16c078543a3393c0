/**
 * The load generator runs in a child process so that it does not share an event loop with the
 * server under test (which runs in the benchmark's process, as `npm start` runs it).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runLoad, type LoadResult } from './openLoop';

export interface LoadJob {
  readonly port: number;
  readonly durationS: number;
  readonly concurrency: number;
  readonly rate?: number;
  readonly method: string;
  /** Requests cycle through these paths. */
  readonly paths: readonly string[];
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Collect `position` from 2xx JSON bodies with the absolute time the response arrived. */
  readonly collectPositions?: boolean;
}

export interface LoadJobResult extends LoadResult {
  readonly positions: { position: string; atMs: number }[];
  /** CPU time the load generator itself used (user + system), milliseconds. */
  readonly generatorCpuMs: number;
}

export function runLoadInWorker(job: LoadJob): Promise<LoadJobResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, FITLEDGER_LOAD_CHILD: '1' } });
    let result: LoadJobResult | undefined;
    child.once('message', (message: LoadJobResult) => {
      result = message;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`load generator exited with ${code}`));
    });
    child.send(job);
  });
}

if (process.env['FITLEDGER_LOAD_CHILD'] === '1' && process.send) {
  const job = await new Promise<LoadJob>((resolve) => process.once('message', (m: LoadJob) => resolve(m)));
  const positions: { position: string; atMs: number }[] = [];
  const cpuBefore = process.cpuUsage();
  const result = await runLoad({
    port: job.port,
    durationS: job.durationS,
    concurrency: job.concurrency,
    ...(job.rate !== undefined ? { rate: job.rate } : {}),
    next: (i) => ({ method: job.method, path: job.paths[i % job.paths.length] as string, headers: job.headers, ...(job.body !== undefined ? { body: job.body } : {}) }),
    ...(job.collectPositions
      ? {
          onResponse: (_i: number, status: number, body: string) => {
            if (status >= 200 && status < 300) {
              const position = (JSON.parse(body) as { position?: string }).position;
              if (position) positions.push({ position, atMs: performance.timeOrigin + performance.now() });
            }
          },
        }
      : {}),
  });
  const cpu = process.cpuUsage(cpuBefore);
  process.send({ ...result, positions, generatorCpuMs: (cpu.user + cpu.system) / 1000 } satisfies LoadJobResult, () => process.exit(0));
}
