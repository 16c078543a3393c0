import { goalProgress, type GoalSetData, type GoalTarget } from '@fitledger/domain';
import { HttpProblem } from '@fitledger/http';
import { goalWindow, loadGoalFacts, type ReadModelDb } from '@fitledger/projections';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { ReadScope, ReadScopeResolver } from '../readScope';
import { authProblemResponses, PRIVATE_CACHE_HEADERS, readScopeOf, recordWhileReading } from './readContext';

const MAX_GOALS = 100;

export const goalSchema = {
  $id: 'Goal',
  type: 'object',
  additionalProperties: false,
  required: ['goalId', 'target', 'startsOn', 'endsOn', 'status', 'progress', 'decidedAt'],
  properties: {
    goalId: { type: 'string', format: 'uuid' },
    target: { type: 'object', additionalProperties: true, required: ['kind'], properties: { kind: { type: 'string' } } },
    startsOn: { type: 'string' },
    endsOn: { type: 'string' },
    status: { type: 'string', enum: ['active', 'achieved', 'missed', 'cancelled'] },
    decidedAt: { type: ['string', 'null'], format: 'date-time' },
    progress: {
      type: 'object',
      additionalProperties: false,
      required: ['value', 'target', 'unit', 'fraction', 'achieved'],
      properties: { value: { type: ['number', 'null'] }, target: { type: 'number' }, unit: { type: 'string' }, fraction: { type: 'number' }, achieved: { type: 'boolean' } },
      description: 'Computed now from the read models: a corrected or deleted set or measurement moves it back.',
    },
  },
} as const;

interface GoalRow {
  goal_id: string;
  target: unknown;
  starts_on: string;
  ends_on: string;
  status: 'active' | 'achieved' | 'missed' | 'cancelled';
  decided_at: Date | null;
}


async function represent(db: Kysely<ReadModelDb>, scope: ReadScope, row: GoalRow) {
  const goal: GoalSetData = { goalId: row.goal_id, target: row.target as GoalTarget, startsOn: row.starts_on, endsOn: row.ends_on };
  const { from, to } = goalWindow(goal.startsOn, goal.endsOn);
  const progress = goalProgress(goal, await loadGoalFacts(db, scope, from, to), new Date());
  return {
    goalId: goal.goalId,
    target: goal.target,
    startsOn: goal.startsOn,
    endsOn: goal.endsOn,
    status: row.status,
    decidedAt: row.decided_at === null ? null : new Date(row.decided_at).toISOString(),
    progress: { value: progress.value, target: progress.target, unit: progress.unit, fraction: progress.fraction, achieved: progress.achieved },
  };
}

/** GET /goals and /goals/{id}: the caller's goals with their progress as of now. */
export function goalRoutes(app: FastifyInstance, deps: { db: Kysely<ReadModelDb>; resolveScope: ReadScopeResolver }): void {
  const { db, resolveScope } = deps;
  // Local dates as written (a JS Date would shift them by the process's time zone).
  const columns = ['goal_id', 'target', sql<string>`starts_on::text`.as('starts_on'), sql<string>`ends_on::text`.as('ends_on'), 'status', 'decided_at'] as const;

  app.get(
    '/goals',
    {
      schema: {
        summary: "The caller's goals (latest period first) with progress",
        tags: ['goals'],
        response: { 200: { type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items: { $ref: 'Goal#' } } } }, ...authProblemResponses },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      recordWhileReading(request);
      const rows = (await db.selectFrom('rm_goals').select(columns).where('subject_id', '=', scope.subjectId).where('tenant_id', '=', scope.tenantId).orderBy('ends_on', 'desc').orderBy('goal_id').limit(MAX_GOALS).execute()) as GoalRow[];
      const items = [];
      for (const row of rows) items.push(await represent(db, scope, row));
      return reply.headers(PRIVATE_CACHE_HEADERS).send({ items });
    },
  );

  app.get<{ Params: { goalId: string } }>(
    '/goals/:goalId',
    {
      schema: {
        summary: 'One goal with its progress',
        tags: ['goals'],
        params: { type: 'object', additionalProperties: false, required: ['goalId'], properties: { goalId: { type: 'string', format: 'uuid' } } },
        response: { 200: { $ref: 'Goal#' }, 404: { $ref: 'Problem#' }, ...authProblemResponses },
      },
    },
    async (request, reply) => {
      const scope = await readScopeOf(request, resolveScope);
      const row = (await db.selectFrom('rm_goals').select(columns).where('goal_id', '=', request.params.goalId).where('subject_id', '=', scope.subjectId).where('tenant_id', '=', scope.tenantId).executeTakeFirst());
      if (!row) throw new HttpProblem(404, 'GOAL_NOT_FOUND', 'Not Found', 'no such goal');
      return reply.headers(PRIVATE_CACHE_HEADERS).send(await represent(db, scope, row));
    },
  );
}
