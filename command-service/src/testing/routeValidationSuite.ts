import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { CommandServiceTestEnv } from './commandServiceTestEnv';

export const PROBLEM_JSON = /^application\/problem\+json/;
const BODY_LIMIT = 64 * 1024;

export type JsonObject = { [key: string]: unknown };

/** One command route and the bodies it must refuse; `F` is whatever the URLs need (ids made by `fresh`). */
export interface RouteCase<F> {
  readonly name: string;
  readonly method: 'POST' | 'PUT' | 'DELETE';
  url(fixture: F): string;
  /** A body the route accepts in the fixture's state. */
  readonly valid: JsonObject;
  /** [field pointer, body] pairs with one value of the wrong JSON type. */
  readonly wrongTypes: readonly (readonly [string, JsonObject])[];
  /** [field pointer, body] pairs with one value out of range. */
  readonly outOfRange: readonly (readonly [string, JsonObject])[];
  /** A URL with a malformed path id, and the parameter it names (routes with ids in the path). */
  readonly badPath?: { readonly url: string; readonly field: string };
  /** The demo user who sends the requests (default alice), or a token of the test's own (`token` wins). */
  readonly as?: 'alice' | 'bob' | 'coach';
  readonly token?: () => string;
}

export interface RouteValidationOptions<F> {
  readonly env: () => CommandServiceTestEnv;
  /** Creates what the routes act on; called before the suite and after each accepted request. */
  readonly fresh: () => Promise<F>;
  readonly routes: readonly RouteCase<F>[];
  /** Fields a client must never set (owner, tenant, role…): each is refused as unknown. */
  readonly massAssignment: Readonly<Record<string, unknown>>;
  readonly fuzzRuns?: number;
}

function tokenOf(route: { as?: 'alice' | 'bob' | 'coach'; token?: () => string }, env: CommandServiceTestEnv): string {
  return route.token?.() ?? env.tokens[route.as ?? 'alice'];
}

/** Every path (as key lists) into a value, objects and arrays alike. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
  if (typeof value === 'object' && value !== null) return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
  return [prefix];
}

function edit(valid: JsonObject, path: (string | number)[], change: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = structuredClone(valid) as unknown;
  if (path.length === 0) return copy;
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  change(parent, path.at(-1) as string | number);
  return copy;
}

const edgeValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(0, -1, 0.5, 1e308, -1e308, 1001, 2 ** 53, '', ' ', '0190f5a2-7c1e-7b3a-9d4e-5f6a7b8c9d0e', '2026-03-04T07:00:00Z', '9999-12-31T23:59:59.999-23:59', '2016-12-31T23:59:60Z', 'https://example.org/x'),
);

/** Mutations of a valid body: a value replaced, a field removed, a field added, at any depth. */
function mutationsOf(valid: JsonObject): fc.Arbitrary<unknown> {
  const all = paths(valid).filter((p) => p.length > 0);
  const objects = paths(valid).filter((p) => {
    let v: unknown = valid;
    for (const k of p) v = (v as Record<string | number, unknown>)[k];
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  });
  const added = fc.tuple(fc.constantFrom(...objects), fc.string({ maxLength: 12 }), edgeValue).map(([p, key, v]) => edit(valid, [...p, key], (parent, k) => void (parent[k] = v)));
  // An empty body has nothing to replace or remove: only fields to add.
  if (all.length === 0) return added;
  return fc.oneof(
    fc.tuple(fc.constantFrom(...all), edgeValue).map(([p, v]) => edit(valid, p, (parent, k) => void (parent[k] = v))),
    fc.constantFrom(...all).map((p) => edit(valid, p, (parent, k) => void delete parent[k])),
    added,
  );
}

/**
 * The bad-input contract of command routes, as `describe` blocks: malformed JSON, non-objects,
 * wrong types, unknown fields (mass assignment), out-of-range values, oversized and non-JSON
 * bodies, malformed path ids → 4xx problem+json naming the field, nothing appended; a positive
 * control per route; and fast-check bodies that must never get a 5xx.
 */
