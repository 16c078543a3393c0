import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeReturnPath } from './returnPath';

describe('safeReturnPath', () => {
  it('keeps a path on this origin with its query and fragment', () => {
    expect(safeReturnPath('/app/workouts?week=3#top')).toBe('/app/workouts?week=3#top');
  });

  it.each([
    ['an absolute URL', 'https://evil.example/phish'],
    ['a protocol-relative URL', '//evil.example/phish'],
    ['a backslash that browsers read as a slash', '/\\evil.example'],
    ['a tab inside //', '/\t/evil.example'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a relative path', 'workouts'],
    ['nothing', undefined],
    ['a non-string', ['/a']],
  ])('falls back to / for %s', (_name, raw) => {
    expect(safeReturnPath(raw)).toBe('/');
  });

  it('never leaves this origin, whatever the input', () => {
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const path = safeReturnPath(raw);
        expect(path.startsWith('/') && !path.startsWith('//')).toBe(true);
        expect(new URL(path, 'https://app.example').origin).toBe('https://app.example');
      }),
    );
  });
});
