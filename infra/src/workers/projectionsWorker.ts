/**
 * Worker-thread entry of the projection runner (started by {@link startProjectionsWorker}): every
 * read-model projection on its own connections, off the request thread. Announces each committed
 * batch to the spawning thread, and answers its waitForPosition and rebuild calls.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger, startTelemetry, telemetryConfigFromEnv, traceProjectionBatch } from '@fitledger/observability';
import { loadProjectionsConfig, openProjectionsService } from '@fitledger/projections';
import type { SupervisorToWorker, WorkerToSupervisor } from './supervisedWorker';

export interface ProjectionsWorkerParams {
  /** The service environment (DATABASE_URL, key store settings, PROJECTIONS_*), as the projections' main reads it. */
  readonly env: Readonly<Record<string, string>>;
  readonly logLevel: string;
}

/** Spawning thread → worker, besides stop. */
export type ProjectionsCall =
  | { readonly type: 'call'; readonly id: number; readonly method: 'waitForPosition'; readonly args: readonly [name: string, position: string, pollMs: number | null] }
  | { readonly type: 'call'; readonly id: number; readonly method: 'rebuild'; readonly args: readonly [name: string] }
  /** The caller stopped waiting (its signal aborted): end that call's wait here too. */
  | { readonly type: 'cancel'; readonly id: number };

/** Worker → spawning thread, besides ready/stopped/failed. */
export type ProjectionsEvent =
  | { readonly type: 'committed'; readonly batch: { readonly projection: string; readonly position: string; readonly changes: readonly unknown[] } }
  | { readonly type: 'result'; readonly id: number; readonly value: unknown }
  | { readonly type: 'error'; readonly id: number; readonly error: { readonly name: string; readonly code?: string; readonly message: string } };

const port = parentPort;
if (port === null) throw new Error('projectionsWorker runs only as a worker thread');
const params = (workerData as { params: ProjectionsWorkerParams }).params;
const post = (message: WorkerToSupervisor | ProjectionsEvent): void => port.postMessage(message);
const errorOf = (error: unknown): { name: string; code?: string; message: string } => {
  if (!(error instanceof Error)) return { name: 'NonError', message: 'a non-Error value was thrown' };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
};

// Each thread has its own tracer provider: the projection batches' spans (continuing the trace
// context carried in event metadata) are exported from here when OTEL_EXPORTER_OTLP_ENDPOINT is set.
const telemetry = startTelemetry(telemetryConfigFromEnv('fitledger'));
const logger = createLogger({ level: params.logLevel as 'info', service: 'fitledger' }).child({ component: 'projections' });
try {
  const projections = await openProjectionsService(loadProjectionsConfig(params.env), {
    logger,
    onCommitted: (batch) => post({ type: 'committed', batch }),
    traceBatch: traceProjectionBatch,
  });
  projections.runner.start();
  /** The waits in progress, by call id: a cancel or the stop ends them. */
  const waits = new Map<number, AbortController>();
  port.on('message', (message: SupervisorToWorker | ProjectionsCall) => {
    if (message.type === 'stop') {
      for (const wait of waits.values()) wait.abort(new Error('the projections worker is stopping'));
      void projections
        .close()
        .catch((error: unknown) => logger.error({ err: errorOf(error) }, 'projections stopped with an error'))
        .then(() => telemetry.shutdown())
        .catch(() => undefined)
        .finally(() => {
          post({ type: 'stopped' });
          port.close();
        });
      return;
    }
    if (message.type === 'cancel') {
      waits.get(message.id)?.abort(new Error('cancelled by the caller'));
      return;
    }
    const { id } = message;
    let call: Promise<unknown>;
    if (message.method === 'rebuild') {
      call = projections.runner.rebuild(message.args[0]);
    } else {
      const abort = new AbortController();
      waits.set(id, abort);
      const [name, position, pollMs] = message.args;
      call = projections.runner.waitForPosition(name, position as never, { signal: abort.signal, ...(pollMs === null ? {} : { pollMs }) }).finally(() => waits.delete(id));
    }
    call.then(
      (value) => post({ type: 'result', id, value: value ?? null }),
      (error: unknown) => post({ type: 'error', id, error: errorOf(error) }),
    );
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'failed', error: errorOf(error) });
  await telemetry.shutdown().catch(() => undefined);
  port.close();
}
