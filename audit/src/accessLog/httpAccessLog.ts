import type {} from '@fitledger/auth';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessAction, AccessOutcome, AccessRecord } from '../leaf';
import type { AccessLog, Pseudonymiser } from './postgresAccessLog';

/** On what a read or write of someone's data relied, as the route's policy decided it. */
export type AccessBasis = 'owner' | 'consent' | 'emergency' | 'audit';

/** What the route knows that the request alone does not say: whose data, and on what basis. */
export interface AccessNote {
  readonly subjectId?: string;
  readonly basis?: AccessBasis;
  readonly consentVersion?: number;
  readonly breakGlassGrantId?: string;
  /** The record read, when not named by the path (e.g. the cursor a live feed resumes from). */
  readonly recordId?: string;
}

const notes = new WeakMap<FastifyRequest, AccessNote>();

/** Request decoration through which `recordAccessAhead` reaches the access log of the request's app. */
const AHEAD = 'fitledgerAccessRecordAhead';
type StartAhead = (request: FastifyRequest, status: number) => void;

/** Called by the access policy once it decided: the access record names the subject and basis. */
export function noteAccess(request: FastifyRequest, note: AccessNote): void {
  notes.set(request, { ...notes.get(request), ...note });
}

/**
 * Starts the access record of a read that the policy allowed before the data is read, as the
 * `status` the route answers unless the read itself fails — for reads whose answer the data cannot
 * change (a page of a collection: 200 even when empty). The record's round trip then overlaps the
 * read instead of following it; the response still waits until it is durable. Should the response
 * end with another status after all (a failed query: 500), a second record with that status and
 * the same request id follows, as when serialisation fails: the log errs towards more, never less.
 *
 * Only for a subject reading their own data (basis `owner`): if the read fails and the second
 * record cannot be written either (a database outage), or the process dies during the read, the
 * first record stands alone and says "allowed" of a read that disclosed nothing. Of someone's own
 * data that misleads no one; of a disclosure to a coach or under break-glass — what the subject's
 * "who has seen my data" and the accounting of disclosures show — it would, so those reads are
 * recorded once their status is known. Call after `noteAccess` and after every check that can
 * refuse the request. Does nothing in an app without an access log, for another basis, or when
 * the request is already recorded.
 */
export function recordAccessAhead(request: FastifyRequest, status: number): void {
  (request as unknown as Record<typeof AHEAD, StartAhead | undefined>)[AHEAD]?.(request, status);
}

/**
 * HL7 v3 PurposeOfUse codes: the client's own request (PATRQT), care under the client's consent
 * (TREAT), break-glass (ETREAT), the organisation's administration and its audits (HOPERAT).
 */
const PURPOSE_OF_BASIS: Record<AccessBasis, string> = { owner: 'PATRQT', consent: 'TREAT', emergency: 'ETREAT', audit: 'HOPERAT' };
const ADMINISTRATION = 'HOPERAT';

export interface HttpAccessLogOptions {
  readonly log: AccessLog;
  readonly pseudonymise: Pseudonymiser;
  /** The service name written into each record, e.g. `query-service`. */
  readonly service: string;
  /** Whether (and as what) a request is recorded, given its final status; undefined: not recorded. */
  readonly classify: (request: FastifyRequest, status: number) => AccessAction | undefined;
  readonly clock: () => Date;
  /** UUIDv7 ids. */
  readonly newId: () => string;
}

export interface HttpAccessLog {
  /**
   * Records the request now (as `status`), before a response exists — for a websocket that is
   * upgraded rather than answered. The response hook then leaves it alone.
   */
  recordNow(request: FastifyRequest, status: number): Promise<void>;
}

const MAX_USER_AGENT = 256;

/** `/api/v1/workouts/:workoutId/sets` → type `sets`; a path ending in a parameter names the record's id. */
export function recordOfRoute(route: string, params: Readonly<Record<string, string>>): { recordType: string; recordId: string | null } {
  const segments = route.split('/').filter((s) => s.length > 0 && s !== 'api' && !/^v\d+$/.test(s));
  const last = segments.at(-1);
  if (last === undefined) return { recordType: 'unmatched', recordId: null };
  if (!last.startsWith(':')) return { recordType: last, recordId: null };
  const type = segments.at(-2) ?? 'unmatched';
  return { recordType: type, recordId: params[last.slice(1)] ?? null };
}

const outcomeOf = (status: number): AccessOutcome => (status < 400 ? 'allowed' : status === 401 || status === 403 || status === 404 ? 'denied' : 'error');

/**
 * The access log of one service: every request `classify` picks becomes an access record, and the
 * response waits until it is durable — a response that cannot be recorded is not sent (503
 * instead). Register before the routes.
 */
