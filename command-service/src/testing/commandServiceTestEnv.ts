import { randomBytes, randomUUID } from 'node:crypto';
import { hmacPseudonymiser, migrateAuditSchema, PostgresAccessLog, type Pseudonymiser } from '@fitledger/audit';
import { createTokenVerifier } from '@fitledger/auth';
import { LocalKeyStore, masterKeyFromBytes, migrateCryptoSchema, PhiCodec } from '@fitledger/crypto';
import { eventRegistry, type MembershipRole, type RecordedEventEnvelope } from '@fitledger/domain';
import { EventCodec } from '@fitledger/event-codec';
import { migrateEventStore, PostgresEventStore } from '@fitledger/event-store';
import { DEMO_TENANT_ID, getDevToken, signTestToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import { testDatabase } from '@fitledger/testing/vitest';
import type { RateLimitOptions } from '@fitledger/http';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { readModelDb } from '@fitledger/projections';
import { buildApp } from '../app';

export interface InjectOptions {
  readonly token?: string | undefined;
  /** An object is sent as JSON; a string is sent verbatim with content-type application/json. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** The command service over a real PostgreSQL database and the real dev OIDC provider, for one test file. */
export interface CommandServiceTestEnv {
  readonly app: FastifyInstance;
  readonly pool: pg.Pool;
  readonly store: PostgresEventStore;
  readonly codec: EventCodec;
  readonly keys: LocalKeyStore;
  readonly oidc: DevOidcProvider;
  /** The access log both apps of a pipeline write (table audit_access_records), and its subject pseudonyms. */
  readonly accessLog: { readonly log: PostgresAccessLog; readonly pseudonymise: Pseudonymiser };
  /** Real access tokens from the provider's authorization code + PKCE flow. */
  readonly tokens: { readonly alice: string; readonly bob: string; readonly coach: string };
  inject(method: 'POST' | 'PUT' | 'DELETE' | 'GET', url: string, options?: InjectOptions): Promise<LightMyRequestResponse>;
  /**
   * Makes each person an active member of the organisation (the demo tenant by default) in the
   * given role, over the API as an org admin would: the organisation is created on first use by a
   * platform admin, with an org admin of its own (returned) that invites and the members join.
   */
  enrol(members: readonly { readonly sub: string; readonly token: string; readonly role: MembershipRole }[], organisationId?: string): Promise<{ readonly admin: { readonly sub: string; readonly token: string } }>;
  /** Every event in the store (all streams). */
  countEvents(): Promise<number>;
  /** The workout's events, decrypted and upcast. */
  readWorkout(workoutId: string): Promise<RecordedEventEnvelope[]>;
  close(): Promise<void>;
}

export async function startCommandServiceTestEnv(prefix: string, options: { bodyLimit?: number; rateLimits?: RateLimitOptions } = {}): Promise<CommandServiceTestEnv> {
  const db = await testDatabase(prefix);
  const pool = new pg.Pool({ connectionString: db.url, max: 5 });
  await migrateEventStore(pool);
  await migrateCryptoSchema(pool);
  await migrateAuditSchema(pool);
  const accessLog = { log: new PostgresAccessLog(pool), pseudonymise: hmacPseudonymiser(randomBytes(32)) };
  const keys = new LocalKeyStore({ pool, masterKey: masterKeyFromBytes(randomBytes(32)) });
  const store = new PostgresEventStore({ pool });
  const codec = new EventCodec(new PhiCodec(keys), eventRegistry);
  const oidc = await startDevOidcProvider();
  const [alice, bob, coach] = await Promise.all([getDevToken(oidc.issuer, 'alice'), getDevToken(oidc.issuer, 'bob'), getDevToken(oidc.issuer, 'coach')]);
  const app = buildApp({
    store,
    codec,
    keys,
    verifier: createTokenVerifier({ issuer: oidc.issuer, audience: oidc.audience }),
    clock: () => new Date(),
    randomBytes: (size) => randomBytes(size),
    // The coaching read model may not exist in a command-only test: the assignment route reads it only when called.
    readModels: readModelDb(pool),
    accessLog,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
  });
  await app.ready();

  const inject: CommandServiceTestEnv['inject'] = (method, url, { token, body, headers = {} } = {}) => {
    const payload = body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) };
    return app.inject({
      method,
      url,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...payload,
    });
  };
  const admins = new Map<string, { sub: string; token: string }>();
  async function expectOk(method: 'POST', url: string, token: string, body: object): Promise<void> {
    const response = await inject(method, url, { token, body });
    if (response.statusCode >= 300) throw new Error(`${method} ${url} answered ${response.statusCode}: ${response.body}`);
  }
  const signAs = async (role: string, organisationId: string) => {
    const sub = randomUUID();
    const claims = { ...oidc.accessTokenClaims('alice'), sub, role, tenant_id: organisationId, amr: ['pwd', 'otp'] };
    return { sub, token: await signTestToken(claims, { privateKey: oidc.signingKey }) };
  };

  return {
    app,
    pool,
    store,
    codec,
    keys,
    oidc,
    accessLog,
    tokens: { alice, bob, coach },
    inject,
    async enrol(members, organisationId = DEMO_TENANT_ID) {
      let admin = admins.get(organisationId);
      if (admin === undefined) {
        admin = await signAs('org_admin', organisationId);
        const platformAdmin = await signAs('platform_admin', organisationId);
        await expectOk('POST', '/api/v1/organisations', platformAdmin.token, { organisationId, name: `Test organisation ${organisationId.slice(0, 8)}`, kind: 'gym', firstAdminId: admin.sub });
        await expectOk('POST', `/api/v1/organisations/${organisationId}/join`, admin.token, {});
        admins.set(organisationId, admin);
      }
      for (const member of members) {
        await expectOk('POST', `/api/v1/organisations/${organisationId}/invitations`, admin.token, { subjectId: member.sub, role: member.role });
        await expectOk('POST', `/api/v1/organisations/${organisationId}/join`, member.token, {});
      }
      return { admin };
    },
    async countEvents() {
      const result = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM es_events');
      return Number(result.rows[0]?.n ?? 0);
    },
    async readWorkout(workoutId) {
      const decoded = await codec.decodeAll(await store.readStream(`workout-${workoutId}`));
      return decoded.map((event) => {
        if (event.erased) throw new Error('unexpected erased event');
        return event;
      });
    },
    async close() {
      await app.close();
      await accessLog.log.close();
      await oidc.close();
      await store.close();
      await keys.close();
      await pool.end();
      await db.drop();
    },
  };
}
