import WebSocket from 'ws';
import type { FeedMessage } from '../feed/feedMessage';

export interface FeedClient {
  readonly socket: WebSocket;
  /** The next message (in arrival order). */
  next(): Promise<FeedMessage>;
  take(n: number): Promise<FeedMessage[]>;
  /** Messages received and not yet taken. */
  readonly pending: readonly FeedMessage[];
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export class HandshakeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Record<string, string | string[] | undefined>,
  ) {
    super(`handshake refused with ${status}`);
  }
}

/** A `ws` client of the feed; rejects with HandshakeRefused when the server answers HTTP instead of upgrading. */
export function openFeed(url: string, options: { token?: string; protocols?: string[]; headers?: Record<string, string> } = {}): Promise<FeedClient> {
  const headers = { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers };
  const socket = new WebSocket(url, options.protocols ?? [], { headers });
  const queue: FeedMessage[] = [];
  const waiters: ((m: FeedMessage) => void)[] = [];
  socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
    if (isBinary || !Buffer.isBuffer(data)) throw new Error('the feed sends text frames only');
    const message = JSON.parse(data.toString('utf8')) as FeedMessage;
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  const client: FeedClient = {
    socket,
    next() {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve) => waiters.push(resolve));
    },
    async take(n) {
      const out: FeedMessage[] = [];
      while (out.length < n) out.push(await client.next());
      return out;
    },
    get pending() {
      return queue;
    },
    closed,
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close(1000);
      await closed;
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => reject(new HandshakeRefused(res.statusCode ?? 0, body, res.headers)));
    });
    socket.once('error', reject);
  });
}
