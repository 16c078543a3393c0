import type { ExerciseEvent, ExerciseEventType } from '@fitledger/domain';
import type { Transaction } from 'kysely';
import type { Projection, ReadableEvent } from '../projectionRunner';
import type { FeedChange, ReadModelDb } from '../readModelDb';

export const EXERCISES_PROJECTION = 'exercises';

const EXERCISE_EVENT_TYPES: ReadonlySet<ExerciseEventType> = new Set<ExerciseEventType>(['ExerciseCreated', 'ExerciseRevised', 'ExerciseArchived']);

/** Rows per INSERT: 14 parameters each, well below PostgreSQL's 65 535. */
const CHUNK = 1_000;

interface CustomRow {
  exerciseId: string;
  tenantId: string;
  subjectId: string;
  definition: Extract<ExerciseEvent, { type: 'ExerciseCreated' | 'ExerciseRevised' }>['data'];
  archived: boolean;
  revision: number;
  position: string;
}

/**
 * Custom exercises into `rm_exercises`, beside the catalog. Created and revised events carry the
 * whole definition, so each batch collapses to one upsert per exercise (its last state) plus the
 * archivings of exercises defined in earlier batches; no row is read back. Scope comes from the
 * stream's metadata (tenant, owner) and the definition's visibility. No feed changes: the
 * library is not part of a person's live feed. `reset` removes custom rows only — the catalog is
 * reference data loaded by migration, not something a rebuild can recreate.
 */
export function exercisesProjection(): Projection {
  return {
    name: EXERCISES_PROJECTION,
    eventTypes: EXERCISE_EVENT_TYPES,

    async apply(events: readonly ReadableEvent[], trx: Transaction<ReadModelDb>): Promise<FeedChange[]> {
      const upserts = new Map<string, CustomRow>();
      const archivedOnly = new Map<string, { revision: number; position: string }>();
      for (const recorded of events) {
        const event = recorded as unknown as ExerciseEvent & { metadata: ReadableEvent['metadata']; revision: number; position: string };
        const exerciseId = event.data.exerciseId;
        switch (event.type) {
          case 'ExerciseCreated':
          case 'ExerciseRevised':
            upserts.set(exerciseId, {
              exerciseId,
              tenantId: event.metadata.tenantId,
              subjectId: event.metadata.subjectId,
              definition: event.data,
              archived: false,
              revision: event.revision,
              position: event.position,
            });
            archivedOnly.delete(exerciseId);
            break;
          case 'ExerciseArchived': {
            const pending = upserts.get(exerciseId);
            if (pending) Object.assign(pending, { archived: true, revision: event.revision, position: event.position });
            else archivedOnly.set(exerciseId, { revision: event.revision, position: event.position });
            break;
          }
          default: {
            const _: never = event;
            break;
          }
        }
      }

      const rows = [...upserts.values()];
      for (let i = 0; i < rows.length; i += CHUNK) {
        await trx
          .insertInto('rm_exercises')
          .values(
            rows.slice(i, i + CHUNK).map((r) => ({
              exercise_id: r.exerciseId,
              source: 'custom' as const,
              source_id: null,
              visibility: r.definition.visibility,
              tenant_id: r.tenantId,
              subject_id: r.subjectId,
              name: r.definition.name,
              category: r.definition.category,
              level: r.definition.level,
              equipment: r.definition.equipment ?? null,
              mechanic: r.definition.mechanic ?? null,
              force: r.definition.force ?? null,
              primary_muscles: [...r.definition.primaryMuscles],
              secondary_muscles: [...r.definition.secondaryMuscles],
              instructions: [...r.definition.instructions],
              media_links: [...r.definition.mediaLinks],
              archived: r.archived,
              revision: r.revision,
              updated_position: r.position,
            })),
          )
          .onConflict((oc) =>
            oc.column('exercise_id').doUpdateSet((eb) => ({
              visibility: eb.ref('excluded.visibility'),
              name: eb.ref('excluded.name'),
              category: eb.ref('excluded.category'),
              level: eb.ref('excluded.level'),
              equipment: eb.ref('excluded.equipment'),
              mechanic: eb.ref('excluded.mechanic'),
              force: eb.ref('excluded.force'),
              primary_muscles: eb.ref('excluded.primary_muscles'),
              secondary_muscles: eb.ref('excluded.secondary_muscles'),
              instructions: eb.ref('excluded.instructions'),
              media_links: eb.ref('excluded.media_links'),
              archived: eb.ref('excluded.archived'),
              revision: eb.ref('excluded.revision'),
              updated_position: eb.ref('excluded.updated_position'),
            }))
              // Never overwrite a catalog row, whatever id an event names.
              .where('rm_exercises.source', '=', 'custom'),
          )
          .execute();
      }
      for (const [exerciseId, at] of archivedOnly) {
        await trx
          .updateTable('rm_exercises')
          .set({ archived: true, revision: at.revision, updated_position: at.position })
          .where('exercise_id', '=', exerciseId)
          .where('source', '=', 'custom')
          .execute();
      }
      return [];
    },

    async reset(trx: Transaction<ReadModelDb>): Promise<void> {
      await trx.deleteFrom('rm_exercises').where('source', '=', 'custom').execute();
    },
  };
}
