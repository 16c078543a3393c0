import { getDevToken, startDevOidcProvider, type DevOidcProvider } from '@fitledger/testing/oidc';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, requireIdentity } from './authenticate';
import { createTokenVerifier } from './tokenVerifier';

let provider: DevOidcProvider;
let app: FastifyInstance;

beforeAll(async () => {
  provider = await startDevOidcProvider();
  app = Fastify({ logger: false });
  app.addHook('onRequest', authenticate(createTokenVerifier({ issuer: provider.issuer, audience: provider.audience })));
  app.get('/me', (request) => {
    const { sub, role, tenantId } = requireIdentity(request);
    return { sub, role, tenantId };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
  await provider.close();
});

function url(): string {
  const address = app.server.address();
  if (!address || typeof address !== 'string' && !('port' in address)) throw new Error('not listening');
  return `http://127.0.0.1:${typeof address === 'string' ? address : address.port}/me`;
}

describe('authenticate hook over HTTP with the dev OIDC provider', () => {
  it("lets bob's real access token through with bob's identity", async () => {
    const token = await getDevToken(provider.issuer, 'bob');
    const res = await fetch(url(), { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: provider.users.bob.sub, role: 'client', tenantId: provider.users.bob.tenantId });
  });

  it('answers 401 problem+json with a Bearer challenge to the same request without a token', async () => {
    const res = await fetch(url());
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="fitledger"');
    expect(await res.json()).toMatchObject({ status: 401, code: 'TOKEN_MISSING' });
  });

  it('answers 401 invalid_token to a token whose signature was broken', async () => {
    const token = await getDevToken(provider.issuer, 'bob');
    const broken = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    const res = await fetch(url(), { headers: { authorization: `Bearer ${broken}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await res.json()).toMatchObject({ code: 'TOKEN_INVALID' });
  });
});
