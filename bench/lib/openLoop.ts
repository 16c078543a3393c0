import http from 'node:http';

export interface RequestSpec {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface LoadResult {
  readonly sent: number;
  readonly completed: number;
  readonly errors: number;
  readonly statusCounts: Record<string, number>;
  readonly latenciesMs: number[];
  readonly durationS: number;
}

/**
 * Load on a server on loopback, bounded in count and time. `rate` undefined: closed loop with
 * `concurrency` workers back to back (saturation). `rate` set: open loop at that many requests per
 * second whatever the latency (latency then includes queueing, as a user would see it).
 */
export async function runLoad(options: {
  readonly port: number;
  readonly durationS: number;
  readonly concurrency: number;
  readonly rate?: number;
  readonly next: (i: number) => RequestSpec;
  readonly onResponse?: (i: number, status: number, body: string, latencyMs: number) => void;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let sent = 0;
  let completed = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationS * 1000;

  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const spec = options.next(i);
      const t0 = performance.now();
      sent++;
      const req = http.request(
        { host: '127.0.0.1', port: options.port, method: spec.method, path: spec.path, headers: spec.headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - t0;
            completed++;
            latencies.push(ms);
            const key = String(res.statusCode ?? 0);
            statusCounts[key] = (statusCounts[key] ?? 0) + 1;
            options.onResponse?.(i, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), ms);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      if (spec.body !== undefined) req.end(spec.body);
      else req.end();
    });

  if (options.rate === undefined) {
    let i = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < deadline) await one(i++);
      }),
    );
  } else {
    // Ticks of a few milliseconds; each sends every request that has come due since the last.
    const rate = options.rate;
    const inflight = new Set<Promise<void>>();
    let i = 0;
    while (performance.now() < deadline) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (i < due) {
        const p = one(i++);
        inflight.add(p);
        void p.then(() => inflight.delete(p));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(inflight);
  }
  agent.destroy();
  return { sent, completed, errors, statusCounts, latenciesMs: latencies, durationS: (performance.now() - started) / 1000 };
}
