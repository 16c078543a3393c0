import type { ChangeSource } from './changeSource';

/** Routes change notifications to the open feeds of each subject (one ChangeSource subscription per app). */
export class FeedHub {
  private readonly bySubject = new Map<string, Set<() => void>>();
  private readonly unsubscribe: () => void;

  constructor(source: ChangeSource) {
    this.unsubscribe = source.subscribe((subjectIds) => {
      for (const subjectId of subjectIds) {
        const wakers = this.bySubject.get(subjectId);
        if (wakers) for (const wake of wakers) wake();
      }
    });
  }

  /** `wake` runs on every notification that names `subjectId`; returns the deregistration. */
  register(subjectId: string, wake: () => void): () => void {
    let wakers = this.bySubject.get(subjectId);
    if (!wakers) {
      wakers = new Set();
      this.bySubject.set(subjectId, wakers);
    }
    wakers.add(wake);
    return () => {
      const current = this.bySubject.get(subjectId);
      if (!current) return;
      current.delete(wake);
      if (current.size === 0) this.bySubject.delete(subjectId);
    };
  }

  get openFeeds(): number {
    let n = 0;
    for (const wakers of this.bySubject.values()) n += wakers.size;
    return n;
  }

  close(): void {
    this.unsubscribe();
    this.bySubject.clear();
  }
}
