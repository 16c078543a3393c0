import { randomUUID } from 'node:crypto';
import { profileDecider, profileStreamId, type ProfileCommand, type ProfileEvent, type ProfileState, type UpdateProfile } from '@fitledger/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../projectionRunner';
import { DeciderWriter, lastCommittedPosition, projectionsTestEnv, waitForCheckpoint, type ProjectionsTestEnv } from '../testing/projectionsTestEnv';
import { PROFILES_PROJECTION, profilesProjection } from './profilesProjection';

describe('profiles projection', () => {
  let env: ProjectionsTestEnv;
  let runner: ProjectionRunner;
  let writer: DeciderWriter<ProfileState, ProfileCommand, ProfileEvent>;

  /** Decides with the real decider and appends as command-service does (PHI sealed by the codec). */
  async function update(who: { tenantId: string; subjectId: string }, data: UpdateProfile['data']): Promise<void> {
    await writer.execute(who, profileStreamId(who.subjectId), { type: 'UpdateProfile', data });
  }

  const settle = async (): Promise<void> => waitForCheckpoint(env.db, PROFILES_PROJECTION, await lastCommittedPosition(env.pool));
  const profileRow = async (subjectId: string) =>
    (
      await sql<{ row: string }>`SELECT (to_jsonb(p) - 'updated_position' || jsonb_build_object('birth_date', to_char(birth_date, 'YYYY-MM-DD')))::text AS row
                                   FROM rm_profiles p WHERE subject_id = ${subjectId}`.execute(env.db)
    ).rows.map((r) => JSON.parse(r.row) as Record<string, unknown>)[0];
  const zones = async (subjectId: string) =>
    (
      await sql<{ z: string; at: string }>`SELECT time_zone AS z, to_char(effective_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at
                                             FROM rm_profile_time_zones WHERE subject_id = ${subjectId} ORDER BY effective_from, position`.execute(env.db)
    ).rows.map((r) => [r.z, r.at]);

  beforeAll(async () => {
    env = await projectionsTestEnv('proj_profiles');
    writer = new DeciderWriter(env, profileDecider, { start: '2025-04-01T07:00:00.000Z', tickMs: 3_600_000 });
    runner = new ProjectionRunner({ store: env.store, codec: env.codec, db: env.db, projections: [profilesProjection()], batchSize: 2 });
    runner.start();
  });
  afterAll(async () => {
    await runner.stop();
    await env.close();
  });

  it('keeps one row per person with every current field, and the time-zone history in order', async () => {
    const ana = { tenantId: 'tenant-p', subjectId: randomUUID() };
    const ben = { tenantId: 'tenant-p', subjectId: randomUUID() };
    await update(ana, { birthDate: '1988-06-14', sex: 'female', height: { value: 65, unit: 'in' }, weight: { value: 150, unit: 'lb' }, timeZone: 'America/New_York', locale: 'en-US' });
    await update(ben, { weight: { value: 80, unit: 'kg' } });
    await update(ana, { unitPreferences: { system: 'imperial' }, notificationPreferences: { weeklySummary: true }, timeZone: 'Europe/Berlin' });
    await update(ana, { weight: { value: 148, unit: 'lb' }, profileVisibility: 'organisation', timeZone: 'America/New_York', weekStart: 1 });
    await settle();

    expect(await profileRow(ana.subjectId)).toEqual({
      subject_id: ana.subjectId,
      tenant_id: 'tenant-p',
      birth_date: '1988-06-14',
      sex: 'female',
      height_m: 1.651,
      height_value: 65,
      height_unit: 'in',
      weight_kg: 148 * 0.45359237,
      weight_value: 148,
      weight_unit: 'lb',
      time_zone: 'America/New_York',
      locale: 'en-US',
      week_start: 1,
      mass_unit: 'lb',
      length_unit: 'in',
      distance_unit: 'mi',
      volume_unit: 'fl_oz',
      notify_email: false,
      notify_push: false,
      notify_weekly_summary: true,
      profile_visibility: 'organisation',
      revision: 5,
    });
    // Never set: metric units, notifications off, private.
    expect(await profileRow(ben.subjectId)).toMatchObject({ weight_kg: 80, time_zone: null, mass_unit: 'kg', length_unit: 'cm', distance_unit: 'km', volume_unit: 'ml', profile_visibility: 'private', revision: 0 });
    expect(await zones(ana.subjectId)).toEqual([
      ['America/New_York', '2025-04-01T08:00:00Z'],
      ['Europe/Berlin', '2025-04-01T10:00:00Z'],
      ['America/New_York', '2025-04-01T11:00:00Z'],
    ]);
    expect(await zones(ben.subjectId)).toEqual([]);
  });

  it('rebuilds from the log to the same rows', async () => {
    const cleo = { tenantId: 'tenant-p', subjectId: randomUUID() };
    for (const timeZone of ['Asia/Tokyo', 'Australia/Sydney', 'Asia/Tokyo']) await update(cleo, { timeZone, sex: timeZone === 'Asia/Tokyo' ? 'male' : 'unspecified' });
    await settle();
    const dump = async () => ({
      profiles: (await sql<{ r: string }>`SELECT p::text AS r FROM rm_profiles p ORDER BY subject_id`.execute(env.db)).rows,
      zones: (await sql<{ r: string }>`SELECT z::text AS r FROM rm_profile_time_zones z ORDER BY subject_id, position`.execute(env.db)).rows,
    });
    const before = await dump();
    expect(before.zones.length).toBe(6);
    await runner.rebuild(PROFILES_PROJECTION);
    await settle();
    expect(await dump()).toEqual(before);
  });
});
