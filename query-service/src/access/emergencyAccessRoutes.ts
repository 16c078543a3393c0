import { requireIdentity } from '@fitledger/auth';
import { HttpProblem } from '@fitledger/http';
import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { ReadScopeResolver } from '../readScope';
import { authProblemResponses, pageResponse, PRIVATE_CACHE_HEADERS, readScopeOf } from '../routes/readContext';
import type { ConsentReader } from './consentReader';

const instant = { type: ['string', 'null'], format: 'date-time' } as const;
const grantSchema = {
  $id: 'EmergencyGrant',
  type: 'object',
  additionalProperties: false,
  required: ['grantId', 'openedBy', 'expiresAt', 'closed', 'reviewOutcome'],
  properties: {
    grantId: { type: 'string', format: 'uuid' },
    subjectId: { type: 'string' },
    openedBy: { type: 'string' },
    reason: { type: 'string', description: 'Shown to the subject only; reviewers read it in the audit history.' },
    openedAt: instant,
    expiresAt: { type: 'string', format: 'date-time' },
    closed: { type: 'boolean' },
    reviewOutcome: { type: ['string', 'null'], enum: ['justified', 'unjustified', null] },
  },
} as const;
export const emergencyAccessSchemas = [grantSchema];

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/**
 * GET /emergency-access: who opened emergency access to the caller's data, why and until when
 * (from the stream itself: visible at once). GET /emergency-access/review-queue: unreviewed
 * grants for auditors (their organisation) and platform admins (all).
 */
export function emergencyAccessReadRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver; consents: ConsentReader }): void {
  const { db, resolveScope, consents } = deps;
  app.get(
    '/emergency-access',
    { schema: { tags: ['emergency access'], summary: 'Emergency access to my data (break-glass), newest first', response: { 200: pageResponse('EmergencyGrant#'), ...authProblemResponses } } },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const state = await consents.emergency(scope.tenantId, scope.subjectId);
      const items = [...state.grants.values()]
        .map((g) => ({ grantId: g.opened.grantId, openedBy: g.opened.openedBy, reason: g.opened.reason, expiresAt: g.opened.expiresAt, closed: g.closed, reviewOutcome: g.review?.outcome ?? null }))
        .reverse();
      return reply.headers(PRIVATE_CACHE_HEADERS).send({ items, nextCursor: null });
    },
  );
  app.get<{ Querystring: { limit: number } }>(
    '/emergency-access/review-queue',
    {
      schema: {
        tags: ['emergency access'],
        summary: 'Emergency accesses awaiting review (auditors: their organisation; platform admins: all), oldest first',
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 } } },
        response: { 200: pageResponse('EmergencyGrant#', 'Always null: review the oldest, then ask again.'), ...authProblemResponses },
      },
    },
    async (request, reply) => {
      const identity = requireIdentity(request);
      await readScopeOf(request, resolveScope);
      if (identity.role !== 'auditor' && identity.role !== 'platform_admin') throw new HttpProblem(403, 'ROLE_NOT_ALLOWED', 'Forbidden', 'only auditors and platform admins review emergency access');
      let query = db.selectFrom('rm_emergency_access').selectAll().where('reviewed_by', 'is', null);
      if (identity.role === 'auditor') query = query.where('tenant_id', '=', identity.tenantId);
      const rows = await query.orderBy('opened_at').orderBy('grant_id').limit(request.query.limit).execute();
      return reply.headers(PRIVATE_CACHE_HEADERS).send({
        items: rows.map((r) => ({ grantId: r.grant_id, subjectId: r.subject_id, openedBy: r.opened_by, openedAt: iso(r.opened_at), expiresAt: iso(r.expires_at) ?? '', closed: r.closed_at !== null, reviewOutcome: r.review_outcome as 'justified' | 'unjustified' | null })),
        nextCursor: null,
      });
    },
  );
}
