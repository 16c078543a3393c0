/** Called with the subjects whose feed gained rows; may be called with subjects nobody follows. */
export type ChangeListener = (subjectIds: ReadonlySet<string>) => void;

/**
 * Port: tells query-service that `rm_feed_changes` gained rows for some subjects. It only wakes
 * feeds up; what they send is always read from the table from each feed's own cursor, so a lost,
 * duplicated or early notification can delay a message but never lose or repeat one.
 */
export interface ChangeSource {
  /** Returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
}

/** What the in-process adapter needs from the projection runner's `CommittedBatch`. */
export interface CommittedChanges {
  readonly changes: readonly { readonly subjectId: string }[];
}

/** A ChangeSource fed by the projection runner in the same process (`onCommitted` / `addCommitListener`). */
export interface InProcessChangeSource extends ChangeSource {
  /** A `CommitListener` of the projection runner: pass it as `onCommitted` or to `runner.addCommitListener`. */
  readonly publish: (batch: CommittedChanges) => void;
}

/** In-process adapter: the runner calls `publish` after each commit; listeners run synchronously and must not throw. */
export function inProcessChangeSource(): InProcessChangeSource {
  const listeners = new Set<ChangeListener>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    publish(batch) {
      if (batch.changes.length === 0) return;
      const subjects = new Set(batch.changes.map((c) => c.subjectId));
      for (const listener of listeners) listener(subjects);
    },
  };
}
