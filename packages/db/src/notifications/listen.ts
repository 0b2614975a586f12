/**
 * LISTEN on the database, for PostgreSQL and the embedded PGlite alike.
 *
 * One dedicated connection (never the pool's: a pooled connection may be closed or handed to a
 * transaction) runs `LISTEN` for each channel. On PostgreSQL its notifications are the feed. On
 * the embedded PGlite the connection only makes the shared session listen; notifications come
 * from the hub, which sees them whichever connection's commit produced them.
 *
 * A notification sent while the connection was down is lost: after every reconnection
 * `onResync` runs, and the subscriber must reload what it derives from the database.
 */
import pg from "pg";
import type { Database } from "../database.ts";
import type { Notification } from "./protocol-scanner.ts";

export interface NotificationHandlers {
  readonly onNotification: (notification: Notification) => void;
  /** After a reconnection: notifications may have been missed. */
  readonly onResync: () => void;
  /** A connection problem (the listener keeps retrying). */
  readonly onError?: (error: Error) => void;
}

export interface NotificationListener {
  /** Resolves once LISTEN is in place (notifications committed after this are delivered). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

export const listenToNotifications = (
  database: Pick<Database, "url" | "embedded">,
  channels: ReadonlyArray<string>,
  handlers: NotificationHandlers,
): NotificationListener => {
  for (const channel of channels)
    if (!CHANNEL.test(channel)) throw new Error(`invalid notification channel "${channel}"`);
  const wanted = new Set(channels);
  let closed = false;
  let client: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = RETRY_MIN_MS;
  let connectedOnce = false;
  let unsubscribe: (() => void) | undefined;

  const embedded = database.embedded;
  if (embedded !== undefined) {
    unsubscribe = embedded.notifications.subscribe((notification) => {
      if (!closed && wanted.has(notification.channel)) handlers.onNotification(notification);
    });
  }

  const scheduleRetry = (error: Error) => {
    if (closed || retryTimer !== undefined) return;
    handlers.onError?.(error);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect().catch(scheduleRetry);
    }, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  };

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: database.url });
    next.on("error", (error) => {
      if (client === next) client = undefined;
      next.end().catch(() => {});
      scheduleRetry(error);
    });
    next.on("end", () => {
      if (client === next) {
        client = undefined;
        scheduleRetry(new Error("notification connection closed"));
      }
    });
    if (embedded === undefined)
      next.on("notification", (message) => {
        if (!closed && wanted.has(message.channel))
          handlers.onNotification({ channel: message.channel, payload: message.payload ?? "" });
      });
    try {
      await next.connect();
      for (const channel of wanted) await next.query(`LISTEN ${channel}`);
    } catch (error) {
      await next.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    retryMs = RETRY_MIN_MS;
    if (connectedOnce) handlers.onResync();
    connectedOnce = true;
  };

  const ready = connect();
  ready.catch(() => {});
  return {
    ready,
    async close() {
      closed = true;
      unsubscribe?.();
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
};
