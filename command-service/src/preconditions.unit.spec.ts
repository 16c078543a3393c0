import { describe, expect, it } from 'vitest';
import { etagOf, ifMatchSatisfied, parseIfMatch } from './preconditions';

describe('If-Match', () => {
  it('writes the revision as a strong entity tag', () => {
    expect(etagOf(3)).toBe('"3"');
  });

  it('parses *, one tag and a list; weak and foreign tags name no revision', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('*')).toEqual({ kind: 'any' });
    expect(parseIfMatch('"3"')).toEqual({ kind: 'revisions', revisions: [3] });
    expect(parseIfMatch(' "1", W/"2" ,"abc", "4"')).toEqual({ kind: 'revisions', revisions: [1, 4] });
    expect(parseIfMatch('"007"')).toEqual({ kind: 'revisions', revisions: [] });
  });

  it('refuses what is not entity-tag syntax', () => {
    for (const header of ['3', '', '"3', '"3",', 'W/3', '"a"b"', '*, "3"']) expect(parseIfMatch(header), header).toBeNull();
  });

  it('matches only the current revision; * matches any existing stream', () => {
    expect(ifMatchSatisfied({ kind: 'revisions', revisions: [3] }, 3)).toBe(true);
    expect(ifMatchSatisfied({ kind: 'revisions', revisions: [2] }, 3)).toBe(false);
    expect(ifMatchSatisfied({ kind: 'any' }, 0)).toBe(true);
    expect(ifMatchSatisfied({ kind: 'any' }, -1)).toBe(false);
    expect(ifMatchSatisfied({ kind: 'revisions', revisions: [-1] }, -1)).toBe(false);
  });
});
