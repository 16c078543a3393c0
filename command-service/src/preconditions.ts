/**
 * Conditional requests on a workout stream (RFC 9110 §13.1.1 If-Match). The ETag of a workout is
 * its stream revision as a strong entity tag: `"3"`. Weak tags never match (If-Match uses the
 * strong comparison).
 */

export type IfMatch =
  /** `*`: the workout must exist. */
  | { readonly kind: 'any' }
  /** The revisions named by the strong tags (possibly none, when every tag was weak or not ours). */
  | { readonly kind: 'revisions'; readonly revisions: readonly number[] };

export function etagOf(revision: number): string {
  return `"${revision}"`;
}

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE ; etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3)
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;
const REVISION = /^(0|[1-9][0-9]{0,14})$/;

/** Parses an If-Match header; undefined when the header is absent, null when it is not valid syntax. */
export function parseIfMatch(header: string | undefined): IfMatch | undefined | null {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed === '*') return { kind: 'any' };
  const revisions: number[] = [];
  const parts = trimmed.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) return null;
  for (const part of parts) {
    const match = ENTITY_TAG.exec(part);
    if (!match) return null;
    const [, weak, opaque = ''] = match;
    if (weak === undefined && REVISION.test(opaque)) revisions.push(Number(opaque));
  }
  return { kind: 'revisions', revisions };
}

/** Whether a stream at `revision` (-1: no stream) satisfies the precondition. */
export function ifMatchSatisfied(condition: IfMatch, revision: number): boolean {
  return condition.kind === 'any' ? revision >= 0 : revision >= 0 && condition.revisions.includes(revision);
}
