import { DomainError, planOccurrences, type LocalDate, type PlanDefinition } from '@fitledger/domain';
import { HttpProblem } from '@fitledger/http';
import type { ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { ReadScopeResolver } from '../readScope';
import { authProblemResponses, PRIVATE_CACHE_HEADERS, readScopeOf, recordWhileReading } from './readContext';

const MAX_PLANS = 100;
const notFound = (): HttpProblem => new HttpProblem(404, 'PLAN_NOT_FOUND', 'Not Found', 'no such plan');
const params = { type: 'object', additionalProperties: false, required: ['planId'], properties: { planId: { type: 'string', format: 'uuid' } } } as const;
const date = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

export const planSchema = {
  $id: 'Plan',
  type: 'object',
  additionalProperties: false,
  required: ['planId', 'name', 'timeZone', 'startsOn', 'endsOn', 'entries', 'archived', 'revision', 'assignedBy'],
  properties: {
    planId: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    timeZone: { type: 'string' },
    startsOn: date,
    endsOn: { type: ['string', 'null'] },
    entries: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['weekday', 'time', 'templateId'],
        properties: { weekday: { type: 'integer' }, time: { type: 'string' }, templateId: { type: 'string' } },
      },
    },
    archived: { type: 'boolean' },
    revision: { type: 'integer' },
    assignedBy: { type: ['string', 'null'], description: 'The trainer who assigned this plan (coach-assigned); null for your own.' },
  },
} as const;

interface PlanRow {
  plan_id: string;
  definition: unknown;
  archived: boolean;
  revision: string;
  assigned_by: string | null;
}

function representation(row: PlanRow) {
  const d = row.definition as PlanDefinition;
  return { planId: row.plan_id, name: d.name, timeZone: d.timeZone, startsOn: d.startsOn, endsOn: d.endsOn ?? null, entries: d.entries, archived: row.archived, revision: Number(row.revision), assignedBy: row.assigned_by };
}

/** GET /plans, /plans/{id} and /plans/{id}/schedule: the caller's own weekly plans. */
export function planRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;

  async function planOf(planId: string, scope: { tenantId: string; subjectId: string }): Promise<PlanRow> {
    const row = (await db
      .selectFrom('rm_plans')
      .select(['plan_id', 'definition', 'archived', 'revision', 'assigned_by'])
      .where('plan_id', '=', planId)
      .where('tenant_id', '=', scope.tenantId)
      .where('subject_id', '=', scope.subjectId)
      .executeTakeFirst());
    if (!row) throw notFound();
    return row;
  }

  app.get(
    '/plans',
    {
      schema: {
        summary: "The caller's weekly plans, by name",
        tags: ['plans'],
        response: { 200: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: { $ref: 'Plan#' } } } }, ...authProblemResponses },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      recordWhileReading(request);
      const rows = (await db
        .selectFrom('rm_plans')
        .select(['plan_id', 'definition', 'archived', 'revision', 'assigned_by'])
        .where('tenant_id', '=', scope.tenantId)
        .where('subject_id', '=', scope.subjectId)
        .orderBy('name')
        .orderBy('plan_id')
        .limit(MAX_PLANS)
        .execute()) as PlanRow[];
      return reply.headers(PRIVATE_CACHE_HEADERS).send({ items: rows.map(representation) });
    },
  );

  app.get<{ Params: { planId: string } }>(
    '/plans/:planId',
    { schema: { summary: 'One weekly plan', tags: ['plans'], params, response: { 200: { $ref: 'Plan#' }, 404: { $ref: 'Problem#' }, ...authProblemResponses } } },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const row = await planOf(request.params.planId, scope);
      return reply.headers({ ...PRIVATE_CACHE_HEADERS, etag: `"${row.revision}"` }).send(representation(row));
    },
  );

  app.get<{ Params: { planId: string }; Querystring: { from: string; to: string } }>(
    '/plans/:planId/schedule',
    {
      schema: {
        summary: 'The plan’s sessions between two local dates (inclusive), at their wall-clock time in the plan’s zone',
        description: 'Each session names its template (and the template’s name when you may see it) and the UTC instant of its local time; DST switches keep the wall-clock time. At most 366 days per request.',
        tags: ['plans'],
        params,
        querystring: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: date, to: date } },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['timeZone', 'assignedBy', 'sessions'],
            properties: {
              timeZone: { type: 'string' },
              assignedBy: { type: ['string', 'null'], description: 'The trainer who assigned the plan; its sessions are coach-assigned.' },
              sessions: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['date', 'weekday', 'time', 'at', 'templateId', 'templateName'],
                  properties: {
                    date,
                    weekday: { type: 'integer' },
                    time: { type: 'string' },
                    at: { type: 'string', format: 'date-time' },
                    templateId: { type: 'string' },
                    templateName: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          404: { $ref: 'Problem#' },
          ...authProblemResponses,
        },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const { from, to } = request.query;
      for (const [field, value] of [['from', from], ['to', to]] as const) {
        if (new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) throw new HttpProblem(400, 'VALIDATION_FAILED', 'Bad Request', `/querystring/${field}: not a date`, [{ field: `/querystring/${field}`, message: 'must be an existing date' }]);
      }
      const row = await planOf(request.params.planId, scope);
      const definition = row.definition as PlanDefinition;
      let sessions;
      try {
        sessions = planOccurrences(definition, from as LocalDate, to as LocalDate);
      } catch (error) {
        if (error instanceof DomainError) throw new HttpProblem(400, 'VALIDATION_FAILED', 'Bad Request', `/querystring/to: ${error.message}`, [{ field: '/querystring/to', message: error.message }]);
        throw error;
      }
      const ids = [...new Set(sessions.map((s) => s.templateId))];
      const names = new Map<string, string>();
      if (ids.length > 0) {
        const rows = await db
          .selectFrom('rm_templates')
          .select(['template_id', 'name'])
          .where(sql<boolean>`template_id = ANY(${ids}::uuid[])`)
          .where(sql<boolean>`tenant_id = ${scope.tenantId} AND (subject_id = ${scope.subjectId} OR visibility = 'organisation')`)
          .execute();
        for (const r of rows) names.set(r.template_id, r.name);
      }
      return reply.headers(PRIVATE_CACHE_HEADERS).send({
        timeZone: definition.timeZone,
        assignedBy: row.assigned_by,
        sessions: sessions.map((s) => ({ date: s.date, weekday: s.weekday, time: s.time, at: s.at.toISOString(), templateId: s.templateId, templateName: names.get(s.templateId) ?? null })),
      });
    },
  );
}
