import { sql, type Kysely } from 'kysely';

/** Weekly plans, one row each; the schedule is expanded at read time from `definition`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rm_plans')
    .addColumn('plan_id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addColumn('archived', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .addColumn('updated_position', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX rm_plans_owner ON rm_plans (subject_id, name, plan_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rm_plans').ifExists().execute();
}
