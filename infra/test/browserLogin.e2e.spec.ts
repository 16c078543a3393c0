import { DEMO_PASSWORD, driveDevLogin, getDevToken } from '@fitledger/testing/oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type RunningSystem } from '../src/system';

// The system as `npm start` wires it (in-process, throwaway state): browser login on query-service
// against the dev provider's web client, and MFA for privileged roles on both services.

let system: RunningSystem;

beforeAll(async () => {
  system = await startSystem({ persistent: false, seed: false, logLevel: 'error', pgSettings: { fsync: 'off' } });
});

afterAll(async () => {
  await system.close();
});

function cookiePair(response: Response, name: string): string {
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie`);
  return line.split(';')[0] ?? '';
}

describe('browser login on the started system', () => {
  it('logs alice in through the dev provider; the session cookie reads the API and a POST needs the CSRF token', async () => {
    const start = await fetch(`${system.query.url}/auth/login`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const callback = await driveDevLogin(start.headers.get('location') ?? '', 'alice', DEMO_PASSWORD, `${system.query.url}/auth/callback`);
    const finished = await fetch(callback, { redirect: 'manual', headers: { cookie: cookiePair(start, 'fitledger-login') } });
    expect(finished.status).toBe(303);
    const cookie = cookiePair(finished, 'fitledger-session');

    const session = await fetch(`${system.query.url}/auth/session`, { headers: { cookie } });
    expect(session.status).toBe(200);
    const { sub, csrfToken } = (await session.json()) as { sub: string; csrfToken: string };
    expect(sub).toBe(system.oidc.users.alice.sub);

    const workouts = await fetch(`${system.query.url}/api/v1/workouts`, { headers: { cookie } });
    expect(workouts.status).toBe(200);

    const withoutCsrf = await fetch(`${system.query.url}/auth/logout`, { method: 'POST', headers: { cookie } });
    expect(withoutCsrf.status).toBe(403);
    const logout = await fetch(`${system.query.url}/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken } });
    expect(logout.status).toBe(200);
    expect((await fetch(`${system.query.url}/api/v1/workouts`, { headers: { cookie } })).status).toBe(401);
  });

  it('refuses a trainer without MFA on both services, and lets the MFA coach in', async () => {
    const noMfa = { authorization: `Bearer ${await getDevToken(system.oidc.issuer, 'coach-nomfa')}` };
    const query = await fetch(`${system.query.url}/api/v1/workouts`, { headers: noMfa });
    expect(query.status).toBe(401);
    expect(query.headers.get('www-authenticate')).toContain('error="insufficient_user_authentication"');
    expect(await query.json()).toMatchObject({ code: 'MFA_REQUIRED' });
    const command = await fetch(`${system.command.url}/api/v1/workouts`, { method: 'POST', headers: { ...noMfa, 'content-type': 'application/json' }, body: '{"start":true}' });
    expect(command.status).toBe(401);
    expect(await command.json()).toMatchObject({ code: 'MFA_REQUIRED' });

    const coach = await fetch(`${system.query.url}/api/v1/workouts`, { headers: { authorization: `Bearer ${await getDevToken(system.oidc.issuer, 'coach')}` } });
    expect(coach.status).toBe(200);
  });
});
