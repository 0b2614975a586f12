/**
 * WatchDeployment: a deployment's events (status, step, log), in order, from a cursor, then
 * live, until the terminal status event, with a heartbeat after `heartbeatMs` of silence.
 *
 * The loop (reads in pages, waits on the DeploymentEventFeed, cursors) is the shared one of
 * @ferry/deployment-service (watch.ts), which the embedded library's `watch` runs too; this
 * file makes it a Connect stream: requests in, protobuf messages out, errors mapped by the RPC
 * runner, and a feed closed by shutdown ends the stream with Unavailable.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import * as pb from "@ferry/api";
import {
  HEARTBEAT_MS,
  WATCH_PAGE_SIZE,
  type WatchItem,
  watchDeploymentEvents,
} from "@ferry/deployment-service";
import type { LogLine } from "@ferry/domain";
import { int64, toPbStep } from "./convert.ts";
import type { Rpc } from "./rpc.ts";

export {
  decodePosition,
  encodeCursor,
  encodePosition,
  HEARTBEAT_MS,
  WATCH_PAGE_SIZE,
} from "@ferry/deployment-service";

export interface WatchOptions {
  /** Silence after which a heartbeat is sent (default HEARTBEAT_MS). */
  readonly heartbeatMs?: number;
  /** Events read from the database per query (default WATCH_PAGE_SIZE). */
  readonly pageSize?: number;
}

export const toPbLogLine = (line: LogLine): MessageInitShape<typeof pb.LogLineSchema> => ({
  time: int64(line.at),
  step: line.step,
  region: line.region ?? "",
  stream: pb.LogStream[line.stream],
  text: line.text,
});

type WatchResponse = MessageInitShape<typeof pb.WatchDeploymentResponseSchema>;

const toResponse = (item: WatchItem): WatchResponse => {
  if (item._tag === "Heartbeat")
    return { cursor: item.cursor, time: int64(item.at), event: { case: "heartbeat", value: {} } };
  const { event, cursor } = item;
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

/** The WatchDeployment handler. */
export const watchDeploymentRpc = (
  rpc: Rpc,
  options: WatchOptions = {},
): ServiceImpl<typeof pb.DeploymentService>["watchDeployment"] =>
  async function* watch(request: pb.WatchDeploymentRequest, context: HandlerContext) {
    const items = watchDeploymentEvents(
      (useCase) => rpc.run(context, useCase),
      {
        deploymentId: request.deploymentId,
        afterCursor: request.afterCursor,
        excludeLogs: request.excludeLogs,
      },
      {
        signal: context.signal,
        heartbeatMs: options.heartbeatMs ?? HEARTBEAT_MS,
        pageSize: options.pageSize ?? WATCH_PAGE_SIZE,
        fields: { deploymentId: "deploymentId", cursor: "after_cursor" },
        onClosed: () =>
          new ConnectError(
            "the server is shutting down: reconnect with the cursor of the last event",
            Code.Unavailable,
          ),
      },
    );
    for await (const item of items) yield toResponse(item);
  };
