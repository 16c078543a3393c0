import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { AccessRecord } from '../leaf';
import { httpAccessLog, noteAccess, recordAccessAhead, recordOfRoute } from './httpAccessLog';
import { hmacPseudonymiser, type AccessLog } from './postgresAccessLog';
import { loadPseudonymSecret } from './pseudonymSecret';

const pseudonymise = hmacPseudonymiser(randomBytes(32));

function appWith(log: AccessLog) {
  const app = Fastify();
  let n = 0;
  httpAccessLog(app, { log, pseudonymise, service: 'test-service', clock: () => new Date('2026-12-03T10:00:00.000Z'), newId: () => `id-${++n}`, classify: (request) => (request.url.startsWith('/api/v1/') ? 'read' : undefined) });
  app.get('/api/v1/clients/:clientId/workouts/:workoutId', (request) => {
    noteAccess(request, { subjectId: (request.params as { clientId: string }).clientId, basis: 'consent', consentVersion: 4 });
    return { title: 'secret squat day' };
  });
  app.get('/api/v1/exports/workouts.csv', (_request, reply) => reply.type('text/csv').send(Readable.from(['a,b\n', '1,2\n'])));
  app.get('/healthz', () => ({ ok: true }));
  return app;
}

describe('httpAccessLog', () => {
  it('records a request before its response, with the route, record, pseudonymous subject and basis', async () => {
    const records: AccessRecord[] = [];
    const app = appWith({
      append: (r) => {
        records.push(r);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    });
    const response = await app.inject({ method: 'GET', url: '/api/v1/clients/c-1/workouts/w-9?x=1', headers: { 'user-agent': 'ua'.repeat(200) } });
    expect(response.statusCode).toBe(200);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      id: 'id-1',
      at: '2026-12-03T10:00:00.000Z',
      actorSub: 'anonymous',
      action: 'read',
      recordType: 'workouts',
      recordId: 'w-9',
      subjectPseudonym: pseudonymise('c-1'),
      route: '/api/v1/clients/:clientId/workouts/:workoutId',
      status: 200,
      outcome: 'allowed',
      purposeOfUse: 'TREAT',
      consentVersion: 4,
      service: 'test-service',
    });
    expect(records[0]?.userAgent).toHaveLength(256);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(records).toHaveLength(1);
  });

  it('withholds the response (503, nothing disclosed) when the record cannot be written, streams included', async () => {
    const app = appWith({ append: () => Promise.reject(new Error('database down')), close: () => Promise.resolve() });
    for (const url of ['/api/v1/clients/c-1/workouts/w-9', '/api/v1/exports/workouts.csv']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ code: 'ACCESS_LOG_UNAVAILABLE' });
      expect(response.body).not.toContain('secret');
      expect(response.body).not.toContain('1,2');
    }
  });

  it('starts the record before the body is serialised, and records the real status when serialisation then fails', async () => {
    const events: string[] = [];
    const records: AccessRecord[] = [];
    const app = appWith({
      append: (r) => {
        events.push(`append ${r.status}`);
        records.push(r);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    });
    app.get('/api/v1/serialised', (_request, reply) =>
      reply.serializer((body: unknown) => {
        events.push('serialise');
        return JSON.stringify(body);
      }).send({ ok: true }),
    );
    app.get('/api/v1/unserialisable', (_request, reply) =>
      reply.serializer(() => {
        throw new Error('cannot serialise');
      }).send({ ok: true }),
    );
    expect((await app.inject({ method: 'GET', url: '/api/v1/serialised' })).statusCode).toBe(200);
    expect(events).toEqual(['append 200', 'serialise']);

    records.length = 0;
    const failed = await app.inject({ method: 'GET', url: '/api/v1/unserialisable' });
    expect(failed.statusCode).toBe(500);
    // The early record (200) stays; the response that left is recorded too, with its own status.
    expect(records.map((r) => [r.status, r.outcome])).toEqual([
      [200, 'allowed'],
      [500, 'error'],
    ]);
  });

  it('withholds the response when the record started before serialisation fails', async () => {
    let calls = 0;
    const app = appWith({
      append: () => {
        calls++;
        return new Promise((_resolve, reject) => setTimeout(() => reject(new Error('database down')), 5));
      },
      close: () => Promise.resolve(),
    });
    const response = await app.inject({ method: 'GET', url: '/api/v1/clients/c-1/workouts/w-9' });
    expect(response.statusCode).toBe(503);
    expect(response.body).not.toContain('secret');
    expect(calls).toBe(1);
  });

  /** A promise and its resolver. */
  function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
    let resolve: (value: T) => void = () => undefined;
    const promise = new Promise<T>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  }

  /** An access log whose appends become durable only when the test commits them, one by one. */
  function heldLog() {
    const events: string[] = [];
    const records: AccessRecord[] = [];
    const commits: (() => void)[] = [];
    let appended = deferred();
    return {
      events,
      records,
      /** Resolves once the next append was called. */
      nextAppend: () => appended.promise,
      commit: () => commits.shift()?.(),
      log: {
        append: (r: AccessRecord) => {
          events.push(`append ${r.status}`);
          records.push(r);
          const done = deferred();
          commits.push(() => {
            events.push(`durable ${r.status}`);
            done.resolve();
          });
          const signal = appended;
          appended = deferred();
          signal.resolve();
          return done.promise;
        },
        close: () => Promise.resolve(),
      } satisfies AccessLog,
    };
  }

  /** Turns of the event loop: enough for a response that does not wait to be delivered. */
  async function turns(n = 20): Promise<void> {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  it('records ahead: an own page read starts its record before it reads, the response still waits for it, and a read that then fails is recorded again', async () => {
    const held = heldLog();
    const app = appWith(held.log);
    let gate = deferred();
    let failRead = false;
    app.get('/api/v1/workouts', async (request) => {
      recordAccessAhead(request, 200); // alice's own data: no note, basis owner
      held.events.push('read starts');
      await gate.promise;
      held.events.push('read ends');
      if (failRead) throw new Error('read model unavailable');
      return { items: ['secret squat day'] };
    });
    await app.ready();

    let responded = false;
    const pending = app.inject({ method: 'GET', url: '/api/v1/workouts' }).then((r) => {
      responded = true;
      return r;
    });
    await held.nextAppend();
    expect(held.events).toEqual(['append 200', 'read starts']);
    gate.resolve();
    await turns();
    // The read is over, the record not yet durable: nothing has left.
    expect(held.events).toEqual(['append 200', 'read starts', 'read ends']);
    expect(responded).toBe(false);
    held.commit();
    const response = await pending;
    expect(response.statusCode).toBe(200);
    expect(held.events).toEqual(['append 200', 'read starts', 'read ends', 'durable 200']);
    expect(held.records.map((r) => [r.status, r.outcome, r.purposeOfUse])).toEqual([[200, 'allowed', 'PATRQT']]);

    // The read fails after its record started: the 500 that leaves is recorded too, same request id.
    held.records.length = 0;
    held.events.length = 0;
    gate = deferred();
    failRead = true;
    const failing = app.inject({ method: 'GET', url: '/api/v1/workouts' });
    await held.nextAppend();
    const second = held.nextAppend();
    gate.resolve();
    held.commit(); // the record ahead
    await second;
    held.commit(); // the 500's own record
    const failed = await failing;
    expect(failed.statusCode).toBe(500);
    expect(failed.body).not.toContain('secret');
    expect(held.records.map((r) => [r.status, r.outcome])).toEqual([
      [200, 'allowed'],
      [500, 'error'],
    ]);
    expect(new Set(held.records.map((r) => r.requestId)).size).toBe(1);
  });

  it("records ahead only reads of the caller's own data: a read under consent is recorded once its status is known", async () => {
    const held = heldLog();
    const app = appWith(held.log);
    app.get('/api/v1/clients/:clientId/workouts', (request) => {
      noteAccess(request, { subjectId: (request.params as { clientId: string }).clientId, basis: 'consent', consentVersion: 2 });
      recordAccessAhead(request, 200);
      held.events.push('read');
      return { items: ['secret squat day'] };
    });
    const pending = app.inject({ method: 'GET', url: '/api/v1/clients/c-1/workouts' });
    await held.nextAppend();
    held.commit();
    expect((await pending).statusCode).toBe(200);
    expect(held.events).toEqual(['read', 'append 200', 'durable 200']);
    expect(held.records[0]).toMatchObject({ purposeOfUse: 'TREAT', consentVersion: 2, subjectPseudonym: pseudonymise('c-1') });
  });

  it('records ahead: nothing without an access log, and a failed record ahead withholds the response', async () => {
    const bare = Fastify();
    bare.get('/api/v1/things', (request) => {
      recordAccessAhead(request, 200);
      return { ok: true };
    });
    expect((await bare.inject({ method: 'GET', url: '/api/v1/things' })).statusCode).toBe(200);

    let calls = 0;
    let callsWhenRead = -1;
    const app = appWith({
      append: () => {
        calls++;
        return Promise.reject(new Error('database down'));
      },
      close: () => Promise.resolve(),
    });
    app.get('/api/v1/things', (request) => {
      recordAccessAhead(request, 200);
      recordAccessAhead(request, 200); // once per request
      callsWhenRead = calls;
      return { items: ['secret squat day'] };
    });
    const response = await app.inject({ method: 'GET', url: '/api/v1/things' });
    expect(callsWhenRead).toBe(1);
    expect(response.statusCode).toBe(503);
    expect(response.body).not.toContain('secret');
    expect(calls).toBe(1);
  });

  it('derives the record type and id from the route template', () => {
    expect(recordOfRoute('/api/v1/workouts', {})).toEqual({ recordType: 'workouts', recordId: null });
    expect(recordOfRoute('/api/v1/workouts/:workoutId', { workoutId: 'w' })).toEqual({ recordType: 'workouts', recordId: 'w' });
    expect(recordOfRoute('/api/v1/organisations/:organisationId/members', { organisationId: 'o' })).toEqual({ recordType: 'members', recordId: null });
    expect(recordOfRoute('unmatched', {})).toEqual({ recordType: 'unmatched', recordId: null });
  });

  it('pseudonymises with a keyed hash and loads its secret from the environment or a file', () => {
    const secret = randomBytes(32);
    expect(hmacPseudonymiser(secret)('s')).toBe(hmacPseudonymiser(secret)('s'));
    expect(hmacPseudonymiser(secret)('s')).not.toBe(hmacPseudonymiser(randomBytes(32))('s'));
    expect(() => hmacPseudonymiser(randomBytes(16))).toThrow(/32 bytes/);
    expect(loadPseudonymSecret({ AUDIT_PSEUDONYM_KEY: secret.toString('base64') })).toEqual(secret);
    expect(loadPseudonymSecret({ AUDIT_PSEUDONYM_KEY_FILE: '/k' }, () => `${secret.toString('base64')}\n`)).toEqual(secret);
    expect(() => loadPseudonymSecret({})).toThrow(/AUDIT_PSEUDONYM_KEY is not set/);
    expect(() => loadPseudonymSecret({ AUDIT_PSEUDONYM_KEY: 'c2hvcnQ=' })).toThrow(/at least 32 bytes/);
    expect(() => loadPseudonymSecret({ AUDIT_PSEUDONYM_KEY: 'a', AUDIT_PSEUDONYM_KEY_FILE: '/k' })).toThrow(/only one/);
  });
});
