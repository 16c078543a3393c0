import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/** The shortest retention the log accepts (HIPAA §164.316(b)(2): six years). */
export const MIN_RETENTION_YEARS = 6;

export class RetentionConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  readonly variable = 'AUDIT_RETENTION_YEARS';
  constructor(message: string) {
    super(message);
    this.name = 'RetentionConfigError';
  }
}

/** AUDIT_RETENTION_YEARS: whole years, at least 6 (default 6). */
export function retentionYearsFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const text = env['AUDIT_RETENTION_YEARS']?.trim();
  if (text === undefined || text === '') return MIN_RETENTION_YEARS;
  const years = Number(text);
  if (!Number.isInteger(years) || years < MIN_RETENTION_YEARS || years > 100) throw new RetentionConfigError(`AUDIT_RETENTION_YEARS must be a whole number of years from ${MIN_RETENTION_YEARS} to 100`);
  return years;
}

/**
 * Removes access records older than the retention period that no legal hold covers (the table's
 * trigger enforces the same rule for any DELETE). Returns how many went. Note: records removed
 * this way no longer appear in exports, so the offline verifier can check the log from the first
 * checkpoint after the purge horizon only.
 */
export async function purgeExpiredAccessRecords(pool: pg.Pool, retentionYears: number): Promise<number> {
  if (!Number.isInteger(retentionYears) || retentionYears < MIN_RETENTION_YEARS) throw new RetentionConfigError(`retention must be at least ${MIN_RETENTION_YEARS} years`);
  const { rows } = await pool.query<{ n: string }>(`SELECT audit_purge_access_records(make_interval(years => $1))::text AS n`, [retentionYears]);
  return Number(rows[0]?.n ?? 0);
}

export interface LegalHold {
  readonly id: string;
  /** null: the whole log is held. */
  readonly subjectPseudonym: string | null;
  readonly reason: string;
  readonly placedAt: string;
  readonly releasedAt: string | null;
}

/** Suspends deletion of one subject's records (by pseudonym) or of the whole log (null). */
export async function placeLegalHold(pool: pg.Pool, subjectPseudonym: string | null, reason: string): Promise<string> {
  if (reason.trim().length < 5) throw new RangeError('a legal hold needs a reason (at least 5 characters)');
  const id = randomUUID();
  await pool.query('INSERT INTO audit_legal_holds (id, subject_pseudonym, reason) VALUES ($1, $2, $3)', [id, subjectPseudonym, reason.trim()]);
  return id;
}

/** Ends a hold (kept, with its release time, as a record of the hold itself). */
export async function releaseLegalHold(pool: pg.Pool, id: string): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE audit_legal_holds SET released_at = now() WHERE id = $1 AND released_at IS NULL', [id]);
  return rowCount === 1;
}

export async function listLegalHolds(pool: pg.Pool): Promise<LegalHold[]> {
  const { rows } = await pool.query<{ id: string; subject_pseudonym: string | null; reason: string; placed_at: Date; released_at: Date | null }>('SELECT id, subject_pseudonym, reason, placed_at, released_at FROM audit_legal_holds ORDER BY placed_at');
  return rows.map((r) => ({ id: r.id, subjectPseudonym: r.subject_pseudonym, reason: r.reason, placedAt: r.placed_at.toISOString(), releasedAt: r.released_at?.toISOString() ?? null }));
}
