import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommandServiceTestEnv, type CommandServiceTestEnv } from './testing/commandServiceTestEnv';
import { PROBLEM_JSON, routeValidationSuite, type RouteCase } from './testing/routeValidationSuite';

const MASS_ASSIGNMENT = {
  subjectId: '5d2e9c71-3a48-4f6b-8e0d-7c9b1a2f3e84',
  tenantId: '00000000-0000-4000-8000-000000000000',
  role: 'platform_admin',
  actor: { sub: 'someone', role: 'platform_admin' },
  heightM: 1.8,
  weightKg: 80,
  revision: 7,
};

const full = {
  birthDate: '1988-06-14',
  sex: 'female',
  height: { value: 65, unit: 'in' },
  weight: { value: 150, unit: 'lb' },
  timeZone: 'America/New_York',
  locale: 'en-US',
  unitPreferences: { system: 'imperial' },
  notificationPreferences: { email: true, weeklySummary: true },
  profileVisibility: 'private',
};

const routes: readonly RouteCase<void>[] = [
  {
    name: 'PUT /profile',
    method: 'PUT',
    url: () => '/api/v1/profile',
    valid: full,
    wrongTypes: [
      ['/body/height/value', { height: { value: '65', unit: 'in' } }],
      ['/body/weekStart', { weekStart: '1' }],
      ['/body/birthDate', { birthDate: 19880614 }],
      ['/body/timeZone', { timeZone: 3 }],
      ['/body/notificationPreferences/email', { notificationPreferences: { email: 'yes' } }],
      ['/body/unitPreferences', { unitPreferences: 'imperial' }],
    ],
    outOfRange: [
      ['/body/birthDate', { birthDate: '14.06.1988' }],
      ['/body/birthDate', { birthDate: '2001-02-30' }],
      ['/body/sex', { sex: 'other' }],
      ['/body/height/unit', { height: { value: 6, unit: 'ft' } }],
      ['/body/height/value', { height: { value: -1, unit: 'cm' } }],
      ['/body/weight/value', { weight: { value: 0, unit: 'kg' } }],
      ['/body/weekStart', { weekStart: 8 }],
      ['/body/weekStart', { weekStart: 1.5 }],
      ['/body/unitPreferences/mass', { unitPreferences: { mass: 'stone' } }],
      ['/body/unitPreferences/system', { unitPreferences: { system: 'nautical' } }],
      ['/body/unitPreferences/speed', { unitPreferences: { speed: 'mph' } }],
      ['/body/timeZone', { timeZone: '+01:00' }],
      ['/body/locale', { locale: 'en_US' }],
      ['/body/profileVisibility', { profileVisibility: 'public' }],
      ['/body/notificationPreferences/sms', { notificationPreferences: { sms: true } }],
    ],
  },
];

const subOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string }).sub;
const fields = (response: { json: <T>() => T }): string[] => response.json<{ errors?: { field: string }[] }>().errors?.map((e) => e.field) ?? [];

