/**
 * internal.v1.RouteFeedService: the route feed over Connect, for frontline.
 *
 * Authenticated by the installation's internal token (constant-time comparison), not by API
 * keys: a gateway is not a workspace member, and the feed carries internal addresses. The
 * stream starts with a snapshot, then carries updates, with a heartbeat so that both sides
 * notice a dead connection; it ends when ctrl shuts down or the gateway falls behind, and the
 * gateway reconnects.
 */
import { timingSafeEqual } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type RouteEntry,
  RouteEntrySchema,
  type RouteFeedService,
  WatchRoutesResponseSchema,
} from "@ferry/api/internal";
import type { FrontlineRouteEntry } from "@ferry/db";
import type { Log } from "../log.ts";
import type { RouteFeed, RouteFeedMessage } from "./route-feed.ts";

export const HEARTBEAT_MS = 15_000;

const sameToken = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

const toEntry = (entry: FrontlineRouteEntry): RouteEntry =>
  create(RouteEntrySchema, {
    hostname: entry.hostname,
    deploymentId: entry.deploymentId,
    projectId: entry.projectId,
    upstreams: entry.upstreams.map((upstream) => ({ ...upstream })),
  });

const toResponse = (message: RouteFeedMessage) =>
  create(WatchRoutesResponseSchema, {
    kind:
      message.kind === "snapshot"
        ? { case: "snapshot", value: { routes: message.routes.map(toEntry) } }
        : {
            case: "update",
            value: {
              upserts: message.upserts.map(toEntry),
              removedHostnames: [...message.removedHostnames],
            },
          },
  });

const heartbeat = create(WatchRoutesResponseSchema, { kind: { case: "heartbeat", value: {} } });

/** Merges the feed's messages with a heartbeat, until the feed, the client or the timer ends. */
async function* withHeartbeat(
  messages: AsyncIterator<RouteFeedMessage>,
  signal: AbortSignal,
): AsyncGenerator<ReturnType<typeof toResponse>> {
  const aborted = new Promise<"aborted">((resolve) =>
    signal.addEventListener("abort", () => resolve("aborted"), { once: true }),
  );
  let next = messages.next();
  while (!signal.aborted) {
    let timer: NodeJS.Timeout | undefined;
    const beat = new Promise<"beat">((resolve) => {
      timer = setTimeout(() => resolve("beat"), HEARTBEAT_MS);
    });
    const winner = await Promise.race([next, beat, aborted]);
    clearTimeout(timer);
    if (winner === "aborted") return;
    if (winner === "beat") {
      yield heartbeat;
      continue;
    }
    if (winner.done === true) return;
    yield toResponse(winner.value);
    next = messages.next();
  }
}

export const routeFeedService = (
  feed: RouteFeed,
  internalToken: string,
  log: Log,
): ServiceImpl<typeof RouteFeedService> => ({
  async *watchRoutes(request, context) {
    const header = context.requestHeader.get("authorization") ?? "";
    const token = /^Bearer +(\S+)$/i.exec(header.trim())?.[1] ?? "";
    if (!sameToken(token, internalToken))
      throw new ConnectError(
        "the route feed needs the installation's internal token: send `Authorization: Bearer <FERRY_INTERNAL_TOKEN>`",
        Code.Unauthenticated,
      );
    await feed.ready;
    const subscription = feed.subscribe();
    log.info("route feed subscriber connected", { subscriber: request.subscriber });
    try {
      yield* withHeartbeat(subscription[Symbol.asyncIterator](), context.signal);
    } finally {
      subscription.close();
      log.info("route feed subscriber left", { subscriber: request.subscriber });
    }
  },
});
