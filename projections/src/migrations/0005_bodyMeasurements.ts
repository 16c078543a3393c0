import { sql, type Kysely } from 'kysely';

/**
 * Body measurements, one row per current (not deleted) measurement, for series queries by subject,
 * metric and time. `value_si` is the one canonical number per measurement (kg, %, m, bpm, mmHg
 * systolic, s, l); blood pressure keeps both values in their own columns.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rm_body_measurements')
    .addColumn('measurement_id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('site', 'text')
    .addColumn('value_si', 'double precision', (c) => c.notNull())
    .addColumn('entered_value', 'double precision')
    .addColumn('entered_unit', 'text')
    .addColumn('systolic_mmhg', 'integer')
    .addColumn('diastolic_mmhg', 'integer')
    .addColumn('measured_at', 'timestamptz', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('updated_position', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX rm_body_measurements_series ON rm_body_measurements (subject_id, metric, measured_at DESC, measurement_id DESC)`.execute(db);
  // The feed carries body measurements too.
  await sql`ALTER TABLE rm_feed_changes DROP CONSTRAINT rm_feed_changes_kind_check`.execute(db);
  await sql`ALTER TABLE rm_feed_changes ADD CONSTRAINT rm_feed_changes_kind_check CHECK (kind IN ('workout', 'personal_record', 'body_measurement'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM rm_feed_changes WHERE kind = 'body_measurement'`.execute(db);
  await sql`ALTER TABLE rm_feed_changes DROP CONSTRAINT rm_feed_changes_kind_check`.execute(db);
  await sql`ALTER TABLE rm_feed_changes ADD CONSTRAINT rm_feed_changes_kind_check CHECK (kind IN ('workout', 'personal_record'))`.execute(db);
  await db.schema.dropTable('rm_body_measurements').ifExists().execute();
}
