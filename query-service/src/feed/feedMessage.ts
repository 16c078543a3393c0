import type { UnitPreferences } from '@fitledger/domain';
import type { FeedKind, FeedOp } from '@fitledger/projections';
import { bodyMeasurement, type BodyMeasurementRepresentation, type BodyMeasurementRowLike } from '../bodyMeasurementRepresentation';
import { encodeFeedCursor, type FeedCursor } from '../cursor';
import type { ReadScope } from '../readScope';
import {
  personalRecord,
  workoutChange,
  type PersonalRecordRepresentation,
  type PersonalRecordRowLike,
  type WorkoutChangeRepresentation,
  type WorkoutRowLike,
} from '../workoutRepresentation';

/** One websocket message of the live feed. */
export interface FeedMessage {
  /** Resume point: reconnect with `?after=<cursor>` to get the changes after this one. */
  readonly cursor: string;
  readonly kind: FeedKind;
  readonly op: FeedOp;
  /** workoutId for `workout`, exerciseId for `personal_record`. */
  readonly entityId: string;
  /**
   * Shaped like the REST representations; null when op is `delete`. `workout`: the WorkoutSummary
   * plus the sets the change logged or corrected (`sets`) and deleted (`deletedSetIds`).
   * `personal_record`: the PersonalRecord. `body_measurement`: the BodyMeasurement. Workouts and
   * personal records are rendered from the read model when the message is sent (see `feedPayload`).
   */
  readonly payload: WorkoutChangeRepresentation | PersonalRecordRepresentation | BodyMeasurementRepresentation | null;
}

export interface FeedRow {
  /** The row's place in the feed (bigint as text): its cursor. */
  readonly feed_id: string;
  readonly kind: FeedKind;
  readonly entity_id: string;
  readonly op: FeedOp;
  readonly payload: unknown;
  /** The organisation of the event that wrote the row; null or absent on rows written before it was kept. */
  readonly tenant_id?: string | null;
}

function renderPayload(row: FeedRow, preferences: UnitPreferences | undefined): FeedMessage['payload'] {
  if (row.op === 'delete' || row.payload === null || typeof row.payload !== 'object') return null;
  switch (row.kind) {
    case 'workout': {
      const payload = row.payload as WorkoutRowLike & { sets?: unknown; deletedSetIds?: unknown };
      const sets = Array.isArray(payload.sets) ? (payload.sets as Record<string, unknown>[]) : [];
      const deletedSetIds = Array.isArray(payload.deletedSetIds) ? payload.deletedSetIds.filter((id): id is string => typeof id === 'string') : [];
      return workoutChange(payload, sets, deletedSetIds, preferences);
    }
    case 'personal_record':
      return personalRecord(row.payload as PersonalRecordRowLike, preferences);
    case 'body_measurement':
      return bodyMeasurement(row.payload as BodyMeasurementRowLike, preferences);
    default: {
      const _exhaustive: never = row.kind;
      return _exhaustive;
    }
  }
}

/**
 * The message for a feed row (its payload rendered by `feedPayload`), or undefined for a row the
 * scope may not see: a row or a payload of another tenant (`rm_feed_changes` is keyed by subject
 * only; row-level security checks the same), or an upsert without a payload.
 * With `preferences`, values also come in the person's display units (as the REST reads).
 */
export function feedMessage(row: FeedRow, scope: ReadScope, preferences?: UnitPreferences): string | undefined {
  if (typeof row.tenant_id === 'string' && row.tenant_id !== scope.tenantId) return undefined;
  // An upsert whose entity the reader cannot see (or that is gone: a later change says so) is not sent.
  if (row.op === 'upsert' && (row.payload === null || typeof row.payload !== 'object')) return undefined;
  const payload = row.payload as { tenant_id?: unknown } | null;
  if (payload && typeof payload === 'object' && typeof payload.tenant_id === 'string' && payload.tenant_id !== scope.tenantId) return undefined;
  const cursor: FeedCursor = { feedId: row.feed_id };
  const message: FeedMessage = { cursor: encodeFeedCursor(cursor), kind: row.kind, op: row.op, entityId: row.entity_id, payload: renderPayload(row, preferences) };
  return JSON.stringify(message);
}
