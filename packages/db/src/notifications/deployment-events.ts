/**
 * DeploymentEventFeed on database notifications: one LISTEN on `ferry_events` (every committed
 * event notifies it with its deployment id; see the deployment_events migration) fanned out to
 * the waiters of that deployment.
 *
 * A waiter holds no queue: it is a wake-up, after which its stream re-reads the log from its
 * own cursor, at its own pace (so a slow client costs nothing here). After the notification
 * connection was re-established, every waiter wakes and re-reads, so nothing committed while
 * the connection was down is missed. Each wait also ends after `maxWaitMs` (a backstop; the
 * caller re-reads and waits again).
 */
import { DeploymentEventFeed, EventFeedClosed } from "@ferry/domain";
import { Effect, Layer } from "effect";
import type { Database } from "../database.ts";
import { listenToNotifications } from "./listen.ts";

export const EVENTS_CHANNEL = "ferry_events";

export interface DeploymentEventFeedOptions {
  /** Every wait ends after this long at most (default 30 s). */
  readonly maxWaitMs?: number;
  /** The notification connection was re-established (every waiter was woken). */
  readonly onResync?: () => void;
  /** A notification connection problem (the listener keeps retrying). */
  readonly onError?: (error: Error) => void;
}

export interface NotifiedDeploymentEventFeed {
  /** Resolves once LISTEN is in place. */
  readonly ready: Promise<void>;
  /** The port. */
  readonly feed: DeploymentEventFeed["Type"];
  /** The port as a layer. */
  readonly layer: Layer.Layer<DeploymentEventFeed>;
  /** How many waits are pending now. */
  waiting(): number;
  /** Fails every pending and later wait with EventFeedClosed, and stops listening. */
  close(): Promise<void>;
}

type Waiter = (outcome: "wake" | "closed") => void;

export const startDeploymentEventFeed = (
  database: Pick<Database, "prisma" | "url" | "embedded">,
  options: DeploymentEventFeedOptions = {},
): NotifiedDeploymentEventFeed => {
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  const waiters = new Map<string, Set<Waiter>>();
  let closed = false;

  const wake = (deploymentId: string) => {
    const set = waiters.get(deploymentId);
    if (set !== undefined) for (const waiter of [...set]) waiter("wake");
  };
  const everyWaiter = () => [...waiters.values()].flatMap((set) => [...set]);

  const listener = listenToNotifications(database, [EVENTS_CHANNEL], {
    onNotification: ({ payload }) => wake(payload),
    onResync: () => {
      for (const waiter of everyWaiter()) waiter("wake");
      options.onResync?.();
    },
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  const ready = listener.ready;
  ready.catch(() => {});

  const lastSeq = async (deploymentId: string) =>
    (
      await database.prisma.deployment.findUnique({
        where: { id: deploymentId },
        select: { eventSeq: true },
      })
    )?.eventSeq;

  const feed = DeploymentEventFeed.of({
    waitForEvents: (deploymentId, afterSeq) =>
      Effect.async<void, EventFeedClosed>((resume) => {
        if (closed) {
          resume(Effect.fail(new EventFeedClosed()));
          return;
        }
        let set = waiters.get(deploymentId);
        if (set === undefined) {
          set = new Set();
          waiters.set(deploymentId, set);
        }
        const registered = set;
        let timer: NodeJS.Timeout | undefined;
        const remove = () => {
          clearTimeout(timer);
          registered.delete(waiter);
          if (registered.size === 0 && waiters.get(deploymentId) === registered)
            waiters.delete(deploymentId);
        };
        let done = false;
        const waiter: Waiter = (outcome) => {
          if (done) return;
          done = true;
          remove();
          resume(outcome === "closed" ? Effect.fail(new EventFeedClosed()) : Effect.void);
        };
        registered.add(waiter);
        timer = setTimeout(() => waiter("wake"), maxWaitMs);
        // Listening and registered first, then checked: an event committed in between wakes
        // the waiter through either path. A failed check wakes it too (its caller re-reads).
        const check = () => {
          if (done) return;
          lastSeq(deploymentId).then(
            (seq) => {
              if (seq === undefined || seq > afterSeq) waiter("wake");
            },
            () => waiter("wake"),
          );
        };
        ready.then(check, check);
        return Effect.sync(() => {
          done = true;
          remove();
        });
      }),
  });

  return {
    ready,
    feed,
    layer: Layer.succeed(DeploymentEventFeed, feed),
    waiting: () => everyWaiter().length,
    async close() {
      closed = true;
      for (const waiter of everyWaiter()) waiter("closed");
      await listener.close();
    },
  };
};
