import type { Pool, PoolClient } from 'pg';

/** One browser session as stored; token columns are sealed ciphertexts (sessionKeys.ts). */
export interface StoredSession {
  /** Public handle (listing, revocation); not the cookie secret. */
  readonly id: string;
  readonly sub: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly userAgent: string | null;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  /** Absolute end of the session. */
  readonly expiresAt: Date;
  readonly accessToken: Buffer;
  readonly accessExpiresAt: Date;
  readonly refreshToken: Buffer | null;
  readonly idToken: Buffer | null;
}

/** The sealed tokens of a session, replaced together at each refresh. */
export interface SessionTokens {
  readonly accessToken: Buffer;
  readonly accessExpiresAt: Date;
  readonly refreshToken: Buffer | null;
  readonly idToken: Buffer | null;
}

/** A login that went to the issuer and has not come back yet. */
export interface PendingLogin {
  /** Sealed PKCE code_verifier. */
  readonly codeVerifier: Buffer;
  readonly nonce: string;
  readonly returnTo: string;
  readonly expiresAt: Date;
}

export interface Subject {
  readonly sub: string;
  readonly tenantId: string;
}

interface SessionRow {
  id: string;
  sub: string;
  tenant_id: string;
  client_id: string;
  user_agent: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  access_token: Buffer;
  access_expires_at: Date;
  refresh_token: Buffer | null;
  id_token: Buffer | null;
}

const COLUMNS = 'id, sub, tenant_id, client_id, user_agent, created_at, last_seen_at, expires_at, access_token, access_expires_at, refresh_token, id_token';

function fromRow(row: SessionRow): StoredSession {
  return {
    id: row.id,
    sub: row.sub,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    userAgent: row.user_agent,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    accessToken: row.access_token,
    accessExpiresAt: row.access_expires_at,
    refreshToken: row.refresh_token,
    idToken: row.id_token,
  };
}

/** What a locked session's refresh decided: store new tokens, drop the session, or leave it. */
export type LockedOutcome<T> = { readonly update: SessionTokens; readonly result: T } | { readonly remove: true; readonly result: T } | { readonly result: T };

/**
 * PostgreSQL adapter of the browser sessions and pending logins (tables of migrateAuthSchema).
 * Every time comes from the caller, so an injected clock governs expiry end to end.
 */
export class SessionStore {
  constructor(private readonly pool: Pool) {}

