/**
 * The gateway's HTTP server: every request is routed by its Host header
 * through the route table and forwarded to an instance (exchange.ts);
 * upgrades (WebSocket) are tunnelled (tunnel.ts).
 *
 * Errors frontline answers itself: 400 (no valid Host), 404 (no deployment
 * serves the hostname), 503 (no routes yet, or no instance), 502 (no instance
 * reachable), 504 (no answer in time). See error-pages.ts.
 *
 * The request path is kept lean: one Exchange object per request, no
 * closures, no `req.headers` (rawHeaders are read once), map lookups only.
 *
 * close(): stop accepting, ask keep-alive clients to close (idle connections
 * now, busy ones after their response), let requests and tunnels in flight
 * finish for up to `shutdownGraceMs`, then cut what is left and close the
 * upstream pools.
 */
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { AccessLog } from "./access-log.ts";
import type { ProxyContext } from "./context.ts";
import { Exchange, FrontlineResponse, responseClosed } from "./exchange.ts";
import { rawHost } from "./headers.ts";
import { normalizeHost } from "./hostname.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { Pools } from "./pools.ts";
import { type RouteTable, routeFor } from "./route-table.ts";
import { handleUpgrade } from "./tunnel.ts";

export interface FrontlineOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  readonly table: RouteTable;
  readonly log: Logger;
  /** Wait this long for an instance's response headers (then 504). Default 30000. */
  readonly upstreamTimeoutMs?: number;
  /** Wait this long for a TCP connection to an instance. Default min(5000, upstreamTimeoutMs). */
  readonly connectTimeoutMs?: number;
  /** close() lets requests in flight run this long. Default 10000. */
  readonly shutdownGraceMs?: number;
  /** Undefined: no access log. */
  readonly accessLog?: AccessLog | undefined;
  /** Undefined: no metrics. */
  readonly metrics?: Metrics | undefined;
}

export interface Frontline {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Requests whose response has not finished, and open tunnels. */
  readonly inFlight: () => number;
  /** Graceful; idempotent. */
  close(): Promise<void>;
}

/** Longer than the 60 s idle timeout of common load balancers in front, so that they close first. */
const CLIENT_KEEP_ALIVE_MS = 65_000;

export async function startFrontline(options: FrontlineOptions): Promise<Frontline> {
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 30_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? Math.min(5_000, upstreamTimeoutMs);
  const table = options.table;
  const ctx: ProxyContext = {
    table,
    pools: new Pools(table, { upstreamTimeoutMs, connectTimeoutMs }),
    metrics: options.metrics,
    accessLog: options.accessLog,
    log: options.log,
    upstreamTimeoutMs,
    connectTimeoutMs,
    closing: false,
    inFlight: 0,
    tunnels: new Set(),
    onIdle: undefined,
  };

  const unsubscribe = table.subscribe({
    upstreamDown: (upstream, hostname) =>
      options.log.warn("upstream unreachable: skipped for a while", {
        upstream: upstream.address,
        region: upstream.region,
        host: hostname,
        skipMs: table.unhealthyMs,
      }),
  });

  const server = http.createServer<typeof IncomingMessage, typeof FrontlineResponse>(
    { ServerResponse: FrontlineResponse, keepAliveTimeout: CLIENT_KEEP_ALIVE_MS },
    (req, res) => onRequest(ctx, req, res),
  );
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) =>
    handleUpgrade(ctx, req, socket, head, randomUUID()),
  );
  // A client that sends garbage gets its connection closed; nothing to log per occurrence.
  server.on("clientError", (_error, socket: Socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      ctx.closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(grace);
          ctx.onIdle = undefined;
          resolve();
        };
        const grace = setTimeout(() => {
          options.log.warn("shutdown grace period over: closing the connections still busy", {
            requests: ctx.inFlight,
            tunnels: ctx.tunnels.size,
          });
          done();
        }, options.shutdownGraceMs ?? 10_000);
        ctx.onIdle = () => {
          // Connections whose last response just finished are idle now.
          server.closeIdleConnections();
          if (ctx.inFlight === 0 && ctx.tunnels.size === 0) done();
        };
        ctx.onIdle();
      });
      server.closeAllConnections();
      for (const socket of ctx.tunnels) socket.destroy();
      await ctx.pools.closeAll(true);
      unsubscribe();
      await stopped;
    })();
    return closed;
  };

  return {
    host,
    port,
    url,
    inFlight: () => ctx.inFlight + ctx.tunnels.size,
    close,
  };
}

const SLASH = 47;

/**
 * `GET http://host/path HTTP/1.1` (absolute-form, RFC 9112 section 3.2.2): the target's
 * authority, not the Host header, names the host; the instance gets the origin-form path.
 */
function absoluteForm(exchange: Exchange, url: string): void {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    exchange.rawHost = ""; // answered 400
    return;
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    exchange.rawHost = "";
    return;
  }
  exchange.rawHost = target.host;
  exchange.path = `${target.pathname}${target.search}`;
}

function onRequest(ctx: ProxyContext, req: IncomingMessage, res: FrontlineResponse): void {
  const requestId = randomUUID();
  const exchange = new Exchange(ctx, req, res, requestId);
  res.exchange = exchange;
  ctx.inFlight++;
  res.on("close", responseClosed);
  exchange.rawHost = rawHost(req.rawHeaders);
  const url = req.url ?? "/";
  exchange.path = url;
  if (url.charCodeAt(0) !== SLASH && url !== "*") absoluteForm(exchange, url);

  const host = normalizeHost(exchange.rawHost);
  exchange.host = host;
  const route = routeFor(ctx.table, host);
  if (typeof route === "string") {
    exchange.fail(route);
    return;
  }
  exchange.route = route;
  if (ctx.metrics !== undefined) exchange.stats = ctx.metrics.route(host);
  const upstream = ctx.table.pick(route);
  if (upstream === undefined) exchange.fail("no_upstream");
  else exchange.send(upstream);
}
