import { pooledRandomBytes } from '@fitledger/crypto';
import { httpAccessLog, type AccessLog, type Pseudonymiser } from '@fitledger/audit';
import type { AccessAction } from '@fitledger/audit';
import { uuidv7 } from '@fitledger/domain';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { API_PREFIX } from './routes/workouts';

/** Routes that administer access (organisations, break-glass): always recorded. */
const ADMINISTRATION = new RegExp(`^${API_PREFIX}/(organisations|emergency-access)(/|\\?|$)`);
/** Routes that change who may see what, or write into someone else's record: always recorded. */
const ACCESS_CHANGES = new RegExp(`^${API_PREFIX}/(consents|coaching|clients)(/|\\?|$)`);

/**
 * What the command service records: every administrative action and access change, and every
 * denied request (401, 403, and 404 — which is also how another subject's record is refused).
 * A person's writes to their own record are in the event store already, with actor and time.
 */
export function classifyCommand(request: FastifyRequest, status: number): AccessAction | undefined {
  if (!request.url.startsWith(`${API_PREFIX}/`)) return undefined;
  if (ADMINISTRATION.test(request.url)) return 'admin';
  if (ACCESS_CHANGES.test(request.url)) return 'write';
  return status === 401 || status === 403 || status === 404 ? 'denied' : undefined;
}

/** Hooks the access log into the command app (before its routes). */
export function commandAccessLog(app: FastifyInstance, accessLog: { readonly log: AccessLog; readonly pseudonymise: Pseudonymiser }, clock: () => Date): void {
  httpAccessLog(app, { ...accessLog, service: 'command-service', clock, newId: () => uuidv7(clock(), pooledRandomBytes(10)), classify: classifyCommand });
}
