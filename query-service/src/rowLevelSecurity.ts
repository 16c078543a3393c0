import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';

/**
 * Row-level security on the read models (projections migration 0017), applied on query-service's
 * own connections: every connection its read-model queries check out runs as the role
 * `fitledger_reader` with the settings the policies compare rows with. query-service gives the
 * read models a pool of their own, whose connections stay in that role; a pool shared with other
 * users (the consent reader, the key store, sessions) gets each connection reset before it goes back.
 *
 * The settings come from the async context: inside an HTTP request, the tenant and role of the
 * verified token and the subject of the scope the API policy resolved (`noteReadScope`; before
 * that, the caller's own); inside `withReadScope`, the given ones. Outside both the reader has
 * no settings and sees no personal rows: a second wall fails closed.
 */

/** The PostgreSQL role of read-model reads (migration 0017 creates it). */
export const READER_ROLE = 'fitledger_reader';

/** What the policies compare rows with; null: unset (matches no row). */
export interface RowSecuritySettings {
  readonly tenantId: string | null;
  readonly subjectId: string | null;
  readonly role: string | null;
}

interface ReadContext {
  readonly request?: FastifyRequest;
  /** Fixed settings (withReadScope); otherwise derived from the request. */
  readonly settings?: RowSecuritySettings;
  /** The subject of the scope the API policy resolved for this request. */
  subjectId?: string;
}

const storage = new AsyncLocalStorage<ReadContext>();

const NO_ACCESS: RowSecuritySettings = { tenantId: null, subjectId: null, role: null };

/** The settings a connection checked out now gets. */
export function currentRowSecuritySettings(): RowSecuritySettings {
  const context = storage.getStore();
  if (context === undefined) return NO_ACCESS;
  if (context.settings !== undefined) return context.settings;
  const identity = context.request?.identity;
  // The tenant is always the verified token's, whatever scope was resolved.
  return { tenantId: identity?.tenantId ?? null, subjectId: context.subjectId ?? identity?.sub ?? null, role: identity?.role ?? null };
}

/**
 * Runs the rest of every request in a read context of its own. Callback hooks, so the lifecycle
 * continues inside `run`; preValidation re-enters it because the body's 'end' event (and what
 * follows it) runs in the socket's async context (nodejs/node#34430, as @fastify/request-context does).
 */
export function readContextHooks(app: FastifyInstance): void {
  const resources = new WeakMap<FastifyRequest, AsyncResource>();
  app.addHook('onRequest', (request, _reply, done) => {
    storage.run({ request }, () => {
      const resource = new AsyncResource('fitledger-read-context');
      resources.set(request, resource);
      resource.runInAsyncScope(done);
    });
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const resource = resources.get(request);
    if (resource === undefined) done();
    else resource.runInAsyncScope(done);
  });
}

/** Records the subject the API policy allowed this request to read: later read-model queries run with it. */
export function noteReadScope(request: FastifyRequest, scope: { readonly subjectId: string }): void {
  const context = storage.getStore();
  if (context?.request === request) context.subjectId = scope.subjectId;
}

/** Runs `fn` (and everything it starts) with fixed settings, e.g. a live feed's page reads outside its request. */
export function inReadScope<T>(settings: RowSecuritySettings, fn: () => T): T {
  return storage.run({ settings }, fn);
}

/** The pool interface Kysely's PostgresDialect and the exercise search use. */
export interface ReadModelPool {
  connect(): Promise<pg.PoolClient>;
  end(): Promise<void>;
}

// One statement (one round trip, parameters bound): set_config('role', …) is SET ROLE.
const APPLY = `SELECT set_config('role', '${READER_ROLE}', false), set_config('fitledger.tenant_id', $1, false), set_config('fitledger.subject_id', $2, false), set_config('fitledger.role', $3, false)`;
const RESET = 'RESET ROLE; RESET fitledger.tenant_id; RESET fitledger.subject_id; RESET fitledger.role';

/** The settings each connection of a dedicated read pool last had applied (see rowSecurityPool). */
const appliedSettings = new WeakMap<pg.PoolClient, string>();

export interface RowSecurityPoolOptions {
  /**
   * The pool serves only the read models, through this wrapper (query-service's own read pool).
   * Its connections then keep the reader role between checkouts: nothing is reset on release, and
   * a checkout applies its settings only when they differ from what that connection had last —
   * so a request's reads usually cost one round trip instead of three. Every checkout still gets
   * exactly its own settings: no connection of the pool is ever used without passing here.
   * Default false: the pool is shared (e.g. with the consent reader), so each connection is reset
   * before it returns to it.
   */
  readonly dedicated?: boolean;
}

/**
 * `pool` as the read models see it: each checkout is switched to the reader role with the current
 * settings (one round trip). A shared pool's connections are reset on release, before they return
 * to it (off the request's path: the caller does not wait); a failed reset destroys the
 * connection, so no connection carries one request's settings into another.
 */
export function rowSecurityPool(pool: pg.Pool, options: RowSecurityPoolOptions = {}): ReadModelPool {
  const dedicated = options.dedicated === true;
  return {
    async connect() {
      const client = await pool.connect();
      const settings = currentRowSecuritySettings();
      const values = [settings.tenantId ?? '', settings.subjectId ?? '', settings.role ?? ''];
      const key = values.join('\u0000');
      // A connection left inside a transaction (none of ours is, Kysely always ends its own) could
      // have its settings rolled back later while we believe them applied: never reuse one.
      const status = client.getTransactionStatus() as string | null;
      if (dedicated && status !== null && status !== 'I') {
        appliedSettings.delete(client);
        client.release(true);
        throw new Error('a read-model connection was returned inside a transaction; it was destroyed');
      }
      if (!dedicated || appliedSettings.get(client) !== key) {
        // Forget first: if APPLY fails half-way, the connection is destroyed below anyway.
        appliedSettings.delete(client);
        try {
          await client.query(APPLY, values);
        } catch (error) {
          client.release(error instanceof Error ? error : true);
          throw error;
        }
        if (dedicated) appliedSettings.set(client, key);
      }
      if (dedicated) return client;
      // pg-pool gives each checkout its own release function.
      const release = client.release.bind(client);
      client.release = (destroy?: Error | boolean) => {
        if (destroy) {
          release(destroy);
          return;
        }
        client.query(RESET).then(
          () => release(),
          (error: unknown) => release(error instanceof Error ? error : true),
        );
      };
      return client;
    },
    end: () => pool.end(),
  };
}

/** Runs `fn` with a connection of `pool` under the given settings (tenant from the verified token). */
export async function withReadScope<T>(pool: pg.Pool, settings: { readonly tenantId: string; readonly subjectId: string; readonly role?: string }, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return inReadScope({ tenantId: settings.tenantId, subjectId: settings.subjectId, role: settings.role ?? null }, async () => {
    const client = await rowSecurityPool(pool).connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  });
}
