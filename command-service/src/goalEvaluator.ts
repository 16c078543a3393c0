import { goalProgress, type GoalSetData, type GoalTarget } from '@fitledger/domain';
import { goalWindow, loadGoalFacts, type ReadModelDb } from '@fitledger/projections';
import { sql, type Kysely } from 'kysely';
import type { GoalCommandRunner } from './goalCommandRunner';

export interface GoalEvaluation {
  readonly evaluated: number;
  readonly achieved: number;
  readonly missed: number;
}

/**
 * Decides active goals from the read models: a goal whose progress reaches its target is recorded
 * as achieved, one whose period is over (or, per week, whose finished week fell short) as missed —
 * each through the goal stream's decider as actor `system:goal-evaluator` on behalf of its owner,
 * so an outcome is recorded once however often (or in how many processes) this runs. Run it after
 * projection commits and periodically (a period ends without any event).
 */
export function createGoalEvaluator(deps: { db: Kysely<ReadModelDb>; goals: GoalCommandRunner; clock: () => Date }) {
  async function evaluate(options: { subjectIds?: readonly string[]; limit?: number } = {}): Promise<GoalEvaluation> {
    let query = deps.db
      .selectFrom('rm_goals')
      .select(['goal_id', 'tenant_id', 'subject_id', 'target'])
      // Local dates as written (a JS Date would shift them by the process's time zone).
      .select([sql<string>`starts_on::text`.as('starts_on'), sql<string>`ends_on::text`.as('ends_on')])
      .where('status', '=', 'active')
      .orderBy('ends_on')
      .limit(options.limit ?? 1_000);
    if (options.subjectIds !== undefined) {
      if (options.subjectIds.length === 0) return { evaluated: 0, achieved: 0, missed: 0 };
      query = query.where('subject_id', 'in', [...options.subjectIds]);
    }
    const rows = await query.execute();
    const now = deps.clock();
    let achieved = 0;
    let missed = 0;
    for (const row of rows) {
      const { starts_on: startsOn, ends_on: endsOn } = row;
      const goal: GoalSetData = { goalId: row.goal_id, target: row.target as GoalTarget, startsOn, endsOn };
      const { from, to } = goalWindow(startsOn, endsOn);
      const progress = goalProgress(goal, await loadGoalFacts(deps.db, { subjectId: row.subject_id, tenantId: row.tenant_id }, from, to), now);
      const outcome = progress.achieved ? 'achieved' : progress.missed ? 'missed' : undefined;
      if (outcome === undefined) continue;
      await deps.goals.execute(deps.goals.systemContext('goal-evaluator'), {
        id: row.goal_id,
        action: 'change',
        command: (metadata) => ({ type: 'RecordGoalOutcome', metadata, data: { goalId: row.goal_id, outcome, value: progress.value ?? 0 } }),
      });
      if (outcome === 'achieved') achieved++;
      else missed++;
    }
    return { evaluated: rows.length, achieved, missed };
  }
  return { evaluate };
}

export type GoalEvaluator = ReturnType<typeof createGoalEvaluator>;
