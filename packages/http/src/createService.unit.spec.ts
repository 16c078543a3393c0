import { describe, expect, it } from 'vitest';
import { createService } from './createService';
import { HttpProblem } from './problem';

function app() {
  const service = createService({
    bodyLimit: 1024,
    errorMappers: [(error) => (error instanceof RangeError ? new HttpProblem(422, 'OUT_OF_RANGE', 'Unprocessable Content', 'mapped') : undefined)],
  });
  service.post(
    '/things',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['reps'], properties: { reps: { type: 'integer', minimum: 1 }, note: { type: 'string' } } } } },
    (request) => ({ ok: true, body: request.body }),
  );
  service.get(
    '/things',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', maximum: 100 } } } } },
    (request) => ({ query: request.query }),
  );
  service.get('/boom', () => {
    throw new Error('secret detail: Key (email)=(a@b.c)');
  });
  service.get('/range', () => {
    throw new RangeError('x');
  });
  return service;
}

const json = { 'content-type': 'application/json' };

describe('service base', () => {
  it('rejects an unknown body field with 400 problem+json naming it (not stripped)', async () => {
    const res = await app().inject({ method: 'POST', url: '/things', headers: json, payload: JSON.stringify({ reps: 5, role: 'admin' }) });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: '/body/role', message: 'unknown field' }] });
  });

  it('rejects a wrong type in the body instead of coercing it', async () => {
    const res = await app().inject({ method: 'POST', url: '/things', headers: json, payload: JSON.stringify({ reps: '5' }) });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: { field: string }[] }>().errors[0]?.field).toBe('/body/reps');
    const ok = await app().inject({ method: 'POST', url: '/things', headers: json, payload: JSON.stringify({ reps: 5 }) });
    expect(ok.statusCode).toBe(200);
  });

  it('names a missing required field', async () => {
    const res = await app().inject({ method: 'POST', url: '/things', headers: json, payload: '{}' });
    expect(res.json<{ errors: { field: string }[] }>().errors[0]?.field).toBe('/body/reps');
  });

  it('answers malformed JSON, oversized bodies and other media types with problems', async () => {
    const malformed = await app().inject({ method: 'POST', url: '/things', headers: json, payload: '{"reps": 5' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'MALFORMED_JSON' });
    const big = await app().inject({ method: 'POST', url: '/things', headers: json, payload: JSON.stringify({ reps: 1, note: 'x'.repeat(2000) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'BODY_TOO_LARGE' });
    const text = await app().inject({ method: 'POST', url: '/things', headers: { 'content-type': 'text/xml' }, payload: '<a/>' });
    expect(text.statusCode).toBe(415);
  });

  it('coerces query strings from text but still bounds them', async () => {
    const ok = await app().inject({ method: 'GET', url: '/things?limit=20' });
    expect(ok.json()).toEqual({ query: { limit: 20 } });
    const tooMany = await app().inject({ method: 'GET', url: '/things?limit=1000' });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json<{ errors: { field: string }[] }>().errors[0]?.field).toBe('/querystring/limit');
    const unknown = await app().inject({ method: 'GET', url: '/things?sort=x' });
    expect(unknown.statusCode).toBe(400);
  });

  it('hides the details of unexpected errors and maps known ones', async () => {
    const boom = await app().inject({ method: 'GET', url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('email');
    expect(boom.json()).toMatchObject({ code: 'INTERNAL' });
    expect((await app().inject({ method: 'GET', url: '/range' })).json()).toMatchObject({ status: 422, code: 'OUT_OF_RANGE' });
    const missing = await app().inject({ method: 'GET', url: '/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });
});
