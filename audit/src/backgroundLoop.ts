/** The subset of pino's logger the audit trail's loops use. They log sizes, positions, counts and error codes: never PHI. */
export interface AuditLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentAuditLogger: AuditLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** An error as logs may show it: name, code and message (no stack, no attached rows). */
export function loggableError(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: 'NonError', message: 'a non-Error value was thrown' };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
}

/**
 * A tick that runs every `intervalMs`, at once when woken, and never twice at the same time —
 * nor at the same time as work given to {@link BackgroundLoop.exclusive}. Stopping waits for the
 * running tick; no tick starts after it.
 */
export interface BackgroundLoop {
  /** Runs a tick as soon as the running one (if any) has finished; wakes during a wait coalesce. */
  wake(): void;
  /** Runs `work` when no tick runs, and no tick while it runs; resolves or rejects with it. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
  readonly stopped: boolean;
}

export interface BackgroundLoopOptions {
  readonly intervalMs: number;
  /**
   * The wait after a tick that reported work (resolved true), when shorter than `intervalMs`:
   * while work keeps coming, it is taken in small, frequent rounds instead of one burst per
   * interval; an idle loop still polls only every `intervalMs`.
   */
  readonly busyIntervalMs?: number;
  /** Resolves true when it found work (see `busyIntervalMs`). */
  readonly tick: () => Promise<boolean | void>;
  readonly onError: (error: unknown) => void;
}

export function backgroundLoop(options: BackgroundLoopOptions): BackgroundLoop {
  let chain: Promise<unknown> = Promise.resolve();
  let queued = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let busy = false;

  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = chain.then(work);
    chain = run.catch(() => undefined);
    return run;
  }

  function arm(): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(wake, busy && options.busyIntervalMs !== undefined ? Math.min(options.busyIntervalMs, options.intervalMs) : options.intervalMs);
    // The services keep the process alive; a loop someone forgot to stop must not.
    timer.unref();
  }

  function wake(): void {
    if (stopped || queued) return;
    queued = true;
    clearTimeout(timer);
    void exclusive(async () => {
      queued = false;
      if (stopped) return;
      try {
        busy = (await options.tick()) === true;
      } catch (error) {
        busy = false;
        options.onError(error);
      }
    }).finally(arm);
  }

  wake();
  return {
    wake,
    exclusive,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await chain;
    },
    get stopped() {
      return stopped;
    },
  };
}
