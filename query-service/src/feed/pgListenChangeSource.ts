import pg from 'pg';
import type { ChangeListener, ChangeSource } from './changeSource';

/** Minimal logger the adapter uses: no subject ids, no payloads. */
export interface ChangeSourceLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface PgListenChangeSourceOptions {
  readonly connectionString: string;
  /** Channel the projection runner notifies after each committed batch (default `rm_changes`). */
  readonly channel?: string;
  readonly logger?: ChangeSourceLogger;
  /** Reconnect back-off after the connection drops: doubles from `initialMs` to `maxMs` (defaults 100 ms, 5 s). */
  readonly reconnectDelay?: { readonly initialMs?: number; readonly maxMs?: number };
}

export interface PgListenChangeSource extends ChangeSource {
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]*$/;
/** `application_name` of the listening connection (visible in pg_stat_activity). */
export const LISTENER_APPLICATION_NAME = 'fitledger-query-feed-listener';

/**
 * ChangeSource for a query-service in another process than the projection runner: one dedicated
 * connection LISTENs on `rm_changes`. The runner's NOTIFY names the projection and its position but
 * not the subjects, so each wake-up asks `rm_feed_changes` which subjects gained rows after the
 * highest `feed_id` already announced (numbers grow in commit order, see `lockFeedOrder`; event
 * positions do not: two projections write the feed, each at its own pace).
 * After a reconnect the same query covers whatever was notified while the connection was down.
 */
export async function startPgListenChangeSource(options: PgListenChangeSourceOptions): Promise<PgListenChangeSource> {
  const channel = options.channel ?? 'rm_changes';
  if (!CHANNEL.test(channel)) throw new Error('notify channel must be a plain lower-case identifier');
  const initialDelayMs = options.reconnectDelay?.initialMs ?? 100;
  const maxDelayMs = options.reconnectDelay?.maxMs ?? 5_000;
  const listeners = new Set<ChangeListener>();
  const log = options.logger;

  let client: pg.Client | undefined;
  let closed = false;
  /** Greatest feed_id announced (bigint as text); '0' on an empty feed. */
  let highWater: string | undefined;
  let scanning = false;
  let rescan = false;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let delayMs = initialDelayMs;

  async function scan(): Promise<void> {
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = true;
    try {
      do {
        rescan = false;
        const current = client;
        if (!current || closed || highWater === undefined) return;
        const { rows } = await current.query<{ subject_id: string; feed_id: string }>(
          `SELECT subject_id, max(feed_id)::text AS feed_id FROM rm_feed_changes WHERE feed_id > $1::bigint GROUP BY subject_id`,
          [highWater],
        );
        if (rows.length === 0) continue;
        for (const row of rows) if (BigInt(row.feed_id) > BigInt(highWater)) highWater = row.feed_id;
        const subjects = new Set(rows.map((r) => r.subject_id));
        for (const listener of listeners) listener(subjects);
      } while (rescan && !closed);
    } catch (error) {
      // The connection's error handler reconnects; the scan after reconnecting covers this one.
      log?.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'feed change scan failed');
    } finally {
      scanning = false;
    }
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer) return;
    const wait = delayMs;
    delayMs = Math.min(delayMs * 2, maxDelayMs);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connect().catch(() => scheduleReconnect());
    }, wait);
  }

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString: options.connectionString, application_name: LISTENER_APPLICATION_NAME });
    const lost = (error?: Error): void => {
      if (client !== next) return;
      client = undefined;
      next.removeAllListeners('notification');
      next.end().catch(() => undefined);
      if (!closed) {
        log?.warn({ err: error ? { name: error.name, message: error.message } : undefined }, 'feed change listener connection lost; reconnecting');
        scheduleReconnect();
      }
    };
    next.on('error', lost);
    next.on('end', () => lost());
    next.on('notification', (message) => {
      if (message.channel === channel) void scan();
    });
    try {
      await next.connect();
      // LISTEN before reading the high-water mark: a commit in between is both seen and scanned.
      await next.query(`LISTEN ${channel}`);
      if (highWater === undefined) {
        const { rows } = await next.query<{ feed_id: string | null }>(`SELECT max(feed_id)::text AS feed_id FROM rm_feed_changes`);
        highWater = rows[0]?.feed_id ?? '0';
      }
    } catch (error) {
      next.removeAllListeners();
      next.on('error', () => undefined);
      await next.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    delayMs = initialDelayMs;
    void scan(); // whatever committed while no connection listened
  }

  await connect();

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const current = client;
      client = undefined;
      listeners.clear();
      await current?.end().catch(() => undefined);
    },
  };
}
