/**
 * Real sockets for every test: upstream "instances" are node:http (or raw
 * TCP) servers on ephemeral ports, frontline listens on another, and clients
 * are node:http requests carrying the Host header under test.
 */
import http, { type IncomingHttpHeaders, type RequestListener } from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";
import { AccessLog, type AccessSink } from "../src/access-log.ts";
import { type Logger, memoryLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { type Frontline, type FrontlineOptions, startFrontline } from "../src/proxy.ts";
import { type RouteEntry, RouteTable, type RouteTableOptions } from "../src/route-table.ts";

export interface TestUpstream {
  /** `127.0.0.1:port`. */
  readonly address: string;
  readonly port: number;
  /** Requests served so far. */
  readonly hits: () => number;
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  /** The headers of every request, in order. */
  readonly requests: ReadonlyArray<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** A node:http upstream; by default answers `200 <name>` to everything. */
export async function startUpstream(
  name: string,
  handler?: RequestListener,
): Promise<TestUpstream> {
  let hits = 0;
  let connections = 0;
  const requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  const server = http.createServer((req, res) => {
    hits++;
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    if (handler !== undefined) return handler(req, res);
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(name);
  });
  server.on("connection", () => connections++);
  const port = await listen(server);
  return {
    address: `127.0.0.1:${port}`,
    port,
    hits: () => hits,
    connections: () => connections,
    requests,
    close: () => closeServer(server),
  };
}

/** A raw TCP upstream: `onSocket` writes whatever bytes the test needs. */
export async function startRawUpstream(
  onSocket: (socket: Socket) => void,
): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onSocket(socket);
  });
  const port = await listen(server);
  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An address where nothing listens (a port that was just free): connections are refused. */
export async function deadAddress(): Promise<string> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

export const entry = (
  hostname: string,
  upstreams: ReadonlyArray<string | { address: string; region: string }>,
  deploymentId = "dep_1",
): RouteEntry => ({
  hostname,
  deploymentId,
  projectId: "prj_1",
  upstreams: upstreams.map((u) => (typeof u === "string" ? { address: u, region: "local-1" } : u)),
});

export interface Harness {
  readonly frontline: Frontline;
  readonly table: RouteTable;
  readonly metrics: Metrics;
  readonly log: Logger & { readonly lines: () => ReadonlyArray<Record<string, unknown>> };
  /** Access log lines so far (flushed first). */
  readonly access: () => ReadonlyArray<Record<string, unknown>>;
  readonly port: number;
  close(): Promise<void>;
}

export interface HarnessOptions
  extends Omit<FrontlineOptions, "host" | "port" | "table" | "log" | "accessLog" | "metrics">,
    RouteTableOptions {
  /** Routes loaded before the first request (replaceAll); undefined: the table stays not ready. */
  readonly routes?: ReadonlyArray<RouteEntry>;
}

/** frontline on an ephemeral port, with a memory access log and its own metrics. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { routes, preferredRegion, unhealthyMs, now, ...proxyOptions } = options;
  const table = new RouteTable({
    preferredRegion,
    ...(unhealthyMs === undefined ? {} : { unhealthyMs }),
    ...(now === undefined ? {} : { now }),
  });
  if (routes !== undefined) table.replaceAll(routes);
  const metrics = new Metrics(table, { processMetrics: false });
  const lines: string[] = [];
  const sink: AccessSink = {
    write: (chunk) => {
      lines.push(chunk);
      return true;
    },
    once: () => undefined,
  };
  const accessLog = new AccessLog({ sink });
  const log = memoryLogger();
  const frontline = await startFrontline({
    host: "127.0.0.1",
    port: 0,
    table,
    log,
    accessLog,
    metrics,
    ...proxyOptions,
  });
  return {
    frontline,
    table,
    metrics,
    log,
    access: () => {
      accessLog.flush();
      return lines
        .join("")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    port: frontline.port,
    close: async () => {
      await frontline.close();
      metrics.close();
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
  readonly agent?: http.Agent | false;
  /** Send no Host header at all (HTTP/1.0 allows it; HTTP/1.1 requires it). */
  readonly noHost?: boolean;
}

/** One request to frontline with `Host: host`; resolves with the whole response. */
export function request(port: number, host: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: options.noHost ? options.headers : { host, ...options.headers },
        agent: options.agent ?? false,
        setHost: !options.noHost,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

export function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds (polling), or fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}
