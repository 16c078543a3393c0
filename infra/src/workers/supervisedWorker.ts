/**
 * A long-running background task in its own worker thread, restarted when it dies.
 *
 * CPU-heavy background loops (the audit projector hashing every access record) must not share the
 * request thread's event loop: a batch blocking it for tens of milliseconds once a second is every
 * request's p95. The worker's entry speaks a three-message protocol with this supervisor:
 * the worker posts `{ type: 'ready' }` once running, the supervisor posts `{ type: 'stop' }`, the
 * worker posts `{ type: 'stopped' }` after its last batch and closes its connections.
 */
import { Worker } from 'node:worker_threads';

/** What the supervisor logs through (pino's logger fits). */
export interface SupervisorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type WorkerToSupervisor = { readonly type: 'ready' } | { readonly type: 'stopped' } | { readonly type: 'failed'; readonly error: { name: string; code?: string; message: string } };
export type SupervisorToWorker = { readonly type: 'stop' };
/** Messages of a worker's own protocol (anything without one of the types above). */
export interface WorkerMessage {
  readonly type: string;
}

const BOOT = new URL('./tsWorkerBoot.mjs', import.meta.url);

export interface SupervisedWorkerOptions {
  /** For logs: what runs in the worker. */
  readonly name: string;
  /** The worker's TypeScript entry module. */
  readonly entry: URL;
  /** Passed to the entry as `workerData.params` (structured-cloneable). */
  readonly params: unknown;
  readonly logger: SupervisorLogger;
  /** First restart delay after a crash (default 500 ms), doubling up to `maxRestartDelayMs` (default 30 s). */
  readonly restartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
  /** How long `stop()` waits for the worker's own clean stop before terminating it (default 30 s). */
  readonly stopTimeoutMs?: number;
  /** The worker's other messages (its own protocol), from whichever thread is current. */
  readonly onMessage?: (message: WorkerMessage) => void;
  /** Called when a thread ended (crash or stop), before any restart: e.g. to fail calls it will never answer. */
  readonly onExit?: () => void;
}

export interface SupervisedWorker {
  /** Crashes recovered from so far. */
  readonly restarts: number;
  /** The running thread (diagnostics and tests). */
  readonly thread: Worker;
  /** Posts a message of the worker's own protocol to the running thread; throws WorkerUnavailableError while none runs. */
  post(message: WorkerMessage): void;
  /** Asks the worker to finish its running work and stop; terminates it after the timeout. */
  stop(): Promise<void>;
}

/** Thrown by `post` while no thread runs (between a crash and its restart, or after stop). */
export class WorkerUnavailableError extends Error {
  readonly code = 'WORKER_UNAVAILABLE';
  constructor(name: string) {
    super(`the ${name} worker is not running (restarting or stopped)`);
    this.name = 'WorkerUnavailableError';
  }
}

/** A thread that ran this long before it died restarts after the first delay again. */
const STABLE_MS = 10_000;

/** Starts the worker and resolves once it reported ready; rejects when its first start fails. */
export async function startSupervisedWorker(options: SupervisedWorkerOptions): Promise<SupervisedWorker> {
  const baseDelay = options.restartDelayMs ?? 500;
  const maxDelay = options.maxRestartDelayMs ?? 30_000;
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let running = false;
  let restarts = 0;
  let delay = baseDelay;
  let restartTimer: NodeJS.Timeout | undefined;

  const scheduleRestart = (): void => {
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      try {
        current = spawn();
        current.ready.catch(() => undefined);
      } catch (error) {
        options.logger.error({ worker: options.name, err: { name: (error as Error).name, message: (error as Error).message } }, 'worker thread could not be created; retrying');
        scheduleRestart();
      }
    }, delay);
    delay = Math.min(delay * 2, maxDelay);
  };

  const spawn = (): { worker: Worker; ready: Promise<void> } => {
    const worker = new Worker(BOOT, { workerData: { entry: options.entry.href, params: options.params }, name: options.name });
    let readyAt: number | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerToSupervisor | WorkerMessage) => {
        if (message.type === 'ready') {
          readyAt = Date.now();
          running = true;
          resolve();
        } else if (message.type === 'failed') {
          const { error } = message as Extract<WorkerToSupervisor, { type: 'failed' }>;
          reject(Object.assign(new Error(`${options.name} failed to start: ${error.message}`), { code: error.code }));
        } else if (message.type !== 'stopped') {
          options.onMessage?.(message);
        }
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`${options.name} exited with code ${code} before it was ready`)));
    });
    worker.on('error', (error) => options.logger.error({ worker: options.name, err: { name: error.name, message: error.message } }, 'worker thread failed'));
    worker.once('exit', (code) => {
      running = false;
      options.onExit?.();
      if (stopping || current.worker !== worker) return;
      restarts++;
      // Back to the first delay only after a thread that stayed up: one that dies at once backs off.
      if (readyAt !== undefined && Date.now() - readyAt >= STABLE_MS) delay = baseDelay;
      options.logger.warn({ worker: options.name, exitCode: code, restartInMs: delay }, 'worker thread died; restarting it');
      scheduleRestart();
    });
    return { worker, ready };
  };

  let current = spawn();
  try {
    await current.ready;
  } catch (error) {
    stopping = true;
    await current.worker.terminate();
    throw error;
  }
  options.logger.info({ worker: options.name, threadId: current.worker.threadId }, 'worker thread started');

  const stopNow = async (): Promise<void> => {
    if (restartTimer !== undefined) clearTimeout(restartTimer);
    const worker = current.worker;
    if (worker.threadId === -1) return; // already exited
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' } satisfies SupervisorToWorker);
    const timer = setTimeout(() => {
      options.logger.warn({ worker: options.name }, 'worker thread did not stop in time; terminating it');
      void worker.terminate();
    }, options.stopTimeoutMs ?? 30_000);
    await exited;
    clearTimeout(timer);
  };

  return {
    get restarts() {
      return restarts;
    },
    get thread() {
      return current.worker;
    },
    post(message) {
      // A message to an exited thread is dropped silently: its sender would wait forever.
      if (stopping || !running) throw new WorkerUnavailableError(options.name);
      current.worker.postMessage(message);
    },
    stop() {
      stopping = true;
      stopped ??= stopNow();
      return stopped;
    },
  };
}