describe('profile commands (real PostgreSQL, real OIDC provider)', () => {
  let env: CommandServiceTestEnv;

  beforeAll(async () => {
    env = await startCommandServiceTestEnv('cmd_profile');
  });
  afterAll(async () => {
    await env?.close();
  });

  const put = (body: object, token = env.tokens.alice, headers: Record<string, string> = {}) => env.inject('PUT', '/api/v1/profile', { token, body, headers });
  const profileEvents = async (token: string) => {
    const decoded = await env.codec.decodeAll(await env.store.readStream(`profile-${subOf(token)}`));
    return decoded.map((e) => {
      if (e.erased) throw new Error('unexpected erased event');
      return { type: e.type, data: e.data as Record<string, unknown>, revision: e.revision };
    });
  };

  describe('bad input on every route', () => {
    routeValidationSuite({
      env: () => env,
      fresh: async () => {
        const response = await put({ locale: 'de-DE' });
        expect(response.statusCode, response.body).toBeLessThan(300);
      },
      routes,
      massAssignment: MASS_ASSIGNMENT,
      fuzzRuns: 40,
    });
  });

  it('creates the profile on the first PUT (201, ETag, Location) and changes it with If-Match; a stale If-Match gets 412', async () => {
    const created = await put({ birthDate: '1990-04-23', height: { value: 180, unit: 'cm' } }, env.tokens.bob);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ revision: 0 });
    expect(created.headers.etag).toBe('"0"');
    expect(created.headers.location).toBe('/api/v1/profile');

    const changed = await put({ weight: { value: 82, unit: 'kg' } }, env.tokens.bob, { 'if-match': '"0"' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ revision: 1 });
    expect(changed.headers.etag).toBe('"1"');

    const before = await env.countEvents();
    const stale = await put({ weight: { value: 83, unit: 'kg' } }, env.tokens.bob, { 'if-match': '"0"' });
    expect(stale.statusCode).toBe(412);
    expect(stale.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(stale.json()).toMatchObject({ code: 'PRECONDITION_FAILED' });

    // The same values again change nothing: 200 with the same revision, nothing appended.
    const same = await put({ weight: { value: 82, unit: 'kg' }, height: { value: 180, unit: 'cm' } }, env.tokens.bob);
    expect(same.statusCode).toBe(200);
    expect(same.json()).toMatchObject({ revision: 1 });
    expect(await env.countEvents()).toBe(before);

    expect(await profileEvents(env.tokens.bob)).toEqual([
      { type: 'ProfileUpdated', revision: 0, data: { birthDate: '1990-04-23', height: { value: 180, unit: 'cm' }, heightM: 1.8 } },
      { type: 'ProfileUpdated', revision: 1, data: { weight: { value: 82, unit: 'kg' }, weightKg: 82 } },
    ]);
  });

  it('refuses implausible values and unknown time zones or locales with 422 naming the field, and appends nothing', async () => {
    const before = await env.countEvents();
    for (const [body, field] of [
      [{ height: { value: 300, unit: 'cm' } }, '/body/height/value'],
      [{ height: { value: 12, unit: 'in' } }, '/body/height/value'],
      [{ weight: { value: 1_500, unit: 'lb' } }, '/body/weight/value'],
      [{ birthDate: '2023-01-01' }, '/body/birthDate'],
      [{ birthDate: '1880-01-01' }, '/body/birthDate'],
      [{ timeZone: 'Mars/Olympus_Mons' }, '/body/timeZone'],
      [{ timeZone: 'Europe/Berlinn' }, '/body/timeZone'],
      [{ locale: 'abcdefghij' }, '/body/locale'],
    ] as const) {
      const response = await put(body, env.tokens.coach);
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
      expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(fields(response), response.body).toEqual([field]);
      // The refused value is never echoed back (it is health data).
      expect(response.body).not.toMatch(/1500|1880|2023-01-01|Olympus/);
    }
    expect(await env.countEvents()).toBe(before);
  });

  it('records each time-zone change as TimeZoneChanged, effective from the request, and only when the zone changes', async () => {
    const t0 = Date.now();
    expect((await put({ timeZone: 'Europe/Berlin', locale: 'de-DE' }, env.tokens.coach)).statusCode).toBe(201);
    expect((await put({ timeZone: 'europe/berlin' }, env.tokens.coach)).json()).toMatchObject({ revision: 1 });
    expect((await put({ timeZone: 'America/New_York' }, env.tokens.coach)).json()).toMatchObject({ revision: 2 });
    expect((await put({ timeZone: 'Europe/Berlin', locale: 'en-US' }, env.tokens.coach)).json()).toMatchObject({ revision: 4 });
    const events = await profileEvents(env.tokens.coach);
    expect(events.map((e) => [e.type, e.data['timeZone'] ?? e.data['locale'] ?? null])).toEqual([
      ['ProfileUpdated', 'de-DE'],
      ['TimeZoneChanged', 'Europe/Berlin'],
      ['TimeZoneChanged', 'America/New_York'],
      ['ProfileUpdated', 'en-US'],
      ['TimeZoneChanged', 'Europe/Berlin'],
    ]);
    expect(events[3]?.data).toEqual({ locale: 'en-US', weekStart: 7 });
    const instants = events.filter((e) => e.type === 'TimeZoneChanged').map((e) => Date.parse(String(e.data['effectiveFrom'])));
    expect(instants).toEqual([...instants].sort((a, b) => a - b));
    for (const at of instants) expect(at).toBeGreaterThanOrEqual(t0 - 1_000);
  });

  it('keeps each person in a stream of their own, addressed by their subject id only', async () => {
    const streams = await env.pool.query<{ stream_id: string }>(`SELECT DISTINCT stream_id FROM es_events WHERE stream_id LIKE 'profile-%' ORDER BY stream_id`);
    expect(streams.rows.map((r) => r.stream_id).sort()).toEqual([env.tokens.alice, env.tokens.bob, env.tokens.coach].map((t) => `profile-${subOf(t)}`).sort());
  });

  it('recognises a retried PUT by Idempotency-Key and refuses the key for another body', async () => {
    const headers = { 'idempotency-key': 'profile-units-0001' };
    const first = await put({ unitPreferences: { system: 'metric', distance: 'mi' } }, env.tokens.bob, headers);
    expect(first.statusCode, first.body).toBe(200);
    const before = await env.countEvents();
    const retry = await put({ unitPreferences: { system: 'metric', distance: 'mi' } }, env.tokens.bob, headers);
    expect(retry.json()).toEqual(first.json());
    expect(await env.countEvents()).toBe(before);
    const other = await put({ unitPreferences: { system: 'imperial' } }, env.tokens.bob, headers);
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('keeps every profile value out of the event store in clear (PHI sealed)', async () => {
    const raw = await env.pool.query<{ data: unknown }>(`SELECT data FROM es_events WHERE stream_id LIKE 'profile-%'`);
    const text = JSON.stringify(raw.rows);
    expect(raw.rows.length).toBeGreaterThan(0);
    for (const secret of ['1988-06-14', '1990-04-23', 'female', 'Europe/Berlin', 'America/New_York', 'en-US', 'imperial', 'fl_oz']) expect(text).not.toContain(secret);
  });

  it('publishes PUT /profile in the OpenAPI document', async () => {
    const doc = (await env.inject('GET', '/openapi.json')).json<{ paths: Record<string, Record<string, unknown>> }>();
    expect(Object.keys(doc.paths['/api/v1/profile'] ?? {})).toEqual(['put']);
  });

  it('answers 401 without a token', async () => {
    const response = await env.inject('PUT', '/api/v1/profile', { body: { sex: 'male' } });
    expect(response.statusCode).toBe(401);
  });
});
