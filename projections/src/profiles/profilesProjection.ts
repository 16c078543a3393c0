import type { ProfileEvent, ProfileEventType, ProfileUpdatedData } from '@fitledger/domain';
import { sql, type Insertable, type Transaction, type Updateable } from 'kysely';
import type { Projection, ReadableEvent } from '../projectionRunner';
import type { FeedChange, ReadModelDb, RmProfilesTable, RmProfileTimeZonesTable } from '../readModelDb';

export const PROFILES_PROJECTION = 'profiles';

const PROFILE_EVENT_TYPES: ReadonlySet<ProfileEventType> = new Set<ProfileEventType>(['ProfileUpdated', 'TimeZoneChanged']);

type Columns = Updateable<RmProfilesTable>;

/** The columns a ProfileUpdated sets: exactly the fields it carries (the others keep their value). */
function columnsOf(data: ProfileUpdatedData): Columns {
  const columns: Columns = {};
  if (data.birthDate !== undefined) columns.birth_date = data.birthDate;
  if (data.sex !== undefined) columns.sex = data.sex;
  if (data.height !== undefined && data.heightM !== undefined) Object.assign(columns, { height_value: data.height.value, height_unit: data.height.unit, height_m: data.heightM });
  if (data.weight !== undefined && data.weightKg !== undefined) Object.assign(columns, { weight_value: data.weight.value, weight_unit: data.weight.unit, weight_kg: data.weightKg });
  if (data.locale !== undefined) columns.locale = data.locale;
  if (data.weekStart !== undefined) columns.week_start = data.weekStart;
  if (data.unitPreferences !== undefined) {
    const u = data.unitPreferences;
    Object.assign(columns, { mass_unit: u.mass, length_unit: u.length, distance_unit: u.distance, volume_unit: u.volume });
  }
  if (data.notificationPreferences !== undefined) {
    const n = data.notificationPreferences;
    Object.assign(columns, { notify_email: n.email, notify_push: n.push, notify_weekly_summary: n.weeklySummary });
  }
  if (data.profileVisibility !== undefined) columns.profile_visibility = data.profileVisibility;
  return columns;
}

/**
 * Profiles into `rm_profiles` (one row per person: the current values, display preferences, week
 * start and time zone) and `rm_profile_time_zones` (every TimeZoneChanged: the history streaks
 * and weeks are counted in). Events carry only changed fields, so a batch folds them per person
 * into one upsert of the columns they touched. Profiles have no live feed.
 */
export function profilesProjection(): Projection {
  return {
    name: PROFILES_PROJECTION,
    eventTypes: PROFILE_EVENT_TYPES,

    async apply(events: readonly ReadableEvent[], trx: Transaction<ReadModelDb>): Promise<FeedChange[]> {
      const bySubject = new Map<string, { tenantId: string; revision: number; position: string; columns: Columns }>();
      const history: Insertable<RmProfileTimeZonesTable>[] = [];
      for (const recorded of events) {
        const event = { type: recorded.type, data: recorded.data } as ProfileEvent;
        const { tenantId, subjectId } = recorded.metadata;
        const entry = bySubject.get(subjectId) ?? { tenantId, revision: recorded.revision, position: recorded.position, columns: {} };
        switch (event.type) {
          case 'ProfileUpdated':
            Object.assign(entry.columns, columnsOf(event.data));
            break;
          case 'TimeZoneChanged':
            entry.columns.time_zone = event.data.timeZone;
            history.push({ subject_id: subjectId, tenant_id: tenantId, position: recorded.position, effective_from: event.data.effectiveFrom, time_zone: event.data.timeZone });
            break;
          default: {
            const _: never = event;
            continue;
          }
        }
        bySubject.set(subjectId, { ...entry, revision: recorded.revision, position: recorded.position });
      }

      for (const [subjectId, { tenantId, revision, position, columns }] of bySubject) {
        const values = { ...columns, revision, updated_position: position };
        await trx
          .insertInto('rm_profiles')
          .values({ subject_id: subjectId, tenant_id: tenantId, ...values })
          .onConflict((oc) => oc.column('subject_id').doUpdateSet(values))
          .execute();
      }
      if (history.length > 0) {
        // A replayed batch (crash before the checkpoint moved) finds its rows already there.
        await trx.insertInto('rm_profile_time_zones').values(history).onConflict((oc) => oc.columns(['subject_id', 'position']).doNothing()).execute();
      }
      return [];
    },

    async reset(trx: Transaction<ReadModelDb>): Promise<void> {
      await sql`TRUNCATE rm_profiles, rm_profile_time_zones`.execute(trx);
    },
  };
}
