/**
 * What build-from-source.test.ts reads of a build as a client: the watch stream, the build log
 * pages, and what the engine keeps of an image (history, exported layers), to look for what
 * must not be there. Uploads are in @ferry/stack/testing.
 */
import http from "node:http";
import {
  DeploymentStatus,
  DeploymentStepStatus,
  type DeploymentStatus as Status,
  type WatchDeploymentResponse,
} from "@ferry/api";
import { parseEngineUrl } from "@ferry/containers";
import type { Clients } from "../../src/testing.ts";

/** An event of the watch stream as one line: what a user reads off it. */
export const describeEvent = (response: WatchDeploymentResponse): string => {
  const event = response.event;
  switch (event.case) {
    case "status":
      return `status ${DeploymentStatus[event.value.status]}${event.value.errorMessage === "" ? "" : `: ${event.value.errorMessage}`}`;
    case "step":
      return `step ${event.value.step?.name} ${DeploymentStepStatus[event.value.step?.status ?? 0]}`;
    case "log":
      return `log ${event.value.step} ${event.value.text}`;
    case "heartbeat":
      return "heartbeat";
    default:
      return "unknown";
  }
};

export interface WatchOptions {
  readonly afterCursor?: string;
  /** Leaves the stream (the client disconnects) right after the event this returns true for. */
  readonly until?: (response: WatchDeploymentResponse) => boolean;
}

/**
 * Watches the deployment: every message until the stream ends (at the terminal status) or
 * `until` says to leave. Heartbeats are kept: the caller decides what they mean.
 */
export const watch = async (
  clients: Clients,
  deploymentId: string,
  options: WatchOptions = {},
): Promise<Array<WatchDeploymentResponse>> => {
  const received: Array<WatchDeploymentResponse> = [];
  const leave = new AbortController();
  const stream = clients.deployments.watchDeployment(
    { deploymentId, afterCursor: options.afterCursor ?? "" },
    { signal: leave.signal, timeoutMs: 240_000 },
  );
  for await (const response of stream) {
    received.push(response);
    if (options.until?.(response)) {
      leave.abort();
      break;
    }
  }
  return received;
};

export const isStatus = (response: WatchDeploymentResponse, status: Status) =>
  response.event.case === "status" && response.event.value.status === status;

/** Every line of the deployment's build log through GetBuildLogs, page by page. */
export const buildLogs = async (clients: Clients, deploymentId: string) => {
  const lines: Array<string> = [];
  let pageToken = "";
  const responses: Array<unknown> = [];
  for (;;) {
    const page = await clients.deployments.getBuildLogs({ deploymentId, pageToken, pageSize: 50 });
    responses.push(page);
    lines.push(...page.lines.map((line) => line.text));
    // Empty only once the build ended and every line was returned.
    if (page.nextPageToken === "") return { lines, complete: page.complete, responses };
    pageToken = page.nextPageToken;
  }
};

/** `GET path` on the container engine's API (a unix socket or TCP): the status and raw body. */
export const engineGet = (engineUrl: string, path: string) =>
  new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const endpoint = parseEngineUrl(engineUrl);
    const request = http.get(
      endpoint.socketPath === undefined
        ? `${endpoint.origin}${path}`
        : { socketPath: endpoint.socketPath, path, headers: { host: "localhost" } },
      (response) => {
        const parts: Array<Buffer> = [];
        response.on("data", (part: Buffer) => parts.push(part));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts) }),
        );
        response.on("error", reject);
      },
    );
    request.once("error", reject);
  });
