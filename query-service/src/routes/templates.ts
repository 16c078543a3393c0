import { HttpProblem } from '@fitledger/http';
import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { ReadScope, ReadScopeResolver } from '../readScope';
import { authProblemResponses, PRIVATE_CACHE_HEADERS, readScopeOf, recordWhileReading } from './readContext';
import { ifNoneMatchHits } from './workouts';

const MAX_TEMPLATES = 200;

const plannedSet = {
  type: 'object',
  description: 'A target set in entered and canonical units (as logged sets are).',
  additionalProperties: true,
  properties: { exerciseId: { type: 'string' } },
} as const;

export const templateSchema = {
  $id: 'Template',
  type: 'object',
  additionalProperties: false,
  required: ['templateId', 'name', 'notes', 'visibility', 'version', 'plannedSets', 'useCount', 'archived', 'mine', 'revision'],
  properties: {
    templateId: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    notes: { type: ['string', 'null'] },
    visibility: { type: 'string', enum: ['private', 'organisation'] },
    version: { type: 'integer', description: 'Current version (1 on creation, +1 per revision).' },
    plannedSets: { type: 'array', items: plannedSet },
    useCount: { type: 'integer', description: 'Workouts planned from this template (any version).' },
    archived: { type: 'boolean' },
    mine: { type: 'boolean', description: 'Whether the caller authored it (only the author changes a template).' },
    revision: { type: 'integer', description: 'The ETag.' },
    versions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['version', 'name', 'recordedAt'],
        properties: { version: { type: 'integer' }, name: { type: 'string' }, recordedAt: { type: 'string', format: 'date-time' } },
      },
    },
  },
} as const;

interface TemplateRow {
  template_id: string;
  subject_id: string;
  name: string;
  notes: string | null;
  visibility: 'private' | 'organisation';
  version: number;
  planned_sets: unknown;
  use_count: number;
  archived: boolean;
  revision: string;
}

function representation(row: TemplateRow, scope: ReadScope) {
  return {
    templateId: row.template_id,
    name: row.name,
    notes: row.notes,
    visibility: row.visibility,
    version: row.version,
    plannedSets: Array.isArray(row.planned_sets) ? row.planned_sets : [],
    useCount: row.use_count,
    archived: row.archived,
    mine: row.subject_id === scope.subjectId,
    revision: Number(row.revision),
  };
}

const columns = ['template_id', 'subject_id', 'name', 'notes', 'visibility', 'version', 'planned_sets', 'use_count', 'archived', 'revision'] as const;
const notFound = (): HttpProblem => new HttpProblem(404, 'TEMPLATE_NOT_FOUND', 'Not Found', 'no such template');
const templateIdParams = { type: 'object', additionalProperties: false, required: ['templateId'], properties: { templateId: { type: 'string', format: 'uuid' } } } as const;

/** GET /templates and /templates/{id}: the caller's own templates and those shared in their organisation. */
export function templateRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;
  /** Own (any visibility) or shared within the caller's organisation. */
  const visibleTo = (scope: ReadScope) => sql<boolean>`tenant_id = ${scope.tenantId} AND (subject_id = ${scope.subjectId} OR visibility = 'organisation')`;

  app.get<{ Querystring: { archived?: boolean } }>(
    '/templates',
    {
      schema: {
        summary: 'Templates the caller may plan from: their own and those shared in their organisation, by name',
        description: `At most ${MAX_TEMPLATES}, archived ones only with archived=true.`,
        tags: ['templates'],
        querystring: { type: 'object', additionalProperties: false, properties: { archived: { type: 'boolean', default: false } } },
        response: {
          200: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: { $ref: 'Template#' } } } },
          ...authProblemResponses,
        },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      recordWhileReading(request);
      const rows = (await db
        .selectFrom('rm_templates')
        .select(columns)
        .where(visibleTo(scope))
        .where('archived', '=', request.query.archived ?? false)
        .orderBy('name')
        .orderBy('template_id')
        .limit(MAX_TEMPLATES)
        .execute()) as TemplateRow[];
      return reply.headers(PRIVATE_CACHE_HEADERS).send({ items: rows.map((r) => representation(r, scope)) });
    },
  );

  app.get<{ Params: { templateId: string } }>(
    '/templates/:templateId',
    {
      schema: {
        summary: 'One template with its version history; `ETag` is its revision',
        tags: ['templates'],
        params: templateIdParams,
        response: { 200: { $ref: 'Template#' }, 304: { type: 'null', description: 'Not modified.' }, 404: { $ref: 'Problem#' }, ...authProblemResponses },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const row = (await db.selectFrom('rm_templates').select(columns).where('template_id', '=', request.params.templateId).where(visibleTo(scope)).executeTakeFirst());
      if (!row) throw notFound();
      const etag = `"${row.revision}"`;
      reply.headers({ ...PRIVATE_CACHE_HEADERS, etag });
      if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send();
      const versions = await db
        .selectFrom('rm_template_versions')
        .select(['version', 'name', 'recorded_at'])
        .where('template_id', '=', row.template_id)
        .orderBy('version')
        .execute();
      return reply.send({ ...representation(row, scope), versions: versions.map((v) => ({ version: v.version, name: v.name, recordedAt: new Date(v.recorded_at).toISOString() })) });
    },
  );
}
