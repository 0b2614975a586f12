/**
 * What a proxied request needs from the running server: built once by
 * startFrontline and shared by every request, so that the per-request
 * objects hold one reference instead of a dozen.
 */
import type { Socket } from "node:net";
import type { AccessLog } from "./access-log.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { Pools } from "./pools.ts";
import type { RouteTable } from "./route-table.ts";

export interface ProxyContext {
  readonly table: RouteTable;
  readonly pools: Pools;
  readonly metrics: Metrics | undefined;
  readonly accessLog: AccessLog | undefined;
  readonly log: Logger;
  readonly upstreamTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Set once close() starts: responses ask clients to close their connections. */
  closing: boolean;
  /** HTTP requests whose response has not closed. */
  inFlight: number;
  /** Client sockets of upgraded (WebSocket) connections. */
  readonly tunnels: Set<Socket>;
  /** Called when a request or tunnel ends while closing. */
  onIdle: (() => void) | undefined;
}
