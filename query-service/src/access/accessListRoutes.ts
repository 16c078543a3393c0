import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { HttpProblem } from '@fitledger/http';
import type { ReadScopeResolver } from '../readScope';
import { authProblemResponses, pageResponse, PRIVATE_CACHE_HEADERS, readScopeOf } from '../routes/readContext';

export const MAX_ACCESS_PAGE_SIZE = 100;
const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: MAX_ACCESS_PAGE_SIZE, default: 50 },
    cursor: { type: 'string', pattern: UUID_PATTERN, description: '`nextCursor` of the previous page.' },
  },
} as const;
const instant = { type: ['string', 'null'], format: 'date-time' } as const;
const relationshipSchema = {
  $id: 'CoachingRelationship',
  type: 'object',
  additionalProperties: false,
  required: ['relationshipId', 'trainerId', 'clientId', 'status', 'invitedAt', 'acceptedAt', 'endedAt'],
  properties: {
    relationshipId: { type: 'string', format: 'uuid' },
    trainerId: { type: 'string' },
    clientId: { type: 'string' },
    status: { type: 'string', enum: ['invited', 'active', 'ended'] },
    invitedAt: { type: 'string', format: 'date-time' },
    acceptedAt: instant,
    endedAt: instant,
  },
} as const;
const consentSchema = {
  $id: 'Consent',
  type: 'object',
  additionalProperties: false,
  required: ['consentId', 'purpose', 'trainerId', 'scopes', 'provider', 'expiresAt', 'guardianId', 'confirmed', 'withdrawn', 'givenAt', 'version'],
  properties: {
    consentId: { type: 'string', format: 'uuid' },
    purpose: { type: 'string' },
    trainerId: { type: ['string', 'null'] },
    scopes: { type: ['array', 'null'], items: { type: 'string' } },
    provider: { type: ['string', 'null'] },
    expiresAt: instant,
    guardianId: { type: ['string', 'null'] },
    confirmed: { type: 'boolean', description: 'False while a minor’s consent awaits the guardian.' },
    withdrawn: { type: 'boolean' },
    givenAt: { type: 'string', format: 'date-time' },
    version: { type: 'integer', description: 'The subject’s consent version when this consent last changed.' },
  },
} as const;
const membershipSchema = {
  $id: 'Membership',
  type: 'object',
  additionalProperties: false,
  required: ['organisationId', 'subjectId', 'role', 'status', 'updatedAt'],
  properties: {
    organisationId: { type: 'string', format: 'uuid' },
    organisationName: { type: 'string' },
    subjectId: { type: 'string' },
    role: { type: 'string' },
    status: { type: 'string', enum: ['invited', 'active'] },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;
export const accessSchemas = [relationshipSchema, consentSchema, membershipSchema];

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** Lists: a trainer's clients, a person's coaches and invitations, a person's consents. Own data only. */
export function accessListRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;
  const relationships = (side: 'trainer_id' | 'client_id') => async (request: { query: { limit: number; cursor?: string } } & Parameters<typeof readScopeOf>[0]) => {
    const scope = await readScopeOf(request, resolveScope);
    let query = db.selectFrom('rm_coaching').selectAll().where(side, '=', scope.subjectId).where('tenant_id', '=', scope.tenantId);
    if (request.query.cursor !== undefined) query = query.where('relationship_id', '<', request.query.cursor);
    const rows = await query.orderBy('relationship_id', 'desc').limit(request.query.limit + 1).execute();
    const page = rows.slice(0, request.query.limit);
    return {
      items: page.map((r) => ({ relationshipId: r.relationship_id, trainerId: r.trainer_id, clientId: r.client_id, status: r.status, invitedAt: iso(r.invited_at) ?? '', acceptedAt: iso(r.accepted_at), endedAt: iso(r.ended_at) })),
      nextCursor: rows.length > request.query.limit ? (page.at(-1)?.relationship_id ?? null) : null,
    };
  };
  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/clients',
    { schema: { tags: ['coaching'], summary: "The caller's clients and invitations sent (trainers)", querystring: pageQuery, response: { 200: pageResponse('CoachingRelationship#'), ...authProblemResponses } } },
    async (request, reply) => reply.headers(PRIVATE_CACHE_HEADERS).send(await relationships('trainer_id')(request)),
  );
  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/coaching',
    { schema: { tags: ['coaching'], summary: "The caller's trainers and invitations received", querystring: pageQuery, response: { 200: pageResponse('CoachingRelationship#'), ...authProblemResponses } } },
    async (request, reply) => reply.headers(PRIVATE_CACHE_HEADERS).send(await relationships('client_id')(request)),
  );
  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/consents',
    { schema: { tags: ['consent'], summary: "The caller's consents, newest first (withdrawn ones included)", querystring: pageQuery, response: { 200: pageResponse('Consent#'), ...authProblemResponses } } },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      let query = db.selectFrom('rm_consents').selectAll().where('subject_id', '=', scope.subjectId).where('tenant_id', '=', scope.tenantId);
      if (request.query.cursor !== undefined) query = query.where('consent_id', '<', request.query.cursor);
      const rows = await query.orderBy('consent_id', 'desc').limit(request.query.limit + 1).execute();
      const page = rows.slice(0, request.query.limit);
      return reply.headers(PRIVATE_CACHE_HEADERS).send({
        items: page.map((c) => ({
          consentId: c.consent_id,
          purpose: c.purpose,
          trainerId: c.trainer_id,
          scopes: c.scopes,
          provider: c.provider,
          expiresAt: iso(c.expires_at),
          guardianId: c.guardian_id,
          confirmed: c.confirmed,
          withdrawn: c.withdrawn,
          givenAt: iso(c.given_at) ?? '',
          version: c.version,
        })),
        nextCursor: rows.length > request.query.limit ? (page.at(-1)?.consent_id ?? null) : null,
      });
    },
  );

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/memberships',
    { schema: { tags: ['organisations'], summary: "The caller's memberships and invitations", querystring: pageQuery, response: { 200: pageResponse('Membership#'), ...authProblemResponses } } },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      let query = db
        .selectFrom('rm_memberships as m')
        .innerJoin('rm_organisations as o', 'o.organisation_id', 'm.organisation_id')
        .select(['m.organisation_id', 'o.name', 'm.subject_id', 'm.role', 'm.status', 'm.updated_at'])
        .where('m.subject_id', '=', scope.subjectId);
      if (request.query.cursor !== undefined) query = query.where('m.organisation_id', '>', request.query.cursor);
      const rows = await query.orderBy('m.organisation_id').limit(request.query.limit + 1).execute();
      const page = rows.slice(0, request.query.limit);
      return reply.headers(PRIVATE_CACHE_HEADERS).send({
        items: page.map((m) => ({ organisationId: m.organisation_id, organisationName: m.name, subjectId: m.subject_id, role: m.role, status: m.status, updatedAt: iso(m.updated_at) ?? '' })),
        nextCursor: rows.length > request.query.limit ? (page.at(-1)?.organisation_id ?? null) : null,
      });
    },
  );
  app.get<{ Params: { organisationId: string }; Querystring: { limit: number; cursor?: string } }>(
    '/organisations/:organisationId/members',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Members of an organisation (its org admins only)',
        params: { type: 'object', additionalProperties: false, required: ['organisationId'], properties: { organisationId: { type: 'string', pattern: UUID_PATTERN } } },
        querystring: pageQuery,
        response: { 200: pageResponse('Membership#'), 404: { $ref: 'Problem#' }, ...authProblemResponses },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const { organisationId } = request.params;
      // Membership decides, not the token's role: anyone but an active org admin of it gets 404.
      const admin = await db
        .selectFrom('rm_memberships')
        .select('role')
        .where('organisation_id', '=', organisationId)
        .where('subject_id', '=', scope.subjectId)
        .where('status', '=', 'active')
        .where('role', '=', 'org_admin')
        .executeTakeFirst();
      if (admin === undefined) throw new HttpProblem(404, 'ORGANISATION_NOT_FOUND', 'Not Found', 'no such organisation (or you do not administer it)');
      let query = db.selectFrom('rm_memberships').selectAll().where('organisation_id', '=', organisationId);
      if (request.query.cursor !== undefined) query = query.where('subject_id', '>', request.query.cursor);
      const rows = await query.orderBy('subject_id').limit(request.query.limit + 1).execute();
      const page = rows.slice(0, request.query.limit);
      return reply.headers(PRIVATE_CACHE_HEADERS).send({
        items: page.map((m) => ({ organisationId: m.organisation_id, subjectId: m.subject_id, role: m.role, status: m.status, updatedAt: iso(m.updated_at) ?? '' })),
        nextCursor: rows.length > request.query.limit ? (page.at(-1)?.subject_id ?? null) : null,
      });
    },
  );
}
