/**
 * WatchDeployment: a deployment's events (status, step, log), in order, from a cursor, then
 * live, until the terminal status event.
 *
 * The stream pulls: it reads a page of events from the event log, sends them one by one (each
 * `yield` waits until the transport took the previous message, so a slow client slows the
 * reads down and nothing piles up here), and reads the next page. Once caught up it waits on
 * the DeploymentEventFeed (database notifications, fanned out by one shared listener; see
 * @ferry/db startDeploymentEventFeed) and re-reads from its own cursor when woken, so a missed
 * or spurious wake-up costs a read, never an event. After `heartbeatMs` without a message it
 * sends a heartbeat.
 *
 * Cursors are the event's per-deployment seq (commit-ordered; see @ferry/domain EventLog),
 * wrapped with the deployment's id in an opaque token: a reconnect with the last cursor
 * continues exactly after it, whatever `exclude_logs` says.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import * as pb from "@ferry/api";
import {
  type DeploymentEvent,
  DeploymentEventFeed,
  type DeploymentEventKind,
  type DeploymentId,
  EventLog,
  isTerminal,
  type LogLine,
  parseDeploymentId,
  requireDeployment,
  ValidationError,
  type WorkspaceId,
} from "@ferry/domain";
import { Effect } from "effect";
import { int64, toPbStep } from "./convert.ts";
import type { Rpc } from "./rpc.ts";

/** The API's promise: a heartbeat after 15 seconds without an event. */
export const HEARTBEAT_MS = 15_000;
/** Events read per query. */
export const WATCH_PAGE_SIZE = 100;

export interface WatchOptions {
  /** Silence after which a heartbeat is sent (default HEARTBEAT_MS). */
  readonly heartbeatMs?: number;
  /** Events read from the database per query (default WATCH_PAGE_SIZE). */
  readonly pageSize?: number;
}

// ---------------------------------------------------------------------------
// Positions: cursors and page tokens

/**
 * An opaque position in a deployment's event log: base64url of `<tag>:<deployment id>:<seq>`.
 * `c1` tags WatchDeployment cursors, `l1` GetBuildLogs page tokens.
 */
export const encodePosition = (tag: "c1" | "l1", deploymentId: string, seq: bigint): string =>
  Buffer.from(`${tag}:${deploymentId}:${seq}`, "utf8").toString("base64url");

