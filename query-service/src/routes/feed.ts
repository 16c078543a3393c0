import { noteAccess } from '@fitledger/audit';
import { AuthenticationError, sendAuthenticationProblem, type TokenVerifier } from '@fitledger/auth';
import { HttpProblem } from '@fitledger/http';
import { traceFeedPush } from '@fitledger/observability';
import { feedPayload, feedRetentionHorizon, isBeforeHorizon, type ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { decodeFeedCursor, InvalidCursorError, RetiredFeedCursorError, type FeedCursor } from '../cursor';
import type { FeedHub } from '../feed/feedHub';
import { feedMessage, type FeedRow } from '../feed/feedMessage';
import { loadUnitPreferences } from '../unitPreferences';
import { FeedSession, type FeedEntry } from '../feed/feedSession';
import { handshakeToken } from '../feed/handshakeToken';
import { requireReadScope, type ReadScope, type ReadScopeResolver } from '../readScope';
import { inReadScope } from '../rowLevelSecurity';
import { noteAccessOf } from './readContext';

export interface FeedOptions {
  /** Rows per backlog read (default 100, at most 1000). */
  readonly pageSize?: number;
  /** Ping interval; a client that has not answered the previous ping is dropped (default 30 s). */
  readonly heartbeatIntervalMs?: number;
  /** Stop reading while more than this many bytes wait to be written to the client (default 1 MiB). */
  readonly highWaterBytes?: number;
}

/** Close codes (RFC 6455 §7.4.1). */
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_INTERNAL_ERROR = 1011;
export const CLOSE_GOING_AWAY = 1001;
/** Application close code (RFC 6455 §7.4.2): the cursor resumed from lies before the retention horizon. */
export const CLOSE_CURSOR_EXPIRED = 4410;

const EXPIRED_DETAIL = 'the feed no longer holds every change after this cursor (FEED_RETENTION_DAYS): reload through the REST reads and open the feed without `after`';

/** The cursor a feed resumed from lies before the retention horizon: changes after it may be gone. */
export class FeedCursorExpiredError extends Error {}

type ReadPage = (after: FeedCursor | undefined, limit: number) => Promise<readonly FeedEntry[]>;

/**
 * A session's page reads, checked against the retention horizon while it catches up: a prune can
 * take old rows after the session's cursor until the session has read them, so after each backlog
 * page read after a cursor (up to and including the first page that is not full) the horizon is
 * read again — it only ever moves forward, so a horizon at or before the cursor after the read
 * means nothing after the cursor was pruned before it (a prune after the read only makes this
 * refuse a page that was complete). A cursor before it fails with FeedCursorExpiredError. Caught
 * up, a session reads rows just written, which no prune takes for days: no more checks.
 */
export function checkingHorizon(readPage: ReadPage, readHorizon: () => Promise<string | undefined>): ReadPage {
  let catchingUp = true;
  return async (after, limit) => {
    const entries = await readPage(after, limit);
    if (catchingUp && after !== undefined && isBeforeHorizon(after.feedId, await readHorizon())) throw new FeedCursorExpiredError();
    if (entries.length < limit) catchingUp = false;
    return entries;
  };
}

const RETIRED_DETAIL = 'the cursor is of the form issued before the feed was ordered by commit: reload through the REST reads and open the feed without `after`';

function cursorExpired(detail = EXPIRED_DETAIL): HttpProblem {
  return new HttpProblem(410, 'FEED_CURSOR_EXPIRED', 'Gone', `/querystring/after: ${detail}`, [{ field: '/querystring/after', message: detail }]);
}

// setTimeout takes at most 2^31 − 1 ms; longer waits are re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1;

async function readFeedPage(db: Kysely<ReadModelDb>, scope: ReadScope, after: FeedCursor | undefined, limit: number): Promise<FeedEntry[]> {
  // The entity is rendered from the read model in the same statement (feedPayload).
  let query = db
    .selectFrom('rm_feed_changes as f')
    .select(['f.feed_id', 'f.kind', 'f.entity_id', 'f.op', 'f.traceparent', 'f.tenant_id', feedPayload().as('payload')])
    .where('f.subject_id', '=', scope.subjectId);
  // Commit order (feed_id, see lockFeedOrder): one range scan of (subject_id, feed_id).
  if (after) query = query.where(sql<boolean>`f.feed_id > ${after.feedId}::bigint`);
  if (scope.feedKinds !== undefined) query = query.where('f.kind', 'in', [...scope.feedKinds]);
  const rows: (FeedRow & { traceparent: string | null })[] = await query.orderBy('f.feed_id').limit(limit).execute();
  // Read with each page: a change of units shows from the next message on.
  const preferences = rows.length === 0 ? undefined : await loadUnitPreferences(db, scope);
  return rows.map((row) => ({
    cursor: { feedId: row.feed_id },
    message: feedMessage(row, scope, preferences),
    ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
  }));
}

function afterCursor(raw: string | undefined): FeedCursor | undefined {
  if (raw === undefined) return undefined;
  try {
    return decodeFeedCursor(raw);
  } catch (error) {
    if (error instanceof RetiredFeedCursorError) throw cursorExpired(RETIRED_DETAIL);
    if (!(error instanceof InvalidCursorError)) throw error;
    throw new HttpProblem(400, 'INVALID_CURSOR', 'Bad Request', `/querystring/after: ${error.message}`, [{ field: '/querystring/after', message: error.message }]);
  }
}

/** Closes the socket with 1008 when the access token expires (the client reconnects with a fresh one). */
function closeAtExpiry(socket: WebSocket, expiresAtEpochS: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const remaining = expiresAtEpochS * 1000 - Date.now();
    if (remaining <= 0) {
      socket.close(CLOSE_POLICY_VIOLATION, 'access token expired');
      return;
    }
    timer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS));
  };
  arm();
  return () => clearTimeout(timer);
}

