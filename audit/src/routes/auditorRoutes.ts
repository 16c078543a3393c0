import { Readable } from 'node:stream';
import { requireIdentity, type Identity } from '@fitledger/auth';
import type { EventStore } from '@fitledger/event-store';
import { HttpProblem } from '@fitledger/http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type pg from 'pg';
import { noteAccess } from '../accessLog/httpAccessLog';
import { ACCESS_RECORD_SELECT, accessRecordOfRow, accessRecordsOfSubject, type Pseudonymiser, type StoredAccessRecord } from '../accessLog/postgresAccessLog';
import type { AccessRecord } from '../leaf';
import { fhirAuditEvent } from './fhirAuditEvent';

/** A stored event opened by the service's codec: the envelope, its data unless the subject was erased. */
export interface OpenedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion?: number;
  readonly streamId: string;
  readonly revision: number;
  readonly position: string;
  readonly recordedAt: Date;
  readonly metadata: { readonly tenantId: string; readonly subjectId: string; readonly actor: { sub: string; role: string }; readonly onBehalfOf?: { sub: string; role: string }; readonly source: unknown; readonly consentVersion?: number; readonly correlationId: string };
  readonly data?: unknown;
  readonly erased?: boolean;
}

export interface AuditorRoutesDeps {
  /** The database of the event store and the access log (the service's own connections, not row-level-secured reads). */
  readonly pool: pg.Pool;
  readonly store: EventStore;
  /** Decrypts and upcasts stored events (the services' EventCodec). */
  readonly open: (recorded: Awaited<ReturnType<EventStore['readStream']>>) => Promise<readonly OpenedEvent[]>;
  /** A record's state from its events (the domain's deciders by stream kind); undefined for a stream kind it does not know. */
  readonly fold: (streamId: string, events: readonly OpenedEvent[]) => unknown;
  readonly pseudonymise: Pseudonymiser;
}

/** Who audits: auditors of their organisation; platform admins across organisations. */
const AUDIT_ROLES = new Set(['auditor', 'platform_admin']);
const MAX_PAGE = 200;
const MAX_STREAM_EVENTS = 10_000;
const EXPORT_PAGE = 1_000;
const STREAM_ID_PATTERN = '^[a-z][a-z0-9]*-[A-Za-z0-9._-]{1,200}$';
const UUID = { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' } as const;

function requireAuditor(identity: Identity): void {
  if (!AUDIT_ROLES.has(identity.role)) throw new HttpProblem(403, 'ROLE_NOT_ALLOWED', 'Forbidden', 'only auditors (and platform admins) read the audit trail');
}

const problems = { 400: { $ref: 'Problem#' }, 401: { $ref: 'Problem#' }, 403: { $ref: 'Problem#' }, 404: { $ref: 'Problem#' } } as const;

/** The fields in which events say when they happened in the world. */
const OCCURRED_FIELDS = ['occurredAt', 'measuredAt', 'startedAt', 'completedAt', 'cancelledAt'] as const;

/** When a thing happened in the world: the event's own time field (OCCURRED_FIELDS), else when it was recorded. */
function occurredAtOf(event: OpenedEvent): string {
  const data = event.data as Record<string, unknown> | undefined;
  for (const field of OCCURRED_FIELDS) {
    const value = data?.[field];
    if (typeof value === 'string') return value;
  }
  return event.recordedAt.toISOString();
}

/** JSON of a folded state: Maps become objects, Sets arrays, Dates ISO strings. */
function jsonOfState(state: unknown): unknown {
  return JSON.parse(
    JSON.stringify(state, (_key, value: unknown) => {
      if (value instanceof Map) return Object.fromEntries(value as Map<unknown, unknown>) as unknown;
      if (value instanceof Set) return [...(value as Set<unknown>)];
      return value;
    }),
  ) as unknown;
}

const accessRecordSchema = {
  type: 'object',
  properties: Object.fromEntries(
    ['id', 'at', 'actorSub', 'actorRole', 'actorOrganisation', 'clientId', 'action', 'recordType', 'recordId', 'subjectPseudonym', 'ip', 'userAgent', 'service', 'method', 'route', 'outcome', 'purposeOfUse', 'breakGlassGrantId', 'requestId'].map((f) => [f, { type: ['string', 'null'] }]),
  ),
} as const;
(accessRecordSchema.properties as Record<string, unknown>)['status'] = { type: 'integer' };
(accessRecordSchema.properties as Record<string, unknown>)['consentVersion'] = { type: ['integer', 'null'] };

interface AccessQuery {
  subjectId?: string;
  actorSub?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

const accessQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    subjectId: { ...UUID, description: 'Whose data was accessed (looked up by its pseudonym).' },
    actorSub: { type: 'string', minLength: 1, maxLength: 255, description: 'Who accessed.' },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    cursor: { type: 'string', pattern: '^[0-9]{1,18}$', description: '`nextCursor` of the previous page.' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 50 },
  },
} as const;

