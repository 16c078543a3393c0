import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isUuid } from '../validation/validator';
import { eventRegistry } from './registry';

// Golden fixtures: one JSON file per (event type, schema version) ever written. They are the
// contract with data already in the store, so they are written by hand and never regenerated.
const fixturesDir = fileURLToPath(new URL('../../fixtures/events/', import.meta.url));

type Fixture = { type: string; schemaVersion: number; data: unknown; upcastsTo?: unknown };

const fixturePath = (type: string, version: number): string => `${fixturesDir}${type}.v${version}.json`;
const readFixture = (type: string, version: number): Fixture => JSON.parse(readFileSync(fixturePath(type, version), 'utf8')) as Fixture;

const cases = eventRegistry.types().flatMap((type) => eventRegistry.versions(type).map((version) => ({ type, version })));

describe('golden event fixtures', () => {
  it('registers at least one event type', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)('has a fixture for $type v$version', ({ type, version }) => {
    expect(existsSync(fixturePath(type, version)), `missing fixtures/events/${type}.v${version}.json`).toBe(true);
    const fixture = readFixture(type, version);
    expect(fixture.type).toBe(type);
    expect(fixture.schemaVersion).toBe(version);
  });

  it.each(cases)('$type v$version upcasts to valid current data', ({ type, version }) => {
    const fixture = readFixture(type, version);
    const upcast = eventRegistry.upcast(type, version, fixture.data);
    if (version === eventRegistry.currentVersion(type)) {
      expect(fixture.upcastsTo, 'current-version fixtures have no upcastsTo').toBeUndefined();
      expect(upcast).toEqual(fixture.data);
    } else {
      expect(fixture.upcastsTo, 'old-version fixtures state what they upcast to').toBeDefined();
      expect(upcast).toEqual(fixture.upcastsTo);
    }
    const result = eventRegistry.validate(type, upcast);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it.each(cases)('$type v$version keeps only opaque ids in its plain fields', ({ type, version }) => {
    const data = eventRegistry.upcast(type, version, readFixture(type, version).data);
    for (const field of eventRegistry.plainFields(type)) {
      const value = data[field];
      if (value === undefined) continue;
      expect(typeof value === 'string' && isUuid(value), `${type}.${field} should be an opaque id`).toBe(true);
    }
  });

  it('has no fixture for an unregistered event type or version', () => {
    const expected = new Set(cases.map(({ type, version }) => `${type}.v${version}.json`));
    const stray = readdirSync(fixturesDir).filter((name) => !expected.has(name));
    expect(stray).toEqual([]);
  });
});
