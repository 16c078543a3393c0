import type { PlanEvent, PlanEventType } from '@fitledger/domain';
import { sql, type Transaction } from 'kysely';
import { assignedByOf } from '../assignedBy';
import type { Projection, ReadableEvent } from '../projectionRunner';
import type { FeedChange, ReadModelDb } from '../readModelDb';

export const PLANS_PROJECTION = 'plans';
const EVENT_TYPES: ReadonlySet<PlanEventType> = new Set<PlanEventType>(['PlanCreated', 'PlanRevised', 'PlanArchived']);

/** Weekly plans into `rm_plans` (the definition as of the last event; archived flag). No feed changes. */
export function plansProjection(): Projection {
  return {
    name: PLANS_PROJECTION,
    eventTypes: EVENT_TYPES,
    async apply(events: readonly ReadableEvent[], trx: Transaction<ReadModelDb>): Promise<FeedChange[]> {
      for (const recorded of events) {
        const event = { type: recorded.type, data: recorded.data } as PlanEvent;
        switch (event.type) {
          case 'PlanCreated':
          case 'PlanRevised': {
            const { planId, ...definition } = event.data;
            const row = { name: definition.name, definition: JSON.stringify(definition), archived: false, revision: recorded.revision, updated_position: recorded.position };
            await trx
              .insertInto('rm_plans')
              .values({ plan_id: planId, tenant_id: recorded.metadata.tenantId, subject_id: recorded.metadata.subjectId, assigned_by: assignedByOf(recorded), ...row })
              .onConflict((oc) => oc.column('plan_id').doUpdateSet(row))
              .execute();
            break;
          }
          case 'PlanArchived':
            await trx.updateTable('rm_plans').set({ archived: true, revision: recorded.revision, updated_position: recorded.position }).where('plan_id', '=', event.data.planId).execute();
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
      await sql`TRUNCATE rm_plans`.execute(trx);
    },
  };
}
