/**
 * Watching a deployment: its events (status, step, log), in order, from a cursor, then live,
 * until the terminal status event. ctrl's WatchDeployment streams this over Connect;
 * `DeploymentService.watch` hands it to Node code as an AsyncIterable.
 *
 * The loop pulls: it reads a page of events from the event log, yields them one by one (each
 * `yield` waits until the consumer took the previous item, so a slow consumer slows the reads
 * down and nothing piles up here), and reads the next page. Once caught up it waits on the
 * DeploymentEventFeed (database notifications, fanned out by one shared listener; see
 * @ferry/db startDeploymentEventFeed) and re-reads from its own cursor when woken, so a missed
 * or spurious wake-up costs a read, never an event. With `heartbeatMs`, a heartbeat is yielded
 * after that long without an event.
 *
 * Cursors are the event's per-deployment seq (commit-ordered; see @ferry/domain EventLog),
 * wrapped with the deployment's id in an opaque token: resuming with the last cursor continues
 * exactly after it, whatever `excludeLogs` says.
 */
import {
  type DeploymentEvent,
  DeploymentEventFeed,
  type DeploymentEventKind,
  type DeploymentId,
  type DomainError,
  EventLog,
  isTerminal,
  parseDeploymentId,
  requireDeployment,
  ValidationError,
  type WorkspaceId,
} from "@ferry/domain";
import { Effect } from "effect";
import type { DeploymentServices } from "./composition.ts";

/** The API's promise: a heartbeat after 15 seconds without an event. */
export const HEARTBEAT_MS = 15_000;
/** Events read per query. */
export const WATCH_PAGE_SIZE = 100;

// ---------------------------------------------------------------------------
// Positions: cursors and page tokens

/**
 * An opaque position in a deployment's event log: base64url of `<tag>:<deployment id>:<seq>`.
 * `c1` tags watch cursors, `l1` GetBuildLogs page tokens.
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
// The loop

/** What a watch yields: an event with its resume cursor, or a heartbeat. */
export type WatchItem =
  | { readonly _tag: "Event"; readonly event: DeploymentEvent; readonly cursor: string }
  | {
      /** Nothing happened for `heartbeatMs`; `cursor` is still the last event's. */
      readonly _tag: "Heartbeat";
      readonly cursor: string;
      readonly at: number;
    };

/** Runs a use case for the watcher's workspace; a failure rejects with what the caller maps. */
export type WorkspaceRunner = <A>(
  useCase: (workspaceId: WorkspaceId) => Effect.Effect<A, DomainError, DeploymentServices>,
) => Promise<A>;

export interface WatchRequest {
  readonly deploymentId: string;
  /** Resume after this cursor; "" or absent: from the first event. */
  readonly afterCursor?: string;
  /** Only status and step events. */
  readonly excludeLogs?: boolean;
}

export interface WatchLoopOptions {
  /** Ends the watch (without an error) when it aborts. */
  readonly signal: AbortSignal;
  /** Silence after which a heartbeat is yielded; absent: never. */
  readonly heartbeatMs?: number;
  /** Events read from the database per query (default WATCH_PAGE_SIZE). */
  readonly pageSize?: number;
  /** The request fields that violations name (they differ between the API and the library). */
  readonly fields?: { readonly deploymentId: string; readonly cursor: string };
  /** The event feed closed (the service is shutting down): what to throw. */
  readonly onClosed: () => Error;
}

const NO_LOGS: ReadonlyArray<DeploymentEventKind> = ["Status", "Step"];

/** Checks the request, in the documented order; the deployment and where to start. */
const open = (
  workspaceId: WorkspaceId,
  request: WatchRequest,
  fields: { readonly deploymentId: string; readonly cursor: string },
) =>
  Effect.gen(function* () {
    const badCursor = () =>
      ValidationError.single(fields.cursor, "is not a cursor of this deployment's events");
    const id = yield* parseDeploymentId(fields.deploymentId)(request.deploymentId);
    const after = request.afterCursor ?? "";
    const afterSeq = after === "" ? 0n : decodePosition("c1", id, after);
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

/** Waits for new events, the heartbeat's time, the watcher leaving or the feed closing. */
const waitForMore = (
  id: DeploymentId,
  afterSeq: bigint,
  idleMs: number | undefined,
  signal: AbortSignal,
) =>
  Effect.flatMap(DeploymentEventFeed, (feed) =>
    Effect.raceAll([
      feed.waitForEvents(id, afterSeq).pipe(
        Effect.as("events" as const),
        Effect.catchTag("EventFeedClosed", () => Effect.succeed("closed" as const)),
      ),
      ...(idleMs === undefined
        ? []
        : [Effect.sleep(Math.max(0, idleMs)).pipe(Effect.as("idle" as const))]),
      aborted(signal).pipe(Effect.as("aborted" as const)),
    ]),
  );

/**
 * The deployment's events after the request's cursor, then live, until its terminal status
 * event (included), the signal aborting, or the event feed closing (`onClosed` is thrown).
 * The request is checked before the first item: a malformed id or cursor is a ValidationError,
 * another workspace's or an unknown deployment is NotFound (rejected through `run`).
 */
export async function* watchDeploymentEvents(
  run: WorkspaceRunner,
  request: WatchRequest,
  options: WatchLoopOptions,
): AsyncGenerator<WatchItem, void, undefined> {
  const fields = options.fields ?? { deploymentId: "deploymentId", cursor: "after_cursor" };
  const pageSize = options.pageSize ?? WATCH_PAGE_SIZE;
  const { heartbeatMs, signal } = options;
  const start = await run((workspaceId) => open(workspaceId, request, fields));
  const { id } = start;
  const kinds = request.excludeLogs ? { kinds: NO_LOGS } : {};
  let cursor = start.afterSeq;
  // What a heartbeat carries: the cursor of the last event yielded (on a resumed watch that
  // yielded nothing yet, the cursor it resumed from: the last event the watcher has).
  let lastCursor = request.afterCursor ?? "";
  let lastSentAt = Date.now();
  let woken = false;
  while (!signal.aborted) {
    const page = await run(() =>
      Effect.flatMap(EventLog, (log) =>
        log.list(id, { afterSeq: cursor, limit: pageSize, ...kinds }),
      ),
    );
    for (const event of page) {
      cursor = event.seq;
      lastCursor = encodeCursor(id, event.seq);
      yield { _tag: "Event", event, cursor: lastCursor };
      lastSentAt = Date.now();
      if (event.body._tag === "Status" && isTerminal(event.body.status)) return;
    }
    if (page.length === pageSize) continue;
    // Terminal when the watch opened: every event up to the terminal one had committed, and
    // the watcher has now had everything after its cursor.
    if (start.terminal) return;
    // Woken for nothing (an event this watch skips, or the deployment is gone): still there?
    if (woken && page.length === 0) await run((workspaceId) => requireDeployment(workspaceId, id));
    const idleMs = heartbeatMs === undefined ? undefined : heartbeatMs - (Date.now() - lastSentAt);
    const outcome = await run(() => waitForMore(id, cursor, idleMs, signal));
    woken = outcome === "events";
    if (outcome === "aborted") return;
    if (outcome === "closed") throw options.onClosed();
    if (outcome === "idle") {
      yield { _tag: "Heartbeat", cursor: lastCursor, at: Date.now() };
      lastSentAt = Date.now();
    }
  }
}