export function routeValidationSuite<F>(options: RouteValidationOptions<F>): void {
  let fixture: F | undefined;
  const current = async (): Promise<F> => (fixture ??= await options.fresh());

  async function expectRefused(route: RouteCase<F>, body: unknown, status: number, field?: string): Promise<LightMyRequestResponse> {
    const env = options.env();
    const url = route.url(await current());
    const before = await env.countEvents();
    const response = await env.inject(route.method, url, { token: tokenOf(route, env), body });
    expect(response.statusCode, `${route.name} ${response.body}`).toBe(status);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    const problem = response.json<{ status: number; code: string; errors?: { field: string }[] }>();
    expect(problem.status).toBe(status);
    expect(typeof problem.code).toBe('string');
    if (field !== undefined) expect(problem.errors?.map((e) => e.field), `${route.name} ${response.body}`).toContain(field);
    expect(await env.countEvents()).toBe(before);
    return response;
  }

  for (const route of options.routes) {
    describe(route.name, () => {
      it('rejects malformed JSON with 400 MALFORMED_JSON and appends nothing', async () => {
        for (const raw of ['{"a": ', '{title: "A"}', "{'a': 1}", '[1,]', '\u0000']) {
          const response = await expectRefused(route, raw, 400);
          expect(response.json()).toMatchObject({ code: 'MALFORMED_JSON' });
        }
      });

      it('rejects a body that is not a JSON object with 400', async () => {
        for (const body of ['null', '[]', '"text"', '42']) await expectRefused(route, body, 400, '/body');
      });

      it('rejects values of the wrong type with 400 naming the field and appends nothing', async () => {
        for (const [field, body] of route.wrongTypes) await expectRefused(route, body, 400, field);
      });

      it('rejects unknown fields, including owner, role and tenant mass assignment, with 400 naming the field', async () => {
        for (const [key, value] of Object.entries(options.massAssignment)) {
          // A field the route really takes (an invitation names its subject) is checked by its own cases.
          if (Object.hasOwn(route.valid, key)) continue;
          await expectRefused(route, { ...route.valid, [key]: value }, 400, `/body/${key}`);
        }
        await expectRefused(route, { ...route.valid, someOtherField: 1 }, 400, '/body/someOtherField');
      });

      it('rejects out-of-range values with 400 naming the field and appends nothing', async () => {
        for (const [field, body] of route.outOfRange) await expectRefused(route, body, 400, field);
      });

      it('rejects a body over the 64 KiB limit with 413 and appends nothing', async () => {
        const response = await expectRefused(route, { ...route.valid, padding: 'x'.repeat(BODY_LIMIT) }, 413);
        expect(response.json()).toMatchObject({ code: 'BODY_TOO_LARGE' });
      });

      it('rejects a body that is not application/json with 415', async () => {
        const env = options.env();
        const url = route.url(await current());
        const before = await env.countEvents();
        const response = await env.app.inject({
          method: route.method,
          url,
          headers: { authorization: `Bearer ${tokenOf(route, env)}`, 'content-type': 'text/plain' },
          payload: 'title=A',
        });
        expect(response.statusCode).toBe(415);
        expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(await env.countEvents()).toBe(before);
      });

      if (route.badPath !== undefined) {
        const badPath = route.badPath;
        it('rejects a malformed id in the path with 400 naming it', async () => {
          const env = options.env();
          const before = await env.countEvents();
          const response = await env.inject(route.method, badPath.url, { token: tokenOf(route, env), body: route.valid });
          expect(response.statusCode).toBe(400);
          expect(response.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(badPath.field);
          expect(await env.countEvents()).toBe(before);
        });
      }

      it('accepts the valid body (positive control for the refusals above)', async () => {
        const env = options.env();
        const response = await env.inject(route.method, route.url(await current()), { token: tokenOf(route, env), body: route.valid });
        expect(response.statusCode, response.body).toBeLessThan(300);
        fixture = await options.fresh();
      });
    });
  }

  describe('generated bodies (fast-check)', () => {
    for (const route of options.routes) {
      it(`${route.name}: never answers 5xx; every 4xx is problem+json and appends nothing`, async () => {
        const env = options.env();
        const bodies = fc.oneof(
          { weight: 3, arbitrary: mutationsOf(route.valid) },
          { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
          { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
        );
        const url = route.url(await current());
        await fc.assert(
          fc.asyncProperty(bodies, async (body) => {
            const before = await env.countEvents();
            const response = await env.inject(route.method, url, { token: tokenOf(route, env), body });
            expect(response.statusCode, response.body).toBeLessThan(500);
            if (response.statusCode >= 400) {
              expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
              expect(response.json()).toMatchObject({ status: response.statusCode, code: expect.any(String) as string });
              expect(await env.countEvents()).toBe(before);
            }
          }),
          { numRuns: options.fuzzRuns ?? 60 },
        );
      });
    }
  });
}
