import { randomBytes, randomUUID } from 'node:crypto';
import { testDatabase } from '@fitledger/testing/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRecord } from '../leaf';
import { migrateAuditSchema } from '../postgres/migrations/index';
import { accessRecordsOfSubject, hmacPseudonymiser, PostgresAccessLog, readAccessRecords } from './postgresAccessLog';
import { listLegalHolds, placeLegalHold, purgeExpiredAccessRecords, releaseLegalHold, retentionYearsFromEnv } from './retention';

const pseudonymise = hmacPseudonymiser(randomBytes(32));

function record(over: Partial<AccessRecord> = {}): AccessRecord {
  return {
    id: randomUUID(),
    at: new Date().toISOString(),
    actorSub: randomUUID(),
    actorRole: 'trainer',
    actorOrganisation: randomUUID(),
    clientId: 'fitledger-web',
    action: 'read',
    recordType: 'workouts',
    recordId: null,
    subjectPseudonym: pseudonymise(randomUUID()),
    ip: '203.0.113.7',
    userAgent: 'vitest',
    service: 'query-service',
    method: 'GET',
    route: '/api/v1/clients/:clientId/workouts',
    status: 200,
    outcome: 'allowed',
    purposeOfUse: 'TREAT',
    consentVersion: 3,
    breakGlassGrantId: null,
    requestId: randomUUID(),
    ...over,
  };
}

