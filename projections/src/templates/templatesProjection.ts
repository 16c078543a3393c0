import type { TemplateEvent, TemplateEventType, WorkoutPlannedData } from '@fitledger/domain';
import { sql, type Transaction } from 'kysely';
import type { Projection, ReadableEvent } from '../projectionRunner';
import type { FeedChange, ReadModelDb } from '../readModelDb';

export const TEMPLATES_PROJECTION = 'templates';

const TEMPLATE_EVENT_TYPES: ReadonlySet<TemplateEventType> = new Set<TemplateEventType>(['TemplateCreated', 'TemplateRevised', 'TemplateArchived']);
const EVENT_TYPES: ReadonlySet<string> = new Set([...TEMPLATE_EVENT_TYPES, 'WorkoutPlanned']);

interface Current {
  templateId: string;
  tenantId: string;
  subjectId: string;
  data: Extract<TemplateEvent, { type: 'TemplateCreated' | 'TemplateRevised' }>['data'] | undefined;
  archived: boolean;
  revision: number;
  position: string;
}

/**
 * Templates into `rm_templates` (current version, archived flag, how many workouts were planned
 * from it) and `rm_template_versions` (every version). Uses are counted from WorkoutPlanned events
 * that name a template, so a rebuild recounts them. No feed changes.
 */
export function templatesProjection(): Projection {
  return {
    name: TEMPLATES_PROJECTION,
    eventTypes: EVENT_TYPES,

    async apply(events: readonly ReadableEvent[], trx: Transaction<ReadModelDb>): Promise<FeedChange[]> {
      const current = new Map<string, Current>();
      const versions: { templateId: string; version: number; name: string; notes: string | null; plannedSets: string; visibility: string; recordedAt: string }[] = [];
      const uses = new Map<string, number>();
      for (const recorded of events) {
        if (recorded.type === 'WorkoutPlanned') {
          const { templateId } = recorded.data as WorkoutPlannedData;
          if (templateId !== undefined) uses.set(templateId, (uses.get(templateId) ?? 0) + 1);
          continue;
        }
        const event = { type: recorded.type, data: recorded.data } as TemplateEvent;
        const templateId = event.data.templateId;
        const entry = current.get(templateId) ?? {
          templateId,
          tenantId: recorded.metadata.tenantId,
          subjectId: recorded.metadata.subjectId,
          data: undefined,
          archived: false,
          revision: recorded.revision,
          position: recorded.position,
        };
        entry.revision = recorded.revision;
        entry.position = recorded.position;
        switch (event.type) {
          case 'TemplateCreated':
          case 'TemplateRevised':
            entry.data = event.data;
            entry.archived = false;
            versions.push({
              templateId,
              version: event.data.version,
              name: event.data.name,
              notes: event.data.notes ?? null,
              plannedSets: JSON.stringify(event.data.plannedSets),
              visibility: event.data.visibility,
              recordedAt: new Date(recorded.recordedAt).toISOString(),
            });
            break;
          case 'TemplateArchived':
            entry.archived = true;
            break;
          default: {
            const _: never = event;
            break;
          }
        }
        current.set(templateId, entry);
      }

      for (const entry of current.values()) {
        if (entry.data === undefined) {
          // Only archived in this batch: the row exists from an earlier one.
          await trx.updateTable('rm_templates').set({ archived: entry.archived, revision: entry.revision, updated_position: entry.position }).where('template_id', '=', entry.templateId).execute();
          continue;
        }
        const row = {
          template_id: entry.templateId,
          tenant_id: entry.tenantId,
          subject_id: entry.subjectId,
          visibility: entry.data.visibility,
          name: entry.data.name,
          notes: entry.data.notes ?? null,
          planned_sets: JSON.stringify(entry.data.plannedSets),
          version: entry.data.version,
          archived: entry.archived,
          revision: entry.revision,
          updated_position: entry.position,
        };
        await trx
          .insertInto('rm_templates')
          .values(row)
          .onConflict((oc) =>
            oc.column('template_id').doUpdateSet({
              visibility: row.visibility,
              name: row.name,
              notes: row.notes,
              planned_sets: row.planned_sets,
              version: row.version,
              archived: row.archived,
              revision: row.revision,
              updated_position: row.updated_position,
            }),
          )
          .execute();
      }
      if (versions.length > 0) {
        await trx
          .insertInto('rm_template_versions')
          .values(versions.map((v) => ({ template_id: v.templateId, version: v.version, name: v.name, notes: v.notes, planned_sets: v.plannedSets, visibility: v.visibility, recorded_at: v.recordedAt })))
          .onConflict((oc) => oc.columns(['template_id', 'version']).doNothing())
          .execute();
      }
      for (const [templateId, n] of uses) {
        await sql`UPDATE rm_templates SET use_count = use_count + ${n} WHERE template_id = ${templateId}::uuid`.execute(trx);
      }
      return [];
    },

    async reset(trx: Transaction<ReadModelDb>): Promise<void> {
      await sql`TRUNCATE rm_templates, rm_template_versions`.execute(trx);
    },
  };
}
