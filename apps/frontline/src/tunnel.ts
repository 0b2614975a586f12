/**
 * Upgraded connections (WebSocket): Node hands the client's socket over on
 * the server's `upgrade` event. The handshake is routed like any request,
 * written to the chosen instance over a plain TCP connection (with the
 * X-Forwarded-* headers, keeping Upgrade and Connection), and the instance's
 * response head is relayed with X-Request-Id added; from then on bytes are
 * piped both ways, and an error on either side destroys both.
 *
 * Same failure rules as HTTP requests: a refused connection marks the
 * instance down and the handshake goes, once, to another instance; no
 * instance → 502; no response head in time → 504.
 */
import type { IncomingMessage } from "node:http";
import net, { type Socket } from "node:net";
import type { ProxyContext } from "./context.ts";
import { ERROR_PAGES, type ErrorReason, errorBody } from "./error-pages.ts";
import { clientAddress, rawHost, requestHeaders } from "./headers.ts";
import { normalizeHost } from "./hostname.ts";
import type { RouteStats } from "./metrics.ts";
import { type Route, routeFor, type Upstream } from "./route-table.ts";

/** A response head longer than this is not HTTP we relay. */
const MAX_RESPONSE_HEAD = 64 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");

export function handleUpgrade(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  requestId: string,
): void {
  new Tunnel(ctx, req, socket, head, requestId).begin();
}

class Tunnel {
  private readonly start = performance.now();
  private host = "";
  private readonly rawHost: string;
  private route: Route | undefined;
  private stats: RouteStats | undefined;
  private upstream: Upstream | undefined;
  private upstreamSocket: Socket | undefined;
  private retried = false;
  private status = 0;
  private bytesOut = 0;
  private reason: string | undefined;
  private logged = false;

  private readonly ctx: ProxyContext;
  private readonly req: IncomingMessage;
  private readonly client: Socket;
  private readonly head: Buffer;
  private readonly requestId: string;

  constructor(
    ctx: ProxyContext,
    req: IncomingMessage,
    client: Socket,
    head: Buffer,
    requestId: string,
  ) {
    this.ctx = ctx;
    this.req = req;
    this.client = client;
    this.head = head;
    this.requestId = requestId;
    this.rawHost = rawHost(req.rawHeaders);
    ctx.tunnels.add(client);
    // Without an error listener a reset by the client would crash the process.
    client.on("error", () => this.destroy());
    client.once("close", () => {
      ctx.tunnels.delete(client);
      this.upstreamSocket?.destroy();
      this.finish();
      ctx.onIdle?.();
    });
  }

  begin(): void {
    const ctx = this.ctx;
    this.host = normalizeHost(this.rawHost);
    const route = ctx.closing ? "shutting_down" : routeFor(ctx.table, this.host);
    if (typeof route === "string") {
      this.reject(route);
      return;
    }
    this.route = route;
    this.stats = ctx.metrics?.route(route.hostname);
    const upstream = ctx.table.pick(route);
    if (upstream === undefined) this.reject("no_upstream");
    else this.connect(upstream);
  }

  private connect(upstream: Upstream): void {
    const ctx = this.ctx;
    this.upstream = upstream;
    const up = net.connect({ host: upstream.target.host, port: upstream.target.port });
    this.upstreamSocket = up;
    up.setNoDelay(true);
    up.setTimeout(ctx.connectTimeoutMs);
    let connected = false;
    let chunks: Buffer[] = [];
    let size = 0;

    const failConnect = (timedOut: boolean) => {
      up.destroy();
      ctx.table.markDown(upstream, this.host);
      const next = this.retried ? undefined : ctx.table.pick(this.route as Route, upstream);
      if (next !== undefined && !this.client.destroyed) {
        this.retried = true;
        if (ctx.metrics !== undefined) ctx.metrics.retries++;
        this.connect(next);
      } else this.reject(timedOut ? "upstream_timeout" : "upstream_unreachable");
    };

    const onHead = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      const buffered = chunks.length === 1 ? chunk : Buffer.concat(chunks, size);
      const end = buffered.indexOf(HEAD_END);
      if (end < 0) {
        chunks = [buffered];
        if (size > MAX_RESPONSE_HEAD) this.reject("upstream_error");
        return;
      }
      up.off("data", onHead);
      up.setTimeout(0);
      this.relay(up, buffered, end);
    };

