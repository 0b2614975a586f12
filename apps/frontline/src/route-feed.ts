/**
 * Keeps the route table current from ctrl's route feed (internal.v1.RouteFeedService).
 *
 * One long-lived server stream: a snapshot replaces the table, updates are applied as they
 * arrive (ctrl pushes each committed change; nothing is polled). When the stream ends or
 * breaks, or stays silent past twice ctrl's heartbeat interval, the client reconnects with
 * backoff and the next snapshot replaces the table. Meanwhile the last known table keeps
 * serving: a stale route beats refusing every request while ctrl restarts.
 */
import { hostname as machineName } from "node:os";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RouteFeedService, type WatchRoutesResponse } from "@ferry/api/internal";
import type { Logger } from "./log.ts";
import type { RouteEntry, RouteTable } from "./route-table.ts";

export interface RouteFeedOptions {
  /** ctrl's base URL, e.g. http://127.0.0.1:7070. */
  readonly ctrlUrl: string;
  readonly internalToken: string;
  readonly table: RouteTable;
  readonly log: Logger;
  /** Silence after which the stream is presumed dead (ctrl sends a heartbeat every 15 s). */
  readonly silenceMs?: number;
  /** Called after every applied message (tests and metrics). */
  readonly onApplied?: (kind: "snapshot" | "update") => void;
}

export interface RouteFeedClient {
  /** Resolves at the first snapshot. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

const toEntry = (entry: {
  hostname: string;
  deploymentId: string;
  projectId: string;
  upstreams: ReadonlyArray<{ address: string; region: string }>;
}): RouteEntry => ({
  hostname: entry.hostname,
  deploymentId: entry.deploymentId,
  projectId: entry.projectId,
  upstreams: entry.upstreams.map((upstream) => ({
    address: upstream.address,
    region: upstream.region,
  })),
});

export const startRouteFeed = (options: RouteFeedOptions): RouteFeedClient => {
  const { table, log } = options;
  const silenceMs = options.silenceMs ?? 35_000;
  const client = createClient(
    RouteFeedService,
    createConnectTransport({ baseUrl: options.ctrlUrl, httpVersion: "2" }),
  );
  const subscriber = `${machineName()}/${process.pid}`;
  let closed = false;
  let current: AbortController | undefined;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  const apply = (message: WatchRoutesResponse) => {
    switch (message.kind.case) {
      case "snapshot": {
        const result = table.replaceAll(message.kind.value.routes.map(toEntry));
        for (const problem of result.rejected)
          log.warn("route feed: entry rejected", { ...problem });
        log.info("route feed: snapshot applied", { routes: result.applied });
        resolveReady();
        options.onApplied?.("snapshot");
        return;
      }
      case "update": {
        for (const hostname of message.kind.value.removedHostnames) table.remove(hostname);
        for (const entry of message.kind.value.upserts) {
          try {
            table.upsert(toEntry(entry));
          } catch (error) {
            log.warn("route feed: entry rejected", {
              hostname: entry.hostname,
              reason: (error as Error).message,
            });
          }
        }
        options.onApplied?.("update");
        return;
      }
      default:
        return; // heartbeat
    }
  };

  /** One stream, until it ends, breaks or goes silent. */
  const follow = async (): Promise<void> => {
    const abort = new AbortController();
    current = abort;
    let watchdog: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => abort.abort(new Error("route feed silent")), silenceMs);
    };
    arm();
    try {
      const stream = client.watchRoutes(
        { subscriber },
        {
          signal: abort.signal,
          headers: { authorization: `Bearer ${options.internalToken}` },
        },
      );
      for await (const message of stream) {
        arm();
        apply(message);
      }
    } finally {
      clearTimeout(watchdog);
      if (current === abort) current = undefined;
    }
  };

  const loop = async () => {
    let retryMs = RETRY_MIN_MS;
    while (!closed) {
      const startedAt = Date.now();
      try {
        await follow();
        if (!closed) log.warn("route feed: stream ended; reconnecting");
      } catch (error) {
        if (closed) return;
        const connectError = ConnectError.from(error);
        // A wrong token will not fix itself: say so loudly, keep retrying slowly.
        if (connectError.code === Code.Unauthenticated)
          log.error("route feed: ctrl refused the internal token (FERRY_INTERNAL_TOKEN)", {});
        else log.warn("route feed: disconnected; reconnecting", { error: connectError.rawMessage });
      }
      // A stream that lived a while earns a fast reconnect.
      if (Date.now() - startedAt > 10_000) retryMs = RETRY_MIN_MS;
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    }
  };
  void loop();

  return {
    ready,
    async close() {
      closed = true;
      current?.abort();
    },
  };
};
