import type { AuditConfig } from '@fitledger/audit';
import type { AuditTrailWorkerParams } from './auditTrailWorker';
import { startSupervisedWorker, type SupervisedWorker, type SupervisorLogger } from './supervisedWorker';

/**
 * Starts the audit trail (projector and checkpoint publisher) in its own worker thread, restarted
 * if it dies; resolves once it runs. The signing keyring is opened in the worker: a missing key
 * (with key creation off) rejects here.
 */
export function startAuditTrailWorker(options: { readonly databaseUrl: string; readonly config: AuditConfig; readonly logLevel: string; readonly logger: SupervisorLogger }): Promise<SupervisedWorker> {
  const params: AuditTrailWorkerParams = { databaseUrl: options.databaseUrl, config: { ...options.config }, logLevel: options.logLevel };
  return startSupervisedWorker({ name: 'audit-trail', entry: new URL('./auditTrailWorker.ts', import.meta.url), params, logger: options.logger });
}
