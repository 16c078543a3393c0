import type { CommittedBatch, CommitListener, ProjectionRunner } from '@fitledger/projections';
import type { ProjectionsCall, ProjectionsEvent, ProjectionsWorkerParams } from './projectionsWorker';
import { startSupervisedWorker, type SupervisorLogger, type WorkerMessage } from './supervisedWorker';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The projection runner as the system exposes it: its commits, read-your-writes waits and rebuilds. */
export interface SystemProjections {
  readonly runner: Pick<ProjectionRunner, 'addCommitListener' | 'waitForPosition' | 'rebuild'>;
  close(): Promise<void>;
}

/**
 * Starts every projection in a worker thread of its own (restarted if it dies) and resolves once it
 * runs. Committed batches come back to this thread — to `onCommitted` (the live feed) and to the
 * runner's commit listeners — in commit order.
 */
export async function startProjectionsWorker(options: { readonly env: Readonly<Record<string, string>>; readonly logLevel: string; readonly logger: SupervisorLogger; readonly onCommitted: CommitListener }): Promise<SystemProjections> {
  const listeners = new Set<CommitListener>([options.onCommitted]);
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const deliver = (batch: CommittedBatch): void => {
    for (const listener of listeners) {
      try {
        void Promise.resolve(listener(batch)).catch((error: unknown) => options.logger.error({ err: { message: error instanceof Error ? error.message : 'non-Error' } }, 'commit listener failed'));
      } catch (error) {
        options.logger.error({ err: { message: error instanceof Error ? error.message : 'non-Error' } }, 'commit listener failed');
      }
    }
  };
  const params: ProjectionsWorkerParams = { env: options.env, logLevel: options.logLevel };
  const worker = await startSupervisedWorker({
    name: 'projections',
    entry: new URL('./projectionsWorker.ts', import.meta.url),
    params,
    logger: options.logger,
    onMessage: (message: WorkerMessage) => {
      const event = message as ProjectionsEvent;
      if (event.type === 'committed') {
        deliver(event.batch as CommittedBatch);
        return;
      }
      const call = pending.get(event.id);
      if (call === undefined) return;
      pending.delete(event.id);
      if (event.type === 'result') call.resolve(event.value);
      else call.reject(Object.assign(new Error(event.error.message), { name: event.error.name, code: event.error.code }));
    },
    // A thread that ended answers nothing more: its callers learn it now rather than never.
    onExit: () => {
      for (const call of pending.values()) call.reject(new Error('the projections worker ended before answering'));
      pending.clear();
    },
  });
  const call = (message: DistributiveOmit<Extract<ProjectionsCall, { type: 'call' }>, 'id'>, signal?: AbortSignal): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        return;
      }
      const id = nextId++;
      // An abort stops this caller waiting and ends the worker's wait (one poll every pollMs otherwise).
      const onAbort = (): void => {
        if (!pending.delete(id)) return;
        try {
          const cancel: ProjectionsCall = { type: 'cancel', id };
          worker.post(cancel);
        } catch {
          // no thread runs: nothing waits there
        }
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      pending.set(id, {
        resolve: (value) => {
          settle();
          resolve(value);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        worker.post({ ...message, id } as ProjectionsCall);
      } catch (error) {
        pending.delete(id);
        settle();
        reject(error instanceof Error ? error : new Error('the projections worker is not running'));
      }
    });
  return {
    runner: {
      addCommitListener(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async waitForPosition(name, position, waitOptions = {}) {
        await call({ type: 'call', method: 'waitForPosition', args: [name, position, waitOptions.pollMs ?? null] }, waitOptions.signal);
      },
      async rebuild(name) {
        return (await call({ type: 'call', method: 'rebuild', args: [name] })) as Awaited<ReturnType<ProjectionRunner['rebuild']>>;
      },
    },
    close: () => worker.stop(),
  };
}
