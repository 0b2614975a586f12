/**
 * Notifications of the embedded PGlite, wherever PostgreSQL writes them.
 *
 * PGlite is one session shared by every socket client, so a notification is written into the
 * output of whichever client committed the NOTIFY (protocol-scanner.ts says why). The hub sees
 * every output: it wraps the raw protocol entry point that pglite-socket uses, and also takes
 * PGlite's own parsed notifications (queries made in-process). Subscribers run after the
 * statement that produced the notification has finished, never inside PGlite's lock.
 */
import type { PGlite } from "@electric-sql/pglite";
import { type Notification, ProtocolScanner } from "./protocol-scanner.ts";

export interface NotificationHub {
  /** Calls `listener` for every notification on any channel; returns the unsubscribe. */
  subscribe(listener: (notification: Notification) => void): () => void;
}

export const installNotificationHub = (pglite: PGlite): NotificationHub => {
  const listeners = new Set<(notification: Notification) => void>();
  const deliver = (notification: Notification) => {
    queueMicrotask(() => {
      for (const listener of listeners) listener(notification);
    });
  };
  // Calls are serialized by PGlite's lock, so one scanner follows one continuous stream.
  const scanner = new ProtocolScanner(deliver);
  const rawStream = pglite.execProtocolRawStream.bind(pglite);
  pglite.execProtocolRawStream = (message, options) =>
    rawStream(message, {
      ...options,
      onRawData: (data) => {
        scanner.push(data);
        options?.onRawData?.(data);
      },
    });
  pglite.onNotification((channel, payload) => deliver({ channel, payload }));
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
};
