/**
 * The route table that frontline serves, kept current from database notifications and pushed
 * to every subscribed gateway.
 *
 * Each committed change of a route or instance notifies `ferry_routes` (a trigger; see the
 * route_notifications migration) with the hostname or deployment it touched. The feed collects
 * what was named, re-reads only those routes, compares them with the table it holds and sends
 * the difference. Reads run one at a time; notifications that arrive meanwhile are folded into
 * the next read, so a burst of changes costs a few reads, and the last read always sees the
 * last commit. After the notification connection was lost, everything is re-read.
 *
 * A subscriber whose queue grows past a bound (a stalled gateway) is dropped; it reconnects
 * and starts again from a snapshot, which is always correct.
 */
import {
  type Database,
  type FrontlineRouteEntry,
  type FrontlineRouteScope,
  listenToNotifications,
  loadFrontlineRoutes,
  type NotificationListener,
} from "@ferry/db";
import type { Log } from "../log.ts";

export const ROUTES_CHANNEL = "ferry_routes";

export type RouteFeedMessage =
  | { readonly kind: "snapshot"; readonly routes: ReadonlyArray<FrontlineRouteEntry> }
  | {
      readonly kind: "update";
      readonly upserts: ReadonlyArray<FrontlineRouteEntry>;
      readonly removedHostnames: ReadonlyArray<string>;
    };

export interface RouteFeedSubscription extends AsyncIterable<RouteFeedMessage> {
  close(): void;
}

/** Messages a subscriber may have waiting before it is dropped. */
const MAX_QUEUED = 1_000;

const sameEntry = (a: FrontlineRouteEntry, b: FrontlineRouteEntry) =>
  a.deploymentId === b.deploymentId &&
  a.projectId === b.projectId &&
  a.upstreams.length === b.upstreams.length &&
  a.upstreams.every(
    (upstream, index) =>
      upstream.address === b.upstreams[index]?.address &&
      upstream.region === b.upstreams[index]?.region,
  );

class Subscriber {
  private readonly queue: RouteFeedMessage[] = [];
  private wake: (() => void) | undefined;
  closed = false;

  push(message: RouteFeedMessage): boolean {
    if (this.closed) return false;
    if (this.queue.length >= MAX_QUEUED) {
      this.close();
      return false;
    }
    this.queue.push(message);
    this.wake?.();
    return true;
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *messages(): AsyncGenerator<RouteFeedMessage> {
    while (true) {
      const next = this.queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}

export interface RouteFeed {
  /** Resolves when the table is loaded and notifications flow. */
  readonly ready: Promise<void>;
  /** A snapshot first, then updates; ends when the feed closes or the subscriber falls behind. */
  subscribe(): RouteFeedSubscription;
  /** The table as the feed holds it now. */
  current(): ReadonlyArray<FrontlineRouteEntry>;
  /** Ends every subscription and stops listening. */
  close(): Promise<void>;
}

export const startRouteFeed = (
  database: Pick<Database, "prisma" | "url" | "embedded">,
  log: Log,
): RouteFeed => {
  const table = new Map<string, FrontlineRouteEntry>();
  const subscribers = new Set<Subscriber>();
  let pendingHostnames = new Set<string>();
  let pendingDeployments = new Set<string>();
  let pendingAll = false;
  let reading: Promise<void> | undefined;
  let closed = false;

  const broadcast = (message: RouteFeedMessage) => {
    for (const subscriber of subscribers)
      if (!subscriber.push(message)) {
        subscribers.delete(subscriber);
        log.warn("route feed subscriber dropped: it fell behind; it will resync");
      }
  };

  const applyRead = (scope: FrontlineRouteScope, entries: ReadonlyArray<FrontlineRouteEntry>) => {
    const upserts: FrontlineRouteEntry[] = [];
    const removedHostnames: string[] = [];
    const found = new Set(entries.map((entry) => entry.hostname));
    for (const entry of entries) {
      const previous = table.get(entry.hostname);
      if (previous === undefined || !sameEntry(previous, entry)) {
        table.set(entry.hostname, entry);
        upserts.push(entry);
      }
    }
    // Hostnames that the read was about and did not find are gone.
    const candidates =
      "all" in scope
        ? [...table.keys()]
        : [
            ...scope.hostnames,
            ...[...table.values()]
              .filter((entry) => scope.deploymentIds.includes(entry.deploymentId))
              .map((entry) => entry.hostname),
          ];
    for (const hostname of new Set(candidates))
      if (!found.has(hostname) && table.delete(hostname)) removedHostnames.push(hostname);
    if (upserts.length > 0 || removedHostnames.length > 0)
      broadcast({ kind: "update", upserts, removedHostnames });
  };

  const readPending = async (): Promise<void> => {
    while (!closed && (pendingAll || pendingHostnames.size > 0 || pendingDeployments.size > 0)) {
      const scope: FrontlineRouteScope = pendingAll
        ? { all: true }
        : { hostnames: [...pendingHostnames], deploymentIds: [...pendingDeployments] };
      pendingAll = false;
      pendingHostnames = new Set();
      pendingDeployments = new Set();
      try {
        applyRead(scope, await loadFrontlineRoutes(database.prisma, scope));
      } catch (error) {
        // The database is unreachable for now: read everything once it answers again.
        pendingAll = true;
        log.warn("route feed: reading routes failed; retrying", { error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };

  const schedule = () => {
    if (reading !== undefined || closed) return;
    reading = readPending().finally(() => {
      reading = undefined;
      if (pendingAll || pendingHostnames.size > 0 || pendingDeployments.size > 0) schedule();
    });
  };

  const listener: NotificationListener = listenToNotifications(database, [ROUTES_CHANNEL], {
    onNotification: ({ payload }) => {
      if (payload.startsWith("host:")) pendingHostnames.add(payload.slice(5));
      else if (payload.startsWith("deployment:")) pendingDeployments.add(payload.slice(11));
      else pendingAll = true;
      schedule();
    },
    onResync: () => {
      log.info("route feed: notification connection restored; re-reading every route");
      pendingAll = true;
      schedule();
    },
    onError: (error) =>
      log.warn("route feed: notification connection lost", { error: error.message }),
  });

  // Listening first, then the first read (through the same one-at-a-time reader, so a read
  // triggered by an early notification can never be overwritten by an older one).
  const ready = listener.ready.then(async () => {
    pendingAll = true;
    schedule();
    await reading;
  });
  ready.catch(() => {});

  return {
    ready,
    subscribe() {
      const subscriber = new Subscriber();
      subscriber.push({ kind: "snapshot", routes: [...table.values()] });
      subscribers.add(subscriber);
      return {
        [Symbol.asyncIterator]: () => subscriber.messages(),
        close: () => {
          subscriber.close();
          subscribers.delete(subscriber);
        },
      };
    },
    current: () => [...table.values()],
    async close() {
      closed = true;
      for (const subscriber of subscribers) subscriber.close();
      subscribers.clear();
      await listener.close();
      await reading;
    },
  };
};