    up.once("connect", () => {
      connected = true;
      // Now the handshake's answer must come within the upstream timeout.
      up.setTimeout(ctx.upstreamTimeoutMs);
      up.write(this.requestHead());
      if (this.head.length > 0) up.write(this.head);
    });
    up.on("data", onHead);
    up.on("timeout", () => {
      if (!connected) failConnect(true);
      else this.reject("upstream_timeout");
    });
    up.on("error", (error: NodeJS.ErrnoException) => {
      if (!connected) failConnect(false);
      else if (this.status === 0) {
        if (error.code === "ECONNRESET" || error.code === "EPIPE")
          ctx.table.markDown(upstream, this.host);
        this.reject("upstream_error");
      } else this.destroy();
    });
    up.on("close", () => {
      if (this.status === 0 && connected) this.reject("upstream_error");
      else if (this.status !== 0) this.client.end();
    });
  }

  /** Relays the instance's response head (with X-Request-Id) and the bytes after it, then pipes. */
  private relay(up: Socket, buffered: Buffer, end: number): void {
    const client = this.client;
    const statusLine = buffered.subarray(0, buffered.indexOf("\r\n")).toString("latin1");
    this.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 502);
    const head = Buffer.concat([
      buffered.subarray(0, end + 2),
      Buffer.from(`X-Request-Id: ${this.requestId}\r\n\r\n`, "latin1"),
      buffered.subarray(end + 4),
    ]);
    this.bytesOut += head.length;
    if (this.stats !== undefined)
      this.ctx.metrics?.request(this.stats, this.status, (performance.now() - this.start) / 1000);
    client.write(head);
    up.on("data", (chunk: Buffer) => {
      this.bytesOut += chunk.length;
    });
    up.pipe(client);
    if (this.status === 101) {
      client.pipe(up);
      // Idle tunnels are normal (a quiet WebSocket); dead peers are found by TCP keep-alive.
      client.setKeepAlive(true, 60_000);
      up.setKeepAlive(true, 60_000);
    } else {
      // Not upgraded: the instance answered like a plain request. Further bytes from the client
      // would bypass routing (and X-Forwarded-*), so they are dropped, and the connection closes
      // once the instance is done or idle.
      client.on("data", () => {});
      // The `timeout` listener set in connect() destroys both sides.
      up.setTimeout(this.ctx.upstreamTimeoutMs);
    }
  }

  private requestHead(): string {
    const req = this.req;
    const headers = requestHeaders(
      req.rawHeaders,
      {
        clientIp: clientAddress(req.socket.remoteAddress),
        host: this.rawHost,
        proto: "http",
        requestId: this.requestId,
      },
      undefined,
      true,
    );
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    return `${text}\r\n`;
  }

  /** frontline's own answer to the handshake; the connection then closes. */
  private reject(reason: ErrorReason): void {
    this.upstreamSocket?.destroy();
    if (this.status !== 0 || this.client.destroyed) {
      this.destroy();
      return;
    }
    this.reason = reason;
    const page = ERROR_PAGES[reason];
    this.status = page.status;
    this.ctx.metrics?.error(this.stats, reason);
    if (this.stats !== undefined)
      this.ctx.metrics?.request(this.stats, page.status, (performance.now() - this.start) / 1000);
    const body = errorBody(reason, this.route?.hostname ?? this.host, this.requestId);
    const text =
      `HTTP/1.1 ${page.status} ${page.title}\r\n` +
      "Content-Type: text/html; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Cache-Control: no-store\r\n" +
      `X-Request-Id: ${this.requestId}\r\n` +
      "Connection: close\r\n\r\n" +
      body;
    this.bytesOut += Buffer.byteLength(text);
    this.client.end(text);
  }

  private destroy(): void {
    this.upstreamSocket?.destroy();
    this.client.destroy();
  }

  private finish(): void {
    if (this.logged) return;
    this.logged = true;
    this.ctx.accessLog?.write({
      requestId: this.requestId,
      method: this.req.method,
      host: this.route !== undefined ? this.host : this.rawHost.slice(0, 255),
      url: this.req.url,
      status: this.status === 0 ? 499 : this.status,
      durationMs: performance.now() - this.start,
      bytesOut: this.bytesOut,
      deploymentId: this.route?.entry.deploymentId,
      region: this.upstream?.region,
      upstream: this.upstream?.address,
      reason: this.reason ?? (this.status === 0 ? "client_closed" : undefined),
      retried: this.retried,
      upgrade: true,
    });
  }
}