/**
 * The auditor API (mount under /api/v1 with authentication): the full history of any record, its
 * state as of a recorded or an occurred time, and the accounting of disclosures with NDJSON and
 * FHIR R4 AuditEvent exports; and every person's own view of who has seen their data. These reads
 * are themselves recorded in the access log (purpose HOPERAT for auditors).
 */
export function auditorRoutes(app: FastifyInstance, deps: AuditorRoutesDeps): void {
  async function loadStream(identity: Identity, streamId: string): Promise<readonly OpenedEvent[]> {
    const recorded = await deps.store.readStream(streamId, { maxCount: MAX_STREAM_EVENTS });
    const first = recorded[0];
    // Another organisation's record answers like a missing one.
    if (first === undefined || (identity.role !== 'platform_admin' && first.metadata['tenantId'] !== identity.tenantId)) {
      throw new HttpProblem(404, 'RECORD_NOT_FOUND', 'Not Found', 'no such record in your organisation');
    }
    return deps.open(recorded);
  }

  app.get<{ Params: { streamId: string }; Querystring: { limit?: number; fromRevision?: number } }>(
    '/audit/records/:streamId/history',
    {
      schema: {
        tags: ['audit'],
        summary: 'Full history of a record: every event with its actor and both timestamps (auditors)',
        params: { type: 'object', additionalProperties: false, required: ['streamId'], properties: { streamId: { type: 'string', pattern: STREAM_ID_PATTERN } } },
        querystring: { type: 'object', additionalProperties: false, properties: { fromRevision: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 } } },
        response: { ...problems },
      },
    },
    async (request, reply) => {
      const identity = requireIdentity(request);
      requireAuditor(identity);
      const events = await loadStream(identity, request.params.streamId);
      noteAccess(request, { subjectId: events[0]?.metadata.subjectId ?? identity.sub, basis: 'audit' });
      const from = request.query.fromRevision ?? 0;
      const limit = request.query.limit ?? 100;
      const page = events.filter((e) => e.revision >= from).slice(0, limit);
      const last = page.at(-1);
      return reply.header('cache-control', 'no-store').send({
        streamId: request.params.streamId,
        items: page.map((e) => ({
          eventId: e.eventId,
          type: e.type,
          revision: e.revision,
          position: e.position,
          recordedAt: e.recordedAt.toISOString(),
          occurredAt: e.erased ? null : occurredAtOf(e),
          actor: e.metadata.actor,
          onBehalfOf: e.metadata.onBehalfOf ?? null,
          source: e.metadata.source,
          consentVersion: e.metadata.consentVersion ?? null,
          correlationId: e.metadata.correlationId,
          erased: e.erased === true,
        })),
        nextRevision: last !== undefined && events.some((e) => e.revision > last.revision) ? last.revision + 1 : null,
      });
    },
  );

  app.get<{ Params: { streamId: string }; Querystring: { asOf: string; timeline?: 'recorded' | 'occurred' } }>(
    '/audit/records/:streamId/state',
    {
      schema: {
        tags: ['audit'],
        summary: 'A record as it was at a time: by when it was recorded, or by when it happened (auditors)',
        description: '`timeline=recorded` (default) folds the events recorded up to `asOf`: what the service knew then. `timeline=occurred` folds the events whose own time (`occurredAt`, `measuredAt`, `startedAt`, `completedAt` or `cancelledAt`; else the recorded time) is up to `asOf`, in stream order: how things stood in the world then, with corrections recorded later.',
        params: { type: 'object', additionalProperties: false, required: ['streamId'], properties: { streamId: { type: 'string', pattern: STREAM_ID_PATTERN } } },
        querystring: { type: 'object', additionalProperties: false, required: ['asOf'], properties: { asOf: { type: 'string', format: 'date-time' }, timeline: { type: 'string', enum: ['recorded', 'occurred'], default: 'recorded' } } },
        response: { ...problems },
      },
    },
    async (request, reply) => {
      const identity = requireIdentity(request);
      requireAuditor(identity);
      const events = await loadStream(identity, request.params.streamId);
      noteAccess(request, { subjectId: events[0]?.metadata.subjectId ?? identity.sub, basis: 'audit' });
      if (events.some((e) => e.erased === true)) throw new HttpProblem(410, 'RECORD_ERASED', 'Gone', 'the subject of this record was erased: its history remains, its content cannot be read');
      const asOf = Date.parse(request.query.asOf);
      const timeline = request.query.timeline ?? 'recorded';
      const applied = events.filter((e) => (timeline === 'recorded' ? e.recordedAt.getTime() : Date.parse(occurredAtOf(e))) <= asOf);
      const state = deps.fold(request.params.streamId, applied);
      if (state === undefined) throw new HttpProblem(404, 'RECORD_NOT_FOUND', 'Not Found', 'this kind of record has no state view');
      return reply.header('cache-control', 'no-store').send({
        streamId: request.params.streamId,
        asOf: new Date(asOf).toISOString(),
        timeline,
        eventsApplied: applied.length,
        lastRevision: applied.at(-1)?.revision ?? null,
        state: jsonOfState(state),
      });
    },
  );

  /** The access-record query of an auditor: their organisation's accesses (platform admins: all). */
  function accessQuery(identity: Identity, query: AccessQuery, afterCursor: number | undefined, limit: number): { text: string; values: unknown[] } {
    const values: unknown[] = [];
    const where: string[] = [];
    const add = (clause: (p: string) => string, value: unknown) => where.push(clause(`$${values.push(value)}`));
    if (identity.role !== 'platform_admin') add((p) => `r.actor_organisation = ${p}`, identity.tenantId);
    if (query.subjectId !== undefined) add((p) => `r.subject_pseudonym = ${p}`, deps.pseudonymise(query.subjectId));
    if (query.actorSub !== undefined) add((p) => `r.actor_sub = ${p}`, query.actorSub);
    if (query.from !== undefined) add((p) => `r.at >= ${p}`, query.from);
    if (query.to !== undefined) add((p) => `r.at < ${p}`, query.to);
    if (afterCursor !== undefined) add((p) => `r.seq < ${p}`, afterCursor);
    values.push(limit);
    return {
      text: `${ACCESS_RECORD_SELECT} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.seq DESC LIMIT $${values.length}`,
      values,
    };
  }
  async function accessPage(identity: Identity, query: AccessQuery, cursor: number | undefined, limit: number): Promise<StoredAccessRecord[]> {
    const { text, values } = accessQuery(identity, query, cursor, limit);
    const { rows } = await deps.pool.query(text, values);
    return rows.map((row) => accessRecordOfRow(row as Parameters<typeof accessRecordOfRow>[0]));
  }
  function checkRange(query: AccessQuery): void {
    if (query.from !== undefined && query.to !== undefined && Date.parse(query.from) > Date.parse(query.to)) {
      throw new HttpProblem(400, 'VALIDATION_FAILED', 'Bad Request', '/querystring/from: must not be after `to`', [{ field: '/querystring/from', message: 'must not be after to' }]);
    }
  }

  app.get<{ Querystring: AccessQuery }>(
    '/audit/access-records',
    {
      schema: {
        tags: ['audit'],
        summary: 'Accounting of disclosures: who accessed whose data, when, and under which consent or break-glass grant (auditors)',
        querystring: accessQuerystring,
        response: { 200: { type: 'object', required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: accessRecordSchema }, nextCursor: { type: ['string', 'null'] } } }, ...problems },
      },
    },
    async (request, reply) => {
      const identity = requireIdentity(request);
      requireAuditor(identity);
      checkRange(request.query);
      if (request.query.subjectId !== undefined) noteAccess(request, { subjectId: request.query.subjectId, basis: 'audit' });
      else noteAccess(request, { basis: 'audit' });
      const limit = request.query.limit ?? 50;
      const page = await accessPage(identity, request.query, request.query.cursor === undefined ? undefined : Number(request.query.cursor), limit);
      return reply.header('cache-control', 'no-store').send({ items: page.map((s) => s.record), nextCursor: page.length === limit ? String(page.at(-1)?.seq) : null });
    },
  );

  app.get<{ Querystring: AccessQuery & { format?: 'ndjson' | 'fhir' } }>(
    '/audit/access-records/export',
    {
      schema: {
        tags: ['audit'],
        summary: 'Export the accounting of disclosures as NDJSON access records or FHIR R4 AuditEvent resources (auditors)',
        querystring: { ...accessQuerystring, properties: { ...accessQuerystring.properties, format: { type: 'string', enum: ['ndjson', 'fhir'], default: 'ndjson' } } },
        response: { ...problems },
      },
    },
    async (request, reply) => {
      const identity = requireIdentity(request);
      requireAuditor(identity);
      checkRange(request.query);
      noteAccess(request, { ...(request.query.subjectId === undefined ? {} : { subjectId: request.query.subjectId }), basis: 'audit' });
      const format = request.query.format ?? 'ndjson';
      const line = format === 'fhir' ? (r: AccessRecord) => JSON.stringify(fhirAuditEvent(r)) : (r: AccessRecord) => JSON.stringify(r);
      async function* lines(): AsyncGenerator<string> {
        let cursor: number | undefined;
        for (;;) {
          const page = await accessPage(identity, request.query, cursor, EXPORT_PAGE);
          for (const stored of page) yield `${line(stored.record)}\n`;
          if (page.length < EXPORT_PAGE) return;
          cursor = page.at(-1)?.seq;
        }
      }
      return sendLines(reply, lines(), format === 'fhir' ? 'application/fhir+ndjson' : 'application/x-ndjson', `access-records${format === 'fhir' ? '.fhir' : ''}.ndjson`);
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: number } }>(
    '/access-log',
    {
      schema: {
        tags: ['audit'],
        summary: 'Who has seen my data: every access to it by someone else, break-glass included, newest first',
        querystring: { type: 'object', additionalProperties: false, properties: { cursor: accessQuerystring.properties.cursor, limit: accessQuerystring.properties.limit } },
        response: { 200: { type: 'object', required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: ownViewSchema }, nextCursor: { type: ['string', 'null'] } } }, ...problems },
      },
    },
    async (request, reply) => {
      const identity = requireIdentity(request);
      noteAccess(request, { subjectId: identity.sub, basis: 'owner' });
      const limit = request.query.limit ?? 50;
      const page = await accessRecordsOfSubject(deps.pool, deps.pseudonymise(identity.sub), {
        othersOnly: identity.sub,
        limit,
        ...(request.query.cursor === undefined ? {} : { beforeSeq: Number(request.query.cursor) }),
      });
      return reply.header('cache-control', 'no-store').send({
        items: page.map(({ record: r }) => ({
          at: r.at,
          who: { sub: r.actorSub, role: r.actorRole, organisation: r.actorOrganisation },
          action: r.action,
          outcome: r.outcome,
          recordType: r.recordType,
          recordId: r.recordId,
          purposeOfUse: r.purposeOfUse,
          consentVersion: r.consentVersion,
          breakGlassGrantId: r.breakGlassGrantId,
        })),
        nextCursor: page.length === limit ? String(page.at(-1)?.seq) : null,
      });
    },
  );
}

const ownViewSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    at: { type: 'string' },
    who: { type: 'object', additionalProperties: false, properties: { sub: { type: 'string' }, role: { type: 'string' }, organisation: { type: ['string', 'null'] } } },
    action: { type: 'string' },
    outcome: { type: 'string' },
    recordType: { type: 'string' },
    recordId: { type: ['string', 'null'] },
    purposeOfUse: { type: 'string' },
    consentVersion: { type: ['integer', 'null'] },
    breakGlassGrantId: { type: ['string', 'null'], description: 'Set when the access relied on emergency (break-glass) access.' },
  },
} as const;

function sendLines(reply: FastifyReply, lines: AsyncGenerator<string>, type: string, filename: string): FastifyReply {
  return reply.header('cache-control', 'no-store').header('content-disposition', `attachment; filename="${filename}"`).type(type).send(Readable.from(lines));
}
