import { sql, type Kysely } from 'kysely';

/**
 * Profiles: one row per person with the current values (canonical SI beside what was entered) and
 * display preferences, and the time-zone history streaks and weeks are computed in. Unit
 * preference columns default to metric, the unit a person sees until they choose otherwise.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rm_profiles')
    .addColumn('subject_id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('birth_date', 'date')
    .addColumn('sex', 'text')
    .addColumn('height_m', 'double precision')
    .addColumn('height_value', 'double precision')
    .addColumn('height_unit', 'text')
    .addColumn('weight_kg', 'double precision')
    .addColumn('weight_value', 'double precision')
    .addColumn('weight_unit', 'text')
    .addColumn('time_zone', 'text')
    .addColumn('locale', 'text')
    .addColumn('week_start', 'smallint')
    .addColumn('mass_unit', 'text', (c) => c.notNull().defaultTo('kg'))
    .addColumn('length_unit', 'text', (c) => c.notNull().defaultTo('cm'))
    .addColumn('distance_unit', 'text', (c) => c.notNull().defaultTo('km'))
    .addColumn('volume_unit', 'text', (c) => c.notNull().defaultTo('ml'))
    .addColumn('notify_email', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('notify_push', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('notify_weekly_summary', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('profile_visibility', 'text', (c) => c.notNull().defaultTo('private'))
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('updated_position', 'text', (c) => c.notNull())
    .execute();
  // The `$all` position orders two changes made in the same millisecond.
  await db.schema
    .createTable('rm_profile_time_zones')
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('position', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('effective_from', 'timestamptz', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('rm_profile_time_zones_pkey', ['subject_id', 'position'])
    .execute();
  await sql`CREATE INDEX rm_profile_time_zones_history ON rm_profile_time_zones (subject_id, effective_from, position)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rm_profile_time_zones').ifExists().execute();
  await db.schema.dropTable('rm_profiles').ifExists().execute();
}