/** The seq of a position made by encodePosition for this deployment; undefined for anything else. */
export const decodePosition = (
  tag: "c1" | "l1",
  deploymentId: string,
  value: string,
): bigint | undefined => {
  if (value.length > 256 || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const match = /^([a-z0-9]+):([A-Za-z0-9_]+):(0|[1-9][0-9]{0,18})$/.exec(
    Buffer.from(value, "base64url").toString("utf8"),
  );
  if (match === null || match[1] !== tag || match[2] !== deploymentId) return undefined;
  return BigInt(match[3] ?? "0");
};

export const encodeCursor = (deploymentId: string, seq: bigint) =>
  encodePosition("c1", deploymentId, seq);

// ---------------------------------------------------------------------------
// Responses

export const toPbLogLine = (line: LogLine): MessageInitShape<typeof pb.LogLineSchema> => ({
  time: int64(line.at),
  step: line.step,
  region: line.region ?? "",
  stream: pb.LogStream[line.stream],
  text: line.text,
});

type WatchResponse = MessageInitShape<typeof pb.WatchDeploymentResponseSchema>;

const toResponse = (event: DeploymentEvent, cursor: string): WatchResponse => {
  const body = event.body;
  return {
    cursor,
    time: int64(event.at),
    event:
      body._tag === "Status"
        ? {
            case: "status",
            value: {
              status: pb.DeploymentStatus[body.status],
              errorMessage: body.errorMessage ?? "",
              isLive: body.isLive,
            },
          }
        : body._tag === "Step"
          ? { case: "step", value: { step: toPbStep(body.step) } }
          : { case: "log", value: toPbLogLine(body.line) },
  };
};

// ---------------------------------------------------------------------------
// The stream

const NO_LOGS: ReadonlyArray<DeploymentEventKind> = ["Status", "Step"];

const badCursor = () =>
  ValidationError.single("after_cursor", "is not a cursor of this deployment's events");

/** Checks the request, in the documented order; the deployment and where to start. */
const open = (workspaceId: WorkspaceId, request: pb.WatchDeploymentRequest) =>
  Effect.gen(function* () {
    const id = yield* parseDeploymentId("deploymentId")(request.deploymentId);
    const afterSeq =
      request.afterCursor === "" ? 0n : decodePosition("c1", id, request.afterCursor);
    if (afterSeq === undefined) return yield* Effect.fail(badCursor());
    const deployment = yield* requireDeployment(workspaceId, id);
    // A cursor names an event that was written: its seq is at most the last one.
    if (afterSeq > (yield* (yield* EventLog).lastSeq(id))) return yield* Effect.fail(badCursor());
    return { id, afterSeq, terminal: isTerminal(deployment.status) };
  });

/** Resolves when the signal aborts (at once if it has). */
const aborted = (signal: AbortSignal) =>
  Effect.async<void>((resume) => {
    if (signal.aborted) {
      resume(Effect.void);
      return;
    }
    const onAbort = () => resume(Effect.void);
    signal.addEventListener("abort", onAbort, { once: true });
    return Effect.sync(() => signal.removeEventListener("abort", onAbort));
  });

/** Waits for new events, the heartbeat's time, the client leaving or the feed closing. */
const waitForMore = (id: DeploymentId, afterSeq: bigint, idleMs: number, signal: AbortSignal) =>
  Effect.flatMap(DeploymentEventFeed, (feed) =>
    Effect.raceAll([
      feed.waitForEvents(id, afterSeq).pipe(
        Effect.as("events" as const),
        Effect.catchTag("EventFeedClosed", () => Effect.succeed("closed" as const)),
      ),
      Effect.sleep(Math.max(0, idleMs)).pipe(Effect.as("idle" as const)),
      aborted(signal).pipe(Effect.as("aborted" as const)),
    ]),
  );

/** The WatchDeployment handler. */
export const watchDeploymentRpc = (
  rpc: Rpc,
  options: WatchOptions = {},
): ServiceImpl<typeof pb.DeploymentService>["watchDeployment"] => {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const pageSize = options.pageSize ?? WATCH_PAGE_SIZE;
  return async function* watch(request: pb.WatchDeploymentRequest, context: HandlerContext) {
    const start = await rpc.run(context, (workspaceId) => open(workspaceId, request));
    const { id } = start;
    const kinds = request.excludeLogs ? { kinds: NO_LOGS } : {};
    const signal = context.signal;
    let cursor = start.afterSeq;
    // What a heartbeat carries: the cursor of the last event sent (on a resumed stream that
    // sent nothing yet, the cursor it resumed from: the last event the client has).
    let lastCursor = request.afterCursor;
    let lastSentAt = Date.now();
    let woken = false;
    while (!signal.aborted) {
      const page = await rpc.run(context, () =>
        Effect.flatMap(EventLog, (log) =>
          log.list(id, { afterSeq: cursor, limit: pageSize, ...kinds }),
        ),
      );
      for (const event of page) {
        cursor = event.seq;
        lastCursor = encodeCursor(id, event.seq);
        yield toResponse(event, lastCursor);
        lastSentAt = Date.now();
        if (event.body._tag === "Status" && isTerminal(event.body.status)) return;
      }
      if (page.length === pageSize) continue;
      // Terminal when the stream opened: every event up to the terminal one had committed, and
      // the client has now had everything after its cursor.
      if (start.terminal) return;
      // Woken for nothing (an event this stream skips, or the deployment is gone): still there?
      if (woken && page.length === 0)
        await rpc.run(context, (workspaceId) => requireDeployment(workspaceId, id));
      const outcome = await rpc.run(context, () =>
        waitForMore(id, cursor, heartbeatMs - (Date.now() - lastSentAt), signal),
      );
      woken = outcome === "events";
      if (outcome === "aborted") return;
      if (outcome === "closed")
        throw new ConnectError(
          "the server is shutting down: reconnect with the cursor of the last event",
          Code.Unavailable,
        );
      if (outcome === "idle") {
        yield {
          cursor: lastCursor,
          time: int64(Date.now()),
          event: { case: "heartbeat", value: {} },
        };
        lastSentAt = Date.now();
      }
    }
  };
};
