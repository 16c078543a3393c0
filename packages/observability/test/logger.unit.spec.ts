import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createLogger, PHI_LOG_PATHS, stripQueryString } from '../src/index';

/** In-memory pino destination: every line parsed back to JSON. */
function memoryDestination() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, text, lines };
}

// Seeded values: unique strings so a leak anywhere in the output is found by a substring search.
const SEED = {
  email: 'ada.seed@example.org',
  notes: 'seed-note: knee pain after squats',
  reps: 987_654,
  loadKg: 123.456,
  bearer: 'Bearer seed-access-token-abc',
  cookie: 'sid=seed-cookie-xyz',
  birthDate: '1980-02-29',
  heartRateBpm: 171_717,
  password: 'seed-pass-word',
} as const;

function expectNoSeed(output: string): void {
  for (const value of Object.values(SEED)) expect(output).not.toContain(String(value));
  expect(output).not.toContain('seed-');
}

describe('createLogger', () => {
  it('censors PHI in nested fields at any depth and keeps the non-PHI fields', () => {
    const dest = memoryDestination();
    const log = createLogger({ level: 'info', service: 'command-service', destination: dest.stream });

    log.info(
      {
        reqId: 'req-1',
        statusCode: 201,
        upstream: { headers: { authorization: SEED.bearer, cookie: SEED.cookie, 'x-request-id': 'req-1' } },
        body: { reps: SEED.reps, notes: SEED.notes, loadKg: SEED.loadKg, email: SEED.email, exercise: 'ex-01' },
        command: { payload: { subject: { birth_date: SEED.birthDate, Email: SEED.email } } },
        batch: { sets: [{ reps: SEED.reps, loadKg: SEED.loadKg }], samples: [{ heartRateBpm: SEED.heartRateBpm }] },
        password: SEED.password,
      },
      'set logged',
    );

    expectNoSeed(dest.text());
    const [line] = dest.lines();
    expect(line).toMatchObject({
      service: 'command-service',
      msg: 'set logged',
      reqId: 'req-1',
      statusCode: 201,
      upstream: { headers: { authorization: '[REDACTED]', cookie: '[REDACTED]', 'x-request-id': 'req-1' } },
      body: { reps: '[REDACTED]', notes: '[REDACTED]', loadKg: '[REDACTED]', email: '[REDACTED]', exercise: 'ex-01' },
      command: { payload: { subject: { birth_date: '[REDACTED]', Email: '[REDACTED]' } } },
      batch: { sets: [{ reps: '[REDACTED]', loadKg: '[REDACTED]' }], samples: '[REDACTED]' },
      password: '[REDACTED]',
    });
  });

  it('logs a request as id, method, route and path only, whatever else it carries', () => {
    const dest = memoryDestination();
    const log = createLogger({ level: 'info', service: 's', destination: dest.stream });
    log.info({ req: { id: 'req-9', method: 'GET', url: '/x?email=seed-q', headers: { authorization: SEED.bearer } } }, 'x');
    expectNoSeed(dest.text());
    expect(dest.lines()[0]?.req).toEqual({ id: 'req-9', method: 'GET', url: '/x' });
  });

  it('does not mutate the object that was logged', () => {
    const dest = memoryDestination();
    const log = createLogger({ level: 'info', service: 's', destination: dest.stream });
    const body = { email: SEED.email, nested: { notes: SEED.notes } };
    log.info({ body }, 'x');
    expect(body).toEqual({ email: SEED.email, nested: { notes: SEED.notes } });
  });

  it('censors values a PostgreSQL error puts in its detail', () => {
    const dest = memoryDestination();
    const log = createLogger({ level: 'info', service: 's', destination: dest.stream });
    const err = Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), {
      code: '23505',
      detail: `Key (email)=(${SEED.email}) already exists.`,
    });
    log.error({ err }, 'append failed');
    expectNoSeed(dest.text());
    expect(dest.lines()[0]).toMatchObject({ err: { code: '23505', detail: '[REDACTED]' } });
  });

  it('lets a service extend the redacted paths and fields', () => {
    const dest = memoryDestination();
    const log = createLogger({
      level: 'info',
      service: 's',
      destination: dest.stream,
      extraRedactPaths: ['consent.text'],
      extraPhiFields: ['diagnosis'],
    });
    log.info({ consent: { text: 'seed-consent', version: 3 }, a: { b: { c: { diagnosis: 'seed-dx' } } } }, 'x');
    expectNoSeed(dest.text());
    expect(dest.lines()[0]).toMatchObject({ consent: { text: '[REDACTED]', version: 3 } });
    expect(PHI_LOG_PATHS).toContain('*.email');
  });

  it('strips the query string and fragment from urls', () => {
    expect(stripQueryString('/subjects/s-1/sets?email=a%40b.c&from=2024-01-01')).toBe('/subjects/s-1/sets');
    expect(stripQueryString('/a#frag')).toBe('/a');
    expect(stripQueryString('/plain')).toBe('/plain');
  });
});

describe('fastify request logging through createLogger', () => {
  it('logs id, method, route, url without query, status and response time, and no PHI', async () => {
    const dest = memoryDestination();
    const log = createLogger({ level: 'info', service: 'command-service', destination: dest.stream });
    const app = Fastify({ loggerInstance: log });
    app.post('/subjects/:subjectId/sets', async (request, reply) => {
      request.log.info({ body: request.body, headers: request.headers }, 'handling set');
      return reply.code(201).send({ ok: true });
    });

    const res = await app.inject({
      method: 'POST',
      url: `/subjects/s-0190f/sets?email=${encodeURIComponent(SEED.email)}&note=seed-q`,
      headers: { authorization: SEED.bearer, cookie: SEED.cookie, 'content-type': 'application/json' },
      payload: { reps: SEED.reps, notes: SEED.notes, loadKg: SEED.loadKg, email: SEED.email },
    });
    await app.close();
    expect(res.statusCode).toBe(201);

    const output = dest.text();
    expectNoSeed(output);
    expect(output).not.toContain(encodeURIComponent(SEED.email));

    const lines = dest.lines();
    const incoming = lines.find((l) => l.msg === 'incoming request');
    const handling = lines.find((l) => l.msg === 'handling set');
    const completed = lines.find((l) => l.msg === 'request completed');
    expect(incoming).toMatchObject({
      service: 'command-service',
      reqId: 'req-1',
      req: { id: 'req-1', method: 'POST', route: '/subjects/:subjectId/sets', url: '/subjects/s-0190f/sets' },
    });
    expect(incoming?.req).not.toHaveProperty('remoteAddress');
    expect(handling).toMatchObject({
      reqId: 'req-1',
      body: { reps: '[REDACTED]', notes: '[REDACTED]', loadKg: '[REDACTED]', email: '[REDACTED]' },
      headers: { authorization: '[REDACTED]', cookie: '[REDACTED]' },
    });
    expect(completed).toMatchObject({ reqId: 'req-1', res: { statusCode: 201 } });
    expect(typeof completed?.responseTime).toBe('number');
  });
});