/** Pings every interval; terminates a connection whose previous ping went unanswered. */
function heartbeat(socket: WebSocket, intervalMs: number): () => void {
  let alive = true;
  socket.on('pong', () => {
    alive = true;
  });
  const timer = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
  }, intervalMs);
  return () => clearInterval(timer);
}

/**
 * GET /feed (websocket): the caller's `rm_feed_changes` after `?after=<cursor>`, backlog then live.
 * Authenticated at the handshake, so a refused client gets an HTTP 401 and never a socket.
 */
export function feedRoutes(
  app: FastifyInstance,
  deps: {
    db: Kysely<ReadModelDb>;
    verifier: TokenVerifier;
    hub: FeedHub;
    resolveScope: ReadScopeResolver;
    options?: FeedOptions;
    /**
     * Re-decides the scope this often while a feed is open and closes it (1008) once it is refused:
     * a feed of someone else's data ends soon after the consent it relied on is withdrawn.
     */
    recheckScopeMs?: number;
    /** Records the feed's opening (or resumption) in the access log before the upgrade; messages are not recorded one by one. */
    recordOpen?: (request: FastifyRequest) => Promise<void>;
  },
): void {
  const { db, verifier, hub, resolveScope } = deps;
  const pageSize = Math.min(Math.max(deps.options?.pageSize ?? 100, 1), 1000);
  const heartbeatIntervalMs = deps.options?.heartbeatIntervalMs ?? 30_000;
  const highWaterBytes = deps.options?.highWaterBytes ?? 1024 * 1024;
  const scopes = new WeakMap<FastifyRequest, ReadScope>();

  app.addHook('onRequest', async (request, reply) => {
    try {
      request.identity = await verifier.verify(handshakeToken(request.headers));
      return undefined;
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      if (error.status === 503) request.log.error({ err: error.cause ?? error, code: error.code }, 'identity provider unavailable');
      else request.log.info({ code: error.code }, 'feed authentication failed');
      return sendAuthenticationProblem(reply, error);
    }
  });

  app.route<{ Querystring: { after?: string } }>({
    method: 'GET',
    url: '/feed',
    schema: {
      summary: "Live feed of the caller's read-model changes (WebSocket)",
      description:
        'Open a WebSocket (Authorization: Bearer, or Sec-WebSocket-Protocol: bearer, <token> from browsers). ' +
        'The server sends JSON messages {cursor, kind, op, entityId, payload} in order: first every change after `after`, then new ones as they commit. ' +
        'A `workout` payload is a WorkoutChange (the WorkoutSummary plus only the `sets` the change logged or corrected and the `deletedSetIds`); ' +
        'a `personal_record` payload is a PersonalRecord, or null when op is `delete`. ' +
        'Workout and personal-record payloads show the entity as it is when the message is sent (a change read later shows the later state; ' +
        'applied in cursor order, the messages end at the current state); an upsert of an entity that no longer exists is not sent, a later change says what became of it. ' +
        'Messages come in the order the changes committed. Reconnect with the last cursor received to resume without gap or duplicate ' +
        '(a cursor issued before the feed was ordered by commit is answered 410 FEED_CURSOR_EXPIRED; a rebuild of a read model sends its changes again). ' +
        'Closes with 1008 when the token expires. ' +
        'Changes are kept FEED_RETENTION_DAYS (default 30): a resume from a cursor older than the oldest kept change is answered 410 FEED_CURSOR_EXPIRED ' +
        '(or, if changes not yet sent are pruned while the feed catches up, closed with 4410): reload through the REST reads and open the feed without `after`.',
      tags: ['feed'],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { after: { type: 'string', minLength: 1, maxLength: 256, description: '`cursor` of the last message received.' } },
      },
      response: {
        400: { $ref: 'Problem#' },
        401: { $ref: 'Problem#' },
        403: { $ref: 'Problem#' },
        410: { $ref: 'Problem#' },
        426: { $ref: 'Problem#' },
        503: { $ref: 'Problem#' },
      },
    },
    // Runs before the upgrade: a bad cursor or a missing scope is an HTTP answer, not a socket.
    preHandler: async (request) => {
      const after = afterCursor(request.query.after);
      const identity = request.identity;
      if (!identity) throw new AuthenticationError('TOKEN_MISSING', 'the request was not authenticated');
      requireReadScope(identity);
      const scope = await resolveScope(identity, request);
      scopes.set(request, scope);
      noteAccessOf(request, scope);
      if (request.query.after !== undefined) noteAccess(request, { recordId: request.query.after });
      // Before the upgrade, an HTTP answer: the changes after this cursor are no longer all kept.
      if (after !== undefined && isBeforeHorizon(after.feedId, await inReadScope({ tenantId: identity.tenantId, subjectId: scope.subjectId, role: identity.role }, () => feedRetentionHorizon(db)))) throw cursorExpired();
      // An upgrade is never answered through the response hooks: record it before the socket opens.
      if (request.headers.upgrade?.toLowerCase() === 'websocket') await deps.recordOpen?.(request);
    },
    handler: () => {
      throw new HttpProblem(426, 'UPGRADE_REQUIRED', 'Upgrade Required', 'the feed is a WebSocket: send an upgrade request', undefined, { upgrade: 'websocket' });
    },
    wsHandler: (socket, request) => {
      const scope = scopes.get(request);
      const identity = request.identity;
      if (!scope || !identity) {
        socket.close(CLOSE_INTERNAL_ERROR, 'feed not authorised');
        return;
      }
      // Pages are read when commits wake the session, outside any request: with the feed's own settings.
      const asReader = <T>(read: () => Promise<T>): Promise<T> => inReadScope({ tenantId: identity.tenantId, subjectId: scope.subjectId, role: identity.role }, read);
      const session = new FeedSession({
        socket,
        readPage: checkingHorizon(
          (after, limit) => asReader(() => readFeedPage(db, scope, after, limit)),
          () => asReader(() => feedRetentionHorizon(db)),
        ),
        after: afterCursor(request.query.after),
        pageSize,
        highWaterBytes,
        tracePush: traceFeedPush,
        onError: (error) => {
          if (error instanceof FeedCursorExpiredError) {
            socket.close(CLOSE_CURSOR_EXPIRED, 'cursor expired: reload, then open the feed without after');
            return;
          }
          request.log.error({ err: error }, 'feed read failed');
          socket.close(CLOSE_INTERNAL_ERROR, 'feed read failed');
        },
      });
      // Register before the first read: a commit between that read and registering would otherwise wait for the next one.
      const deregister = hub.register(scope.subjectId, () => session.wake());
      const stopHeartbeat = heartbeat(socket, heartbeatIntervalMs);
      const stopExpiry = closeAtExpiry(socket, identity.expiresAtEpochS);
      const recheck =
        deps.recheckScopeMs === undefined
          ? undefined
          : setInterval(() => {
              // Re-decided as the caller, as at the handshake (before a scope is resolved).
              Promise.resolve(inReadScope({ tenantId: identity.tenantId, subjectId: identity.sub, role: identity.role }, () => resolveScope(identity, request))).then(
                () => undefined,
                (error: unknown) => {
                  request.log.info({ code: (error as { code?: unknown }).code }, 'feed access withdrawn');
                  socket.close(CLOSE_POLICY_VIOLATION, 'access withdrawn');
                },
              );
            }, deps.recheckScopeMs);
      // The feed only sends; anything a client sends is ignored (maxPayload bounds it).
      socket.on('message', () => undefined);
      socket.once('close', () => {
        deregister();
        stopHeartbeat();
        stopExpiry();
        if (recheck !== undefined) clearInterval(recheck);
        void session.stop();
      });
      session.wake();
    },
  });
}
