import type { FeedCursor } from '../cursor';

/** The part of a `ws` WebSocket a feed session uses. */
export interface FeedSocket {
  readonly readyState: number;
  /** Bytes queued in user land (ws queue + socket write buffer), not yet handed to the kernel. */
  readonly bufferedAmount: number;
  send(data: string, callback: (error?: Error) => void): void;
}

/** One feed row, already rendered; `message` undefined = advance the cursor, send nothing. */
export interface FeedEntry {
  readonly cursor: FeedCursor;
  readonly message: string | undefined;
  /** W3C traceparent of the request behind the change, if known (for the push span). */
  readonly traceparent?: string;
}

/** Wraps the sending of one page's messages, e.g. in a span (`traceFeedPush` of @fitledger/observability). Must call `send` once, synchronously. */
export type PushTracer = (traceparents: readonly string[], send: () => void) => void;

export interface FeedSessionOptions {
  readonly socket: FeedSocket;
  /** Next rows strictly after `after` (undefined = from the start), in cursor order, at most `limit`. */
  readonly readPage: (after: FeedCursor | undefined, limit: number) => Promise<readonly FeedEntry[]>;
  readonly after: FeedCursor | undefined;
  readonly pageSize: number;
  /** Stop reading while more than this many bytes wait to be written to the client. */
  readonly highWaterBytes: number;
  readonly onError: (error: unknown) => void;
  readonly tracePush?: PushTracer;
}

const OPEN = 1;

/**
 * Sends a subject's feed over one socket: the backlog page by page, then one catch-up read per
 * wake-up. Query-driven and single-flight: rows are always read from the last cursor sent, by one
 * loop at a time, so every row goes out exactly once and in cursor order however notifications
 * arrive (a wake-up during a read just makes the loop read again). Backpressure: before each read
 * the loop waits while the client has not taken what was already sent, so a slow client costs at
 * most one page above `highWaterBytes` of memory, never an unbounded buffer.
 */
export class FeedSession {
  private cursor: FeedCursor | undefined;
  private dirty = false;
  private running = false;
  private stopped = false;
  private lastWrite: Promise<void> = Promise.resolve();
  private idle: Promise<void> = Promise.resolve();
  private readonly options: FeedSessionOptions;

  constructor(options: FeedSessionOptions) {
    this.options = options;
    this.cursor = options.after;
  }

  /** The cursor of the last row sent (or skipped). */
  get position(): FeedCursor | undefined {
    return this.cursor;
  }

  /** Something may have changed: read again from the last cursor (coalesced with a read in flight). */
  wake(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (!this.running) this.idle = this.pump();
  }

  /** Resolves when no read is in flight (tests, shutdown). */
  async whenIdle(): Promise<void> {
    await this.idle;
  }

  /** Stops reading; resolves when the read in flight (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle;
  }

  private async pump(): Promise<void> {
    this.running = true;
    const { socket, pageSize, readPage } = this.options;
    try {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        for (;;) {
          await this.drained();
          if (this.stopped || socket.readyState !== OPEN) return;
          const entries = await readPage(this.cursor, pageSize);
          if (this.stopped || socket.readyState !== OPEN) return;
          const send = (): void => {
            for (const entry of entries) {
              if (entry.message !== undefined) this.lastWrite = this.write(entry.message);
              this.cursor = entry.cursor;
            }
          };
          const { tracePush } = this.options;
          if (tracePush === undefined || !entries.some((e) => e.message !== undefined)) send();
          else tracePush([...new Set(entries.flatMap((e) => (e.message !== undefined && e.traceparent !== undefined ? [e.traceparent] : [])))], send);
          if (entries.length < pageSize) break;
        }
      }
    } catch (error) {
      this.stopped = true;
      this.options.onError(error);
    } finally {
      this.running = false;
    }
  }

  private write(message: string): Promise<void> {
    return new Promise((resolve) => {
      // A failed write means the socket is going away; the loop sees readyState and stops.
      this.options.socket.send(message, () => resolve());
    });
  }

  /** Resolves once the client has taken enough: the last queued message was handed to the kernel. */
  private async drained(): Promise<void> {
    // The loop is the only writer of data frames, so once its last write is flushed, all earlier ones are too.
    if (this.options.socket.bufferedAmount > this.options.highWaterBytes) await this.lastWrite;
  }
}
