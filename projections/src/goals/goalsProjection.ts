import type { GoalEvent, GoalEventType } from '@fitledger/domain';
import { sql, type Transaction } from 'kysely';
import type { Projection, ReadableEvent } from '../projectionRunner';
import type { FeedChange, ReadModelDb } from '../readModelDb';

export const GOALS_PROJECTION = 'goals';
const EVENT_TYPES: ReadonlySet<GoalEventType> = new Set<GoalEventType>(['GoalSet', 'GoalCancelled', 'GoalAchieved', 'GoalMissed']);

/** Goals into `rm_goals`: the target and period as set, then the status and the decision. No feed changes. */
export function goalsProjection(): Projection {
  return {
    name: GOALS_PROJECTION,
    eventTypes: EVENT_TYPES,
    async apply(events: readonly ReadableEvent[], trx: Transaction<ReadModelDb>): Promise<FeedChange[]> {
      for (const recorded of events) {
        const event = { type: recorded.type, data: recorded.data } as GoalEvent;
        const at = { revision: recorded.revision, updated_position: recorded.position };
        switch (event.type) {
          case 'GoalSet': {
            const { goalId, target, startsOn, endsOn } = event.data;
            await trx
              .insertInto('rm_goals')
              .values({ goal_id: goalId, tenant_id: recorded.metadata.tenantId, subject_id: recorded.metadata.subjectId, target: JSON.stringify(target), starts_on: startsOn, ends_on: endsOn, status: 'active', ...at })
              .onConflict((oc) => oc.column('goal_id').doNothing())
              .execute();
            break;
          }
          case 'GoalCancelled':
            await trx.updateTable('rm_goals').set({ status: 'cancelled', ...at }).where('goal_id', '=', event.data.goalId).execute();
            break;
          case 'GoalAchieved':
            await trx.updateTable('rm_goals').set({ status: 'achieved', decided_at: event.data.achievedAt, decided_value: event.data.value, ...at }).where('goal_id', '=', event.data.goalId).execute();
            break;
          case 'GoalMissed':
            await trx.updateTable('rm_goals').set({ status: 'missed', decided_at: event.data.missedAt, decided_value: event.data.value, ...at }).where('goal_id', '=', event.data.goalId).execute();
            break;
          default: {
            const _: never = event;
            break;
          }
        }
      }
      return [];
    },
    async reset(trx: Transaction<ReadModelDb>): Promise<void> {
      await sql`TRUNCATE rm_goals`.execute(trx);
    },
  };
}
