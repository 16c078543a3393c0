import type { ReadableEvent } from './projectionRunner';

/**
 * The trainer who wrote an event for its subject (actor on behalf of the subject, e.g. an assigned
 * workout or plan), or null for the person's own writes and the system's.
 */
export function assignedByOf(recorded: ReadableEvent): string | null {
  const actor = recorded.metadata['actor'] as { sub?: unknown } | undefined;
  const onBehalfOf = recorded.metadata['onBehalfOf'] as { sub?: unknown } | undefined;
  const sub = actor?.sub;
  return typeof sub === 'string' && onBehalfOf?.sub === recorded.metadata.subjectId && sub !== recorded.metadata.subjectId && !sub.startsWith('system:') ? sub : null;
}
