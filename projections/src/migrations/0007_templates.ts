import { sql, type Kysely } from 'kysely';

/** Workout templates (current version, use count) and every version they had. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rm_templates')
    .addColumn('template_id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull().check(sql`visibility IN ('private', 'organisation')`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('planned_sets', 'jsonb', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('archived', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('use_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('updated_position', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX rm_templates_owner ON rm_templates (tenant_id, subject_id, name, template_id)`.execute(db);
  await sql`CREATE INDEX rm_templates_shared ON rm_templates (tenant_id, name, template_id) WHERE visibility = 'organisation'`.execute(db);
  await db.schema
    .createTable('rm_template_versions')
    .addColumn('template_id', 'uuid', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('planned_sets', 'jsonb', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('rm_template_versions_pk', ['template_id', 'version'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rm_template_versions').ifExists().execute();
  await db.schema.dropTable('rm_templates').ifExists().execute();
}
