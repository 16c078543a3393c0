/**
 * Worker-thread entry of the audit trail (started by {@link startAuditTrailWorker}): the audit
 * projector and the checkpoint publisher, on their own connections, off the request thread.
 */
import { constants, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { loggableError, startAuditTrail, type AuditConfig } from '@fitledger/audit';
import { PostgresEventStore } from '@fitledger/event-store';
import { createLogger } from '@fitledger/observability';
import pg from 'pg';
import type { SupervisorToWorker, WorkerToSupervisor } from './supervisedWorker';

export interface AuditTrailWorkerParams {
  readonly databaseUrl: string;
  readonly config: AuditConfig;
  readonly logLevel: string;
}

const port = parentPort;
if (port === null) throw new Error('auditTrailWorker runs only as a worker thread');
const params = (workerData as { params: AuditTrailWorkerParams }).params;
const post = (message: WorkerToSupervisor): void => port.postMessage(message);

// Background work: below the request thread on the CPU, so its batches never delay a response
// (nice 10 on this thread only — Linux niceness is per thread). Under full load it still gets
// about a tenth of a core against each busy thread, enough to keep the tree current.
try {
  setPriority(constants.priority.PRIORITY_BELOW_NORMAL);
} catch {
  // Not permitted here (some containers): it runs at normal priority.
}
const logger = createLogger({ level: params.logLevel as 'info', service: 'fitledger' }).child({ component: 'audit' });
// The projector holds one connection per batch and reads with another; the publisher holds one.
const pool = new pg.Pool({ connectionString: params.databaseUrl, max: 4 });
pool.on('error', (error) => logger.error({ err: loggableError(error) }, 'idle audit connection failed'));
const events = new PostgresEventStore({ pool });

try {
  const trail = await startAuditTrail({ pool, events, config: params.config, logger });
  port.on('message', (message: SupervisorToWorker) => {
    if (message.type !== 'stop') return;
    void (async () => {
      await trail.stop().catch((error: unknown) => logger.error({ err: loggableError(error) }, 'audit trail stopped with an error'));
      await events.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      post({ type: 'stopped' });
      port.close();
    })();
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'failed', error: loggableError(error) });
  await events.close().catch(() => undefined);
  await pool.end().catch(() => undefined);
  port.close();
}