describe('the access log in PostgreSQL', () => {
  let pool: pg.Pool;
  let other: pg.Pool;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await testDatabase('audit_access_log');
    drop = () => db.drop();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    other = new pg.Pool({ connectionString: db.url, max: 1 });
    await migrateAuditSchema(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await other?.end();
    await drop?.();
  });

  it('stores every record, each durable (visible to another connection) when its append resolves, many sharing one commit', async () => {
    const log = new PostgresAccessLog(pool);
    const records = Array.from({ length: 500 }, () => record());
    const seenAtResolve: boolean[] = [];
    await Promise.all(
      records.map(async (r) => {
        await log.append(r);
        const { rowCount } = await other.query('SELECT 1 FROM audit_access_records WHERE id = $1', [r.id]);
        seenAtResolve.push(rowCount === 1);
      }),
    );
    expect(seenAtResolve.filter(Boolean)).toHaveLength(500);
    // Group commit: 500 concurrent appends took far fewer transactions than records.
    const { rows } = await other.query<{ n: string }>('SELECT count(DISTINCT xmin::text)::text AS n FROM audit_access_records WHERE id = ANY($1::uuid[])', [records.map((r) => r.id)]);
    expect(Number(rows[0]?.n)).toBeLessThan(500);
    // Read back in commit order, field for field.
    const stored = await readAccessRecords(pool, 0, 1_000);
    const byId = new Map(stored.map((s) => [s.record.id, s.record]));
    for (const r of records) expect(byId.get(r.id)).toEqual(r);
    await log.close();
    await expect(log.append(record())).rejects.toThrow(/closed/);
  });

  it('stores a record appended alone (a batch of one, its own statement) field for field, nulls included', async () => {
    const log = new PostgresAccessLog(pool);
    const alone = [
      record({ recordId: randomUUID(), breakGlassGrantId: randomUUID(), consentVersion: null, purposeOfUse: 'ETREAT', status: 403, outcome: 'denied', action: 'denied' }),
      record({ actorOrganisation: null, clientId: null, subjectPseudonym: null, userAgent: null, consentVersion: null }),
    ];
    for (const r of alone) await log.append(r);
    const { rows } = await other.query<{ n: string }>('SELECT count(DISTINCT xmin::text)::text AS n FROM audit_access_records WHERE id = ANY($1::uuid[])', [alone.map((r) => r.id)]);
    expect(Number(rows[0]?.n)).toBe(2);
    const stored = await readAccessRecords(pool, 0, 10_000);
    const byId = new Map(stored.map((s) => [s.record.id, s.record]));
    for (const r of alone) expect(byId.get(r.id)).toEqual(r);
    await log.close();
  });

  it('runs up to maxInFlight INSERTs at once, so a record need not wait behind another’s commit; records arriving while all are busy share the next statement; close waits for them', async () => {
    // The real pool, with each statement held at a gate until the test opens it.
    const gates: (() => void)[] = [];
    const sizes: number[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const gated = {
      query: async (config: pg.QueryConfig) => {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        sizes.push(Array.isArray(config.values?.[0]) ? (config.values[0] as unknown[]).length : 1);
        await new Promise<void>((resolve) => gates.push(resolve));
        try {
          return await pool.query(config);
        } finally {
          inFlight--;
        }
      },
    } as unknown as pg.Pool;
    const log = new PostgresAccessLog(gated, { maxInFlight: 2 });
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const records = Array.from({ length: 6 }, () => record());
    const done: string[] = [];
    const appended = records.map((r) => ({ r, p: undefined as Promise<void> | undefined }));
    // Two appends in separate ticks: two INSERTs in flight at once.
    for (const a of appended.slice(0, 2)) {
      a.p = log.append(a.r).then(() => void done.push(a.r.id));
      await tick();
    }
    expect(sizes).toEqual([1, 1]);
    // Four more while both are busy: they queue.
    for (const a of appended.slice(2)) {
      a.p = log.append(a.r).then(() => void done.push(a.r.id));
      await tick();
    }
    expect(sizes).toEqual([1, 1]);
    let closed = false;
    const closing = log.close().then(() => {
      closed = true;
    });
    // The first commit frees a slot: the four queued records go in one statement.
    gates.shift()?.();
    while (sizes.length < 3) await tick();
    expect(sizes).toEqual([1, 1, 4]);
    expect(done).toEqual([records[0]?.id]);
    gates.shift()?.();
    gates.shift()?.();
    await Promise.all(appended.map((a) => a.p ?? Promise.reject(new Error('not appended'))));
    await closing;
    expect(closed).toBe(true);
    expect(mostInFlight).toBe(2);
    const { rows } = await other.query<{ id: string }>('SELECT id FROM audit_access_records WHERE id = ANY($1::uuid[])', [records.map((r) => r.id)]);
    expect(rows).toHaveLength(6);
    expect(() => new PostgresAccessLog(pool, { maxInFlight: 0 })).toThrow(/maxInFlight/);
  });

  it('refuses UPDATE, DELETE and TRUNCATE from the service role; deletes only past 6 years and never under a legal hold', async () => {
    const log = new PostgresAccessLog(pool);
    const held = pseudonymise('held-subject');
    const recent = record();
    const old = record({ at: '2019-01-01T00:00:00.000Z' });
    const oldHeld = record({ at: '2019-01-01T00:00:00.000Z', subjectPseudonym: held });
    for (const r of [recent, old, oldHeld]) await log.append(r);
    await log.close();

    await expect(pool.query('UPDATE audit_access_records SET status = 200 WHERE id = $1', [recent.id])).rejects.toThrow(/append-only/);
    await expect(pool.query('DELETE FROM audit_access_records WHERE id = $1', [recent.id])).rejects.toThrow(/append-only/);
    await expect(pool.query('TRUNCATE audit_access_records')).rejects.toThrow(/append-only/);
    await expect(pool.query(`SELECT audit_purge_access_records(interval '5 years')`)).rejects.toThrow(/shorter than 6 years/);

    await pool.query('INSERT INTO audit_legal_holds (id, subject_pseudonym, reason) VALUES ($1, $2, $3)', [randomUUID(), held, 'litigation']);
    // The hold is checked by the trigger too: a direct DELETE of a held record is refused.
    await expect(pool.query('DELETE FROM audit_access_records WHERE id = $1', [oldHeld.id])).rejects.toThrow(/append-only/);
    const purged = await pool.query<{ n: string }>(`SELECT audit_purge_access_records(interval '6 years')::text AS n`);
    expect(Number(purged.rows[0]?.n)).toBeGreaterThanOrEqual(1);
    const left = await pool.query<{ id: string }>('SELECT id FROM audit_access_records WHERE id = ANY($1::uuid[])', [[recent.id, old.id, oldHeld.id]]);
    expect(left.rows.map((r) => r.id).sort()).toEqual([recent.id, oldHeld.id].sort());
  });

  it('answers a subject’s accounting of disclosures newest first, optionally without their own reads', async () => {
    const log = new PostgresAccessLog(pool);
    const subject = randomUUID();
    const owner = record({ actorSub: subject, subjectPseudonym: pseudonymise(subject), purposeOfUse: 'PATRQT' });
    const coach = record({ subjectPseudonym: pseudonymise(subject) });
    const grant = record({ subjectPseudonym: pseudonymise(subject), purposeOfUse: 'ETREAT', breakGlassGrantId: randomUUID(), consentVersion: null });
    for (const r of [owner, coach, grant]) await log.append(r);
    await log.close();
    const all = await accessRecordsOfSubject(pool, pseudonymise(subject), { limit: 10 });
    expect(all.map((s) => s.record.id)).toEqual([grant.id, coach.id, owner.id]);
    const others = await accessRecordsOfSubject(pool, pseudonymise(subject), { limit: 10, othersOnly: subject });
    expect(others.map((s) => s.record.id)).toEqual([grant.id, coach.id]);
    const page2 = await accessRecordsOfSubject(pool, pseudonymise(subject), { limit: 1, beforeSeq: all[0]?.seq ?? 0 });
    expect(page2.map((s) => s.record.id)).toEqual([coach.id]);
  });

  it('purges past the configured retention, keeps what a legal hold covers until it is released', async () => {
    expect(retentionYearsFromEnv({})).toBe(6);
    expect(retentionYearsFromEnv({ AUDIT_RETENTION_YEARS: '10' })).toBe(10);
    expect(() => retentionYearsFromEnv({ AUDIT_RETENTION_YEARS: '5' })).toThrow(/AUDIT_RETENTION_YEARS/);
    expect(() => retentionYearsFromEnv({ AUDIT_RETENTION_YEARS: 'six' })).toThrow(/AUDIT_RETENTION_YEARS/);
    await expect(purgeExpiredAccessRecords(pool, 3)).rejects.toThrow(/at least 6/);

    const log = new PostgresAccessLog(pool);
    const subject = pseudonymise('litigant');
    const eightYears = record({ at: '2018-06-01T00:00:00.000Z', subjectPseudonym: subject });
    const sevenYears = record({ at: '2019-09-01T00:00:00.000Z' });
    for (const r of [eightYears, sevenYears]) await log.append(r);
    await log.close();
    const ids = [eightYears.id, sevenYears.id];
    const left = async () => (await pool.query<{ id: string }>('SELECT id FROM audit_access_records WHERE id = ANY($1::uuid[]) ORDER BY at', [ids])).rows.map((r) => r.id);

    const hold = await placeLegalHold(pool, subject, 'litigation 2026-17');
    await expect(placeLegalHold(pool, null, 'x')).rejects.toThrow(/reason/);
    // 10-year retention keeps both; 6 years would take both, but the hold keeps the subject's.
    await purgeExpiredAccessRecords(pool, 10);
    expect(await left()).toEqual(ids);
    await purgeExpiredAccessRecords(pool, 6);
    expect(await left()).toEqual([eightYears.id]);
    expect((await listLegalHolds(pool)).find((h) => h.id === hold)).toMatchObject({ subjectPseudonym: subject, releasedAt: null });
    expect(await releaseLegalHold(pool, hold)).toBe(true);
    expect(await releaseLegalHold(pool, hold)).toBe(false);
    await purgeExpiredAccessRecords(pool, 6);
    expect(await left()).toEqual([]);
  });
});
