import { METRIC_UNITS, type UnitPreferences } from '@fitledger/domain';
import type { ReadModelDb } from '@fitledger/projections';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ReadScope } from './readScope';

/**
 * The display units of the person whose data a request reads, from `rm_profiles`: loaded once per
 * request; metric until they have a profile that says otherwise.
 */
export async function loadUnitPreferences(db: Kysely<ReadModelDb>, scope: ReadScope): Promise<UnitPreferences> {
  const row = await db
    .selectFrom('rm_profiles')
    .select(['mass_unit', 'length_unit', 'distance_unit', 'volume_unit'])
    .where('subject_id', '=', scope.subjectId)
    .where('tenant_id', '=', scope.tenantId)
    .executeTakeFirst();
  if (row === undefined) return METRIC_UNITS;
  return { mass: row.mass_unit, length: row.length_unit, distance: row.distance_unit, volume: row.volume_unit } as UnitPreferences;
}

/**
 * The caller's display units as one more column of a read-model query (an uncorrelated subquery,
 * evaluated once per statement): a read that needs them costs no extra round trip. Read the
 * column back with `unitPreferencesOf`.
 */
export function unitPreferencesColumn(scope: ReadScope): RawBuilder<string[] | null> {
  return sql<string[] | null>`(SELECT ARRAY[p.mass_unit, p.length_unit, p.distance_unit, p.volume_unit]::text[] FROM rm_profiles p WHERE p.subject_id = ${scope.subjectId} AND p.tenant_id = ${scope.tenantId})`;
}

/** The units `unitPreferencesColumn` selected; metric when the caller has no profile. */
export function unitPreferencesOf(units: readonly string[] | null | undefined): UnitPreferences {
  if (units === null || units === undefined) return METRIC_UNITS;
  const [mass, length, distance, volume] = units;
  return { mass, length, distance, volume } as UnitPreferences;
}

const isMetric = (p: UnitPreferences): boolean => p.mass === METRIC_UNITS.mass && p.length === METRIC_UNITS.length && p.distance === METRIC_UNITS.distance && p.volume === METRIC_UNITS.volume;

/**
 * The entity tag of a representation that shows values in display units: the revision, plus the
 * units when they are not the metric defaults — so a cached copy is not revalidated after the
 * person switches units, and metric representations keep their plain `"<revision>"` tag.
 */
export function displayEtag(revision: string | number, preferences: UnitPreferences): string {
  return isMetric(preferences) ? `"${revision}"` : `"${revision}-${preferences.mass}.${preferences.length}.${preferences.distance}.${preferences.volume}"`;
}

/** JSON schema of a `display` value. */
export const displayedSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['value', 'unit'],
  properties: { value: { type: 'number' }, unit: { type: 'string' } },
} as const;
