import { sql, type Kysely } from 'kysely';

/** Goals: target, period and status (active, achieved, missed, cancelled); progress is computed when read. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rm_goals')
    .addColumn('goal_id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('target', 'jsonb', (c) => c.notNull())
    .addColumn('starts_on', 'date', (c) => c.notNull())
    .addColumn('ends_on', 'date', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status IN ('active', 'achieved', 'missed', 'cancelled')`))
    .addColumn('decided_at', 'timestamptz')
    .addColumn('decided_value', 'double precision')
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('updated_position', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX rm_goals_subject ON rm_goals (subject_id, ends_on DESC, goal_id)`.execute(db);
  await sql`CREATE INDEX rm_goals_active ON rm_goals (ends_on) WHERE status = 'active'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rm_goals').ifExists().execute();
}
