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

  it('records ahead: the record of an allowed page read is written while the page is read, and the response still waits for it', async () => {
    const events: string[] = [];
    const records: AccessRecord[] = [];
    let commit: () => void = () => undefined;
    const app = appWith({
      append: (r) => {
        events.push(`append ${r.status}`);
        records.push(r);
        // Durable only when the test says so.
        return new Promise<void>((resolve) => {
          commit = () => {
            events.push(`durable ${r.status}`);
            resolve();
          };
        });
      },
      close: () => Promise.resolve(),
    });
    let failRead = false;
    app.get('/api/v1/clients/:clientId/workouts', async (request) => {
      noteAccess(request, { subjectId: (request.params as { clientId: string }).clientId, basis: 'consent', consentVersion: 2 });
      recordAccessAhead(request, 200);
      events.push('read starts');
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push('read ends');
      if (failRead) throw new Error('read model unavailable');
      return { items: ['secret squat day'] };
    });
    const pending = app.inject({ method: 'GET', url: '/api/v1/clients/c-1/workouts' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The read is over, the record is not yet durable: nothing has left.
    expect(events).toEqual(['append 200', 'read starts', 'read ends']);
    commit();
    const response = await pending;
    expect(response.statusCode).toBe(200);
    expect(events).toEqual(['append 200', 'read starts', 'read ends', 'durable 200']);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 200, outcome: 'allowed', recordType: 'workouts', subjectPseudonym: pseudonymise('c-1'), consentVersion: 2, purposeOfUse: 'TREAT' });

    // The read fails after all: the record ahead stays, and the 500 that leaves is recorded too.
    records.length = 0;
    events.length = 0;
    failRead = true;
    const failing = app.inject({ method: 'GET', url: '/api/v1/clients/c-1/workouts' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    commit(); // the record ahead
    await new Promise((resolve) => setTimeout(resolve, 5));
    commit(); // the 500's own record
    const failed = await failing;
    expect(failed.statusCode).toBe(500);
    expect(failed.body).not.toContain('secret');
    expect(records.map((r) => [r.status, r.outcome, r.requestId])).toEqual([
      [200, 'allowed', records[0]?.requestId],
      [500, 'error', records[0]?.requestId],
    ]);
  });

  it('records ahead: nothing without an access log, and a failed record ahead withholds the response', async () => {
    const bare = Fastify();
    bare.get('/api/v1/things', (request) => {
      recordAccessAhead(request, 200);
      return { ok: true };
    });
    expect((await bare.inject({ method: 'GET', url: '/api/v1/things' })).statusCode).toBe(200);

    let calls = 0;
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
      return { items: ['secret squat day'] };
    });
    const response = await app.inject({ method: 'GET', url: '/api/v1/things' });
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
