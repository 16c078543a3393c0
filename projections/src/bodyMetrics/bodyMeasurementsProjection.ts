import { canonicalValue, type BodyMeasurementEvent, type BodyMeasurementEventType, type BodyMeasurementRecordedData } from '@fitledger/domain';
import { sql, type Insertable, type Transaction } from 'kysely';
import type { Projection, ReadableEvent } from '../projectionRunner';
import { lockFeedOrder } from '../feedOrder';
import type { FeedChange, ReadModelDb, RmBodyMeasurementsTable } from '../readModelDb';

export const BODY_MEASUREMENTS_PROJECTION = 'body_measurements';

const BODY_MEASUREMENT_EVENT_TYPES: ReadonlySet<BodyMeasurementEventType> = new Set<BodyMeasurementEventType>([
  'BodyMeasurementRecorded',
  'BodyMeasurementCorrected',
  'BodyMeasurementDeleted',
]);

/** Rows per INSERT: 14 parameters each, well below PostgreSQL's 65 535. */
const CHUNK = 1_000;

type Row = Insertable<RmBodyMeasurementsTable>;

function rowOf(data: BodyMeasurementRecordedData, meta: { tenantId: string; subjectId: string; revision: number; position: string }): Row {
  const entered = 'entered' in data ? data.entered : undefined;
  return {
    measurement_id: data.measurementId,
    tenant_id: meta.tenantId,
    subject_id: meta.subjectId,
    metric: data.metric,
    site: data.metric === 'circumference' ? data.site : null,
    value_si: canonicalValue(data),
    entered_value: entered?.value ?? null,
    entered_unit: entered?.unit ?? null,
    systolic_mmhg: data.metric === 'blood_pressure' ? data.systolicMmHg : null,
    diastolic_mmhg: data.metric === 'blood_pressure' ? data.diastolicMmHg : null,
    measured_at: data.measuredAt,
    note: data.note ?? null,
    revision: meta.revision,
    updated_position: meta.position,
  };
}

/**
 * Body measurements into `rm_body_measurements` (one row per current measurement; a deletion
 * removes it) and the owner's live feed (kind `body_measurement`: the measurement as of each
 * event, or null with op `delete`). Each event carries the measurement's whole state, so a batch
 * collapses to one write per measurement and no row is read back.
 */
export function bodyMeasurementsProjection(): Projection {
  return {
    name: BODY_MEASUREMENTS_PROJECTION,
    eventTypes: BODY_MEASUREMENT_EVENT_TYPES,

    async apply(events: readonly ReadableEvent[], trx: Transaction<ReadModelDb>): Promise<FeedChange[]> {
      const last = new Map<string, Row | null>();
      const changes: { subjectId: string; tenantId: string; position: string; measurementId: string; traceparent: string | null; row: Row | null }[] = [];
      for (const recorded of events) {
        const event = { type: recorded.type, data: recorded.data } as BodyMeasurementEvent;
        const meta = { tenantId: recorded.metadata.tenantId, subjectId: recorded.metadata.subjectId, revision: recorded.revision, position: recorded.position };
        let row: Row | null;
        switch (event.type) {
          case 'BodyMeasurementRecorded':
            row = rowOf(event.data, meta);
            break;
          case 'BodyMeasurementCorrected': {
            const { reason: _reason, ...data } = event.data;
            row = rowOf(data, meta);
            break;
          }
          case 'BodyMeasurementDeleted':
            row = null;
            break;
          default: {
            const _: never = event;
            continue;
          }
        }
        last.set(event.data.measurementId, row);
        const traceparent = recorded.metadata['traceparent'];
        changes.push({ subjectId: meta.subjectId, tenantId: meta.tenantId, position: meta.position, measurementId: event.data.measurementId, traceparent: typeof traceparent === 'string' ? traceparent : null, row });
      }

      const deleted = [...last].filter(([, row]) => row === null).map(([id]) => id);
      const upserts = [...last.values()].filter((row): row is Row => row !== null);
      if (deleted.length > 0) await trx.deleteFrom('rm_body_measurements').where('measurement_id', 'in', deleted).execute();
      for (let i = 0; i < upserts.length; i += CHUNK) {
        await trx
          .insertInto('rm_body_measurements')
          .values(upserts.slice(i, i + CHUNK))
          .onConflict((oc) =>
            oc.column('measurement_id').doUpdateSet((eb) => ({
              site: eb.ref('excluded.site'),
              value_si: eb.ref('excluded.value_si'),
              entered_value: eb.ref('excluded.entered_value'),
              entered_unit: eb.ref('excluded.entered_unit'),
              systolic_mmhg: eb.ref('excluded.systolic_mmhg'),
              diastolic_mmhg: eb.ref('excluded.diastolic_mmhg'),
              measured_at: eb.ref('excluded.measured_at'),
              note: eb.ref('excluded.note'),
              revision: eb.ref('excluded.revision'),
              updated_position: eb.ref('excluded.updated_position'),
            })),
          )
          .execute();
      }
      if (changes.length === 0) return [];
      // One feed row per event. Each event carries the measurement's whole state, so the payload is
      // the row as of that event (not of the batch end): the same whatever the batch boundaries.
      const payloads = changes.map((c) => (c.row === null ? null : JSON.stringify({ ...c.row, measured_at: new Date(c.row.measured_at).toISOString(), revision: Number(c.row.revision) })));
      await lockFeedOrder(trx);
      const result = await sql<{ subject_id: string; position: string; seq: number; kind: 'body_measurement'; entity_id: string; op: 'upsert' | 'delete' }>`
        INSERT INTO rm_feed_changes (subject_id, position, seq, kind, entity_id, op, payload, traceparent, tenant_id)
        SELECT c.subject_id, c.position, 0, 'body_measurement', c.measurement_id::text, CASE WHEN c.payload IS NULL THEN 'delete' ELSE 'upsert' END, c.payload, c.traceparent, c.tenant_id
          FROM unnest(${changes.map((c) => c.subjectId)}::text[], ${changes.map((c) => c.position)}::text[], ${changes.map((c) => c.measurementId)}::uuid[],
                      ${payloads}::jsonb[], ${changes.map((c) => c.traceparent)}::text[], ${changes.map((c) => c.tenantId)}::text[])
               AS c(subject_id, position, measurement_id, payload, traceparent, tenant_id)
        RETURNING subject_id, position, seq, kind, entity_id, op`.execute(trx);
      return result.rows
        .map((r) => ({ subjectId: r.subject_id, position: r.position, seq: r.seq, kind: r.kind, entityId: r.entity_id, op: r.op }))
        .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
    },

    async reset(trx: Transaction<ReadModelDb>): Promise<void> {
      await trx.deleteFrom('rm_feed_changes').where('kind', '=', 'body_measurement').execute();
      await sql`TRUNCATE rm_body_measurements`.execute(trx);
    },
  };
}