export function httpAccessLog(app: FastifyInstance, options: HttpAccessLogOptions): HttpAccessLog {
  const recorded = new WeakSet<FastifyRequest>();

  function subjectOf(request: FastifyRequest): string | undefined {
    const params = (request.params ?? {}) as Record<string, string>;
    return notes.get(request)?.subjectId ?? params['clientId'] ?? params['subjectId'] ?? request.identity?.sub;
  }

  function basisOf(request: FastifyRequest, subjectId: string | undefined): AccessBasis {
    return notes.get(request)?.basis ?? (subjectId === undefined || subjectId === request.identity?.sub ? 'owner' : 'consent');
  }

  function recordOf(request: FastifyRequest, status: number, action: AccessAction): AccessRecord {
    const identity = request.identity;
    const note = notes.get(request);
    const params = (request.params ?? {}) as Record<string, string>;
    const route = request.routeOptions.url ?? 'unmatched';
    const { recordType, recordId } = recordOfRoute(route, params);
    const subjectId = subjectOf(request);
    const outcome = outcomeOf(status);
    const userAgent = request.headers['user-agent'];
    return {
      id: options.newId(),
      at: options.clock().toISOString(),
      actorSub: identity?.sub ?? 'anonymous',
      actorRole: identity?.role ?? 'anonymous',
      actorOrganisation: identity?.tenantId ?? null,
      clientId: identity?.clientId ?? null,
      action: outcome === 'denied' ? 'denied' : action,
      recordType,
      recordId: note?.recordId ?? recordId,
      subjectPseudonym: subjectId === undefined ? null : options.pseudonymise(subjectId),
      ip: request.ip,
      userAgent: userAgent === undefined ? null : userAgent.slice(0, MAX_USER_AGENT),
      service: options.service,
      method: request.method,
      route,
      status,
      outcome,
      purposeOfUse: action === 'admin' ? ADMINISTRATION : PURPOSE_OF_BASIS[basisOf(request, subjectId)],
      consentVersion: note?.consentVersion ?? null,
      breakGlassGrantId: note?.breakGlassGrantId ?? null,
      requestId: request.id,
    };
  }

  // Started as soon as the status is settled — before the body is serialised — so the INSERT's
  // round trip overlaps serialisation; the response still waits for it in onSend.
  const started = new WeakMap<FastifyRequest, { readonly status: number; readonly done: Promise<unknown> }>();

  function start(request: FastifyRequest, status: number): Promise<unknown> | undefined {
    const action = options.classify(request, status);
    if (action === undefined) return undefined;
    const done = options.log.append(recordOf(request, status, action)).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    started.set(request, { status, done });
    return done;
  }

  const startAhead: StartAhead = (request, status) => {
    if (recorded.has(request) || started.has(request)) return;
    if (basisOf(request, subjectOf(request)) !== 'owner') return;
    void start(request, status);
  };
  // A getter on this app's request prototype: no per-request cost for requests that never ask.
  app.decorateRequest(AHEAD, { getter: () => startAhead });

  // A callback hook: every response passes here, most of them unrecorded (no promise for those).
  app.addHook('preSerialization', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
    if (!recorded.has(request) && !started.has(request)) void start(request, reply.statusCode);
    done(null, payload);
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (recorded.has(request)) return payload;
    const early = started.get(request);
    let outcome: unknown;
    if (early !== undefined && early.status === reply.statusCode) outcome = await early.done;
    else {
      // Not started yet (no serialisation: an empty body, a string, a stream), or serialisation
      // failed after it started and the response became an error: the response's own status is
      // what gets recorded (the early record, if any, stays — a log errs towards more, never less).
      if (early !== undefined) await early.done;
      const done = start(request, reply.statusCode);
      if (done === undefined) return payload;
      outcome = await done;
    }
    if (outcome === undefined) {
      recorded.add(request);
      return payload;
    }
    request.log.error({ err: (outcome as { error: unknown }).error }, 'access record not written: response withheld');
    if (payload !== null && typeof payload === 'object' && 'destroy' in payload && typeof payload.destroy === 'function') (payload as { destroy(): void }).destroy();
    void reply.code(503).header('content-type', 'application/problem+json').header('retry-after', '1');
    reply.removeHeader('etag');
    reply.removeHeader('content-length');
    return JSON.stringify({ type: 'https://fitledger.dev/problems/access-log-unavailable', title: 'Service Unavailable', status: 503, code: 'ACCESS_LOG_UNAVAILABLE', detail: 'the access could not be recorded; nothing was disclosed, retry later', instance: request.url.split('?')[0] });
  });

  return {
    async recordNow(request, status) {
      const action = options.classify(request, status);
      if (action === undefined) return;
      await options.log.append(recordOf(request, status, action));
      recorded.add(request);
    },
  };
}