  async insertSession(session: StoredSession, secretHash: Buffer): Promise<void> {
    await this.pool.query(
      `INSERT INTO auth_sessions (${COLUMNS}, secret_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        session.id,
        session.sub,
        session.tenantId,
        session.clientId,
        session.userAgent,
        session.createdAt,
        session.lastSeenAt,
        session.expiresAt,
        session.accessToken,
        session.accessExpiresAt,
        session.refreshToken,
        session.idToken,
        secretHash,
      ],
    );
  }

  async findBySecretHash(secretHash: Buffer): Promise<StoredSession | undefined> {
    const { rows } = await this.pool.query<SessionRow>(`SELECT ${COLUMNS} FROM auth_sessions WHERE secret_hash = $1`, [secretHash]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Records activity; never moves last_seen_at backwards (concurrent requests). */
  async touch(id: string, at: Date): Promise<void> {
    await this.pool.query('UPDATE auth_sessions SET last_seen_at = GREATEST(last_seen_at, $2) WHERE id = $1', [id, at]);
  }

  async remove(id: string): Promise<StoredSession | undefined> {
    const { rows } = await this.pool.query<SessionRow>(`DELETE FROM auth_sessions WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Deletes the session only if it belongs to `subject`: another user's id reads as not found. */
  async removeOwned(id: string, subject: Subject): Promise<StoredSession | undefined> {
    const { rows } = await this.pool.query<SessionRow>(`DELETE FROM auth_sessions WHERE id = $1 AND sub = $2 AND tenant_id = $3 RETURNING ${COLUMNS}`, [
      id,
      subject.sub,
      subject.tenantId,
    ]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async removeAllOwned(subject: Subject, exceptId?: string): Promise<StoredSession[]> {
    const { rows } = await this.pool.query<SessionRow>(
      `DELETE FROM auth_sessions WHERE sub = $1 AND tenant_id = $2 AND ($3::uuid IS NULL OR id <> $3::uuid) RETURNING ${COLUMNS}`,
      [subject.sub, subject.tenantId, exceptId ?? null],
    );
    return rows.map(fromRow);
  }

  /** The subject's sessions still within both limits, newest first. */
  async listActive(subject: Subject, now: Date, idleCutoff: Date): Promise<StoredSession[]> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT ${COLUMNS} FROM auth_sessions WHERE sub = $1 AND tenant_id = $2 AND expires_at > $3 AND last_seen_at > $4 ORDER BY created_at DESC, id`,
      [subject.sub, subject.tenantId, now, idleCutoff],
    );
    return rows.map(fromRow);
  }

  /** Deletes the subject's expired sessions (they would be refused anyway); returns them so their tokens can be revoked. */
  async removeExpired(subject: Subject, now: Date, idleCutoff: Date): Promise<StoredSession[]> {
    const { rows } = await this.pool.query<SessionRow>(
      `DELETE FROM auth_sessions WHERE sub = $1 AND tenant_id = $2 AND (expires_at <= $3 OR last_seen_at <= $4) RETURNING ${COLUMNS}`,
      [subject.sub, subject.tenantId, now, idleCutoff],
    );
    return rows.map(fromRow);
  }

  /**
   * Runs `decide` with the session row locked (SELECT … FOR UPDATE), so that two requests, or two
   * instances, never spend the same refresh token: the second waits and sees the first's tokens.
   */
  async withLockedSession<T>(id: string, decide: (session: StoredSession | undefined) => Promise<LockedOutcome<T>>): Promise<T> {
    const client: PoolClient = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<SessionRow>(`SELECT ${COLUMNS} FROM auth_sessions WHERE id = $1 FOR UPDATE`, [id]);
      const outcome = await decide(rows[0] ? fromRow(rows[0]) : undefined);
      if ('update' in outcome) {
        const t = outcome.update;
        await client.query('UPDATE auth_sessions SET access_token = $2, access_expires_at = $3, refresh_token = $4, id_token = $5 WHERE id = $1', [
          id,
          t.accessToken,
          t.accessExpiresAt,
          t.refreshToken,
          t.idToken,
        ]);
      } else if ('remove' in outcome) {
        await client.query('DELETE FROM auth_sessions WHERE id = $1', [id]);
      }
      await client.query('COMMIT');
      return outcome.result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async insertLogin(stateHash: Buffer, login: PendingLogin): Promise<void> {
    await this.pool.query('INSERT INTO auth_login_states (state_hash, code_verifier, nonce, return_to, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      stateHash,
      login.codeVerifier,
      login.nonce,
      login.returnTo,
      login.expiresAt,
    ]);
  }

  /** Deletes and returns the pending login: the one atomic step that makes a `state` single-use. */
  async takeLogin(stateHash: Buffer): Promise<PendingLogin | undefined> {
    const { rows } = await this.pool.query<{ code_verifier: Buffer; nonce: string; return_to: string; expires_at: Date }>(
      'DELETE FROM auth_login_states WHERE state_hash = $1 RETURNING code_verifier, nonce, return_to, expires_at',
      [stateHash],
    );
    const row = rows[0];
    return row ? { codeVerifier: row.code_verifier, nonce: row.nonce, returnTo: row.return_to, expiresAt: row.expires_at } : undefined;
  }

  /** Logins started and abandoned: cheap to drop at the next login start. */
  async removeExpiredLogins(now: Date): Promise<void> {
    await this.pool.query('DELETE FROM auth_login_states WHERE expires_at <= $1', [now]);
  }
}
