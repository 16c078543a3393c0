import { createTokenVerifier } from '@fitledger/auth';
import { migrateReadModels, ProjectionRunner, readModelDb, type Projection } from '@fitledger/projections';
import { buildApp as buildQueryApp, eventStoreConsentReader, inProcessChangeSource } from '@fitledger/query-service';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from '../../command-service/src/testing/commandServiceTestEnv';

/**
 * The write side, the given projections and the query service over one real database, as the
 * system wires them: commands through the command app, reads through the query app, the feed
 * woken in-process. For pipeline tests of one capability.
 */
export interface Pipeline {
  readonly env: CommandServiceTestEnv;
  readonly runner: ProjectionRunner;
  readonly query: FastifyInstance;
  /** ws:// URL of the live feed (listening only when asked for with `listen`). */
  readonly feedUrl: string;
  /** GET on the query app as `token`'s owner (alice by default). */
  get(url: string, token?: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /**
   * A command as `token`'s owner: asserts the status, waits until every projection applied it (when
   * it answered a position) and returns the JSON answer.
   */
  send(token: string, method: 'POST' | 'PUT' | 'DELETE', url: string, body: object, status: number): Promise<Record<string, string>>;
  /** Resolves once every projection has applied `position` (a command's answer). */
  settle(position: string): Promise<void>;
  close(): Promise<void>;
}

export async function startPipeline(prefix: string, projections: readonly Projection[], options: { listen?: boolean } = {}): Promise<Pipeline> {
  const env = await startCommandServiceTestEnv(prefix);
  await migrateReadModels(env.pool);
  const changes = inProcessChangeSource();
  const runner = new ProjectionRunner({ store: env.store, codec: env.codec, db: readModelDb(env.pool), projections, onCommitted: changes.publish });
  runner.start();
  const query = buildQueryApp({ db: env.pool, verifier: createTokenVerifier({ issuer: env.oidc.issuer, audience: env.oidc.audience }), changeSource: changes, consents: eventStoreConsentReader({ store: env.store, codec: env.codec }), accessLog: env.accessLog, auditReads: { pool: env.pool, store: env.store, open: (recorded) => env.codec.decodeAll(recorded) } });
  const feedUrl = options.listen ? `${(await query.listen({ port: 0, host: '127.0.0.1' })).replace('http', 'ws')}/api/v1/feed` : '';
  if (!options.listen) await query.ready();
  async function settle(position: string): Promise<void> {
    for (const name of runner.projectionNames) await runner.waitForPosition(name, position as Parameters<ProjectionRunner['waitForPosition']>[1]);
  }
  return {
    env,
    runner,
    query,
    feedUrl,
    get: (url, token = env.tokens.alice, headers = {}) => query.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } }),
    settle,
    async send(token, method, url, body, status) {
      const response = await env.inject(method, url, { token, body });
      expect(response.statusCode, response.body).toBe(status);
      const result = response.json<Record<string, string>>();
      if (result['position'] !== undefined) await settle(result['position']);
      return result;
    },
    async close() {
      await query.close();
      await runner.stop();
      await env.close();
    },
  };
}
