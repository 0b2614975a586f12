/**
 * One proxied HTTP request: its state, and undici's dispatch handler that
 * streams the upstream's response into the client's. One object per request
 * and no closures: the handler methods live on the class, and the client's
 * response reaches its Exchange through a field (FrontlineResponse), so the
 * `close` and `drain` listeners are shared module-level functions.
 *
 * Bodies stream both ways: the client's request (an IncomingMessage) is the
 * upstream request's body, and each upstream chunk is written to the client
 * as it arrives, with backpressure (pause the upstream while the client's
 * socket is full).
 *
 * Failures, before the response has started:
 * - the connection to the instance failed (refused, reset, connect timeout)
 *   before anything was written: the instance is marked down and the request
 *   goes, once, to another instance; else 502 (504 for a connect timeout);
 * - the instance did not send its headers in time: 504;
 * - it closed or reset the connection after the request was sent: 502, not
 *   retried (it may have acted on the request), and it is marked down.
 * After the response has started, an upstream failure can only cut the
 * client's connection (the status line is gone already).
 */
import http, { type IncomingMessage } from "node:http";
import type { Dispatcher } from "undici";
import type { ProxyContext } from "./context.ts";
import { ERROR_PAGES, type ErrorReason, errorBody } from "./error-pages.ts";
import { clientAddress, requestHeaders, responseHeaders } from "./headers.ts";
import type { RouteStats } from "./metrics.ts";
import type { Route, Upstream } from "./route-table.ts";

/** A ServerResponse that knows its Exchange (set by the request handler). */
export class FrontlineResponse extends http.ServerResponse<IncomingMessage> {
  exchange: Exchange | undefined = undefined;
}

/** Connection-level failures: the instance is marked down; before sending, another one is tried. */
const CONNECTION_FAILURES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** The reason given to undici when the client leaves; one instance: no stack captured per request. */
const CLIENT_CLOSED = new Error("the client closed the connection");

/** Status of a request whose client left before the response started (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

export class Exchange implements Dispatcher.DispatchHandler {
  readonly start = performance.now();
  /** The Host header as sent (X-Forwarded-Host; the access log of an unrouted request). */
  rawHost = "";
  /** The normalized hostname. */
  host = "";
  /** The request target sent upstream (origin-form). */
  path = "/";
  route: Route | undefined = undefined;
  stats: RouteStats | undefined = undefined;
  upstream: Upstream | undefined = undefined;
  reason: ErrorReason | "client_closed" | undefined = undefined;
  retried = false;
  bytesOut = 0;
  private headers: string[] | undefined = undefined;
  private hasBody = false;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  /** The request reached a socket (undici's onRequestStart): from now on it may have been acted on. */
  private sent = false;
  private responded = false;
  /** frontline sent its own error page. */
  private answered = false;
  private ended = false;
  /** The upstream is paused until the client's socket drains. */
  private waitingDrain = false;

  private readonly ctx: ProxyContext;
  readonly req: IncomingMessage;
  readonly res: FrontlineResponse;
  readonly requestId: string;

  constructor(ctx: ProxyContext, req: IncomingMessage, res: FrontlineResponse, requestId: string) {
    this.ctx = ctx;
    this.req = req;
    this.res = res;
    this.requestId = requestId;
  }

  /** Sends the request to `upstream` (the first pick, or the retry). */
  send(upstream: Upstream): void {
    this.upstream = upstream;
    const req = this.req;
    if (this.headers === undefined) {
      this.headers = requestHeaders(
        req.rawHeaders,
        {
          clientIp: clientAddress(req.socket.remoteAddress),
          host: this.rawHost,
          proto: "http",
          requestId: this.requestId,
        },
        this,
      );
    }
    this.ctx.pools.dispatch(
      upstream,
      {
        path: this.path,
        method: req.method as string,
        headers: this.headers,
        body: this.hasBody ? req : null,
      },
      this,
    );
  }

  /** Called by requestHeaders: whether the request carries a body (Content-Length > 0 or Transfer-Encoding). */
  setHasBody(value: boolean): void {
    this.hasBody = value;
  }

  /** Answers with frontline's own error page. */
  fail(reason: ErrorReason): void {
    this.reason = reason;
    this.answered = true;
    this.ctx.metrics?.error(this.stats, reason);
    const res = this.res;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const page = ERROR_PAGES[reason];
    const body = errorBody(reason, this.route?.hostname ?? this.host, this.requestId);
    const length = Buffer.byteLength(body);
    if (this.ctx.closing) res.shouldKeepAlive = false;
    const headers: Record<string, string | number> = {
      "content-type": "text/html; charset=utf-8",
      "content-length": length,
      "cache-control": "no-store",
      "x-request-id": this.requestId,
    };
    if (page.status === 503) headers["retry-after"] = "1";
    res.writeHead(page.status, headers);
    if (this.req.method === "HEAD") res.end();
    else {
      this.bytesOut = length;
      res.end(body);
    }
  }

  // --- undici's DispatchHandler -------------------------------------------------------------

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.sent = true;
    if (this.ended) controller.abort(CLIENT_CLOSED);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: http.IncomingHttpHeaders,
  ): void {
    // 1xx informational responses: Node answers the client's `Expect: 100-continue` itself.
    if (statusCode < 200 || this.ended) return;
    this.responded = true;
    const res = this.res;
    if (this.ctx.closing) res.shouldKeepAlive = false;
    try {
      res.writeHead(statusCode, responseHeaders(headers, this.requestId));
    } catch {
      // A header Node refuses to send (invalid characters): the response cannot be relayed.
      // Answer first: the abort below calls onResponseError, which then has nothing to do.
      this.responded = false;
      this.fail("upstream_error");
      controller.abort(CLIENT_CLOSED);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytesOut += chunk.length;
    if (!this.res.write(chunk) && !this.waitingDrain) {
      this.waitingDrain = true;
      controller.pause();
      this.res.once("drain", resumeUpstream);
    }
  }

  /** The client's socket drained: let the upstream send again. */
  resumeFromDrain(): void {
    this.waitingDrain = false;
    this.controller?.resume();
  }

  onResponseEnd(): void {
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    // The client left (closed() has accounted for the request), or frontline has answered already
    // (a response it could not relay, then aborted).
    if (this.ended || this.answered) return;
    const ctx = this.ctx;
    const upstream = this.upstream as Upstream;
    const route = this.route as Route;
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (this.responded) {
      // Mid-body: the status line is gone; cutting the connection is the only way to say so.
      this.reason = code === "UND_ERR_BODY_TIMEOUT" ? "upstream_timeout" : "upstream_error";
      ctx.metrics?.error(this.stats, this.reason);
      this.res.destroy();
      return;
    }
    if (CONNECTION_FAILURES.has(code)) {
      ctx.table.markDown(upstream, route.hostname);
      if (!this.sent) {
        if (!this.retried) {
          const next = ctx.table.pick(route, upstream);
          if (next !== undefined) {
            this.retried = true;
            if (ctx.metrics !== undefined) ctx.metrics.retries++;
            this.send(next);
            return;
          }
        }
        this.fail(code === "UND_ERR_CONNECT_TIMEOUT" ? "upstream_timeout" : "upstream_unreachable");
        return;
      }
      this.fail("upstream_error");
      return;
    }
    if (code === "UND_ERR_HEADERS_TIMEOUT") {
      this.fail("upstream_timeout");
      return;
    }
    // Not HTTP, or something undici refused: worth a line in frontline's own log.
    ctx.log.warn("upstream request failed", {
      requestId: this.requestId,
      host: route.hostname,
      upstream: upstream.address,
      error: { name: error.name, message: error.message, code },
    });
    this.fail("upstream_error");
  }

  // --- the end of the client's response -----------------------------------------------------

  /** The client's response closed: finished, or the client left (then the upstream request is aborted). */
  closed(): void {
    this.ended = true;
    const ctx = this.ctx;
    const res = this.res;
    let status = res.statusCode;
    if (!res.writableFinished) {
      if (this.controller !== undefined && !this.controller.aborted)
        this.controller.abort(CLIENT_CLOSED);
      if (!res.headersSent) status = CLIENT_CLOSED_STATUS;
      this.reason ??= "client_closed";
    }
    const seconds = (performance.now() - this.start) / 1000;
    if (this.stats !== undefined) ctx.metrics?.request(this.stats, status, seconds);
    const upstream = this.upstream;
    ctx.accessLog?.write({
      requestId: this.requestId,
      method: this.req.method,
      host: this.route !== undefined ? this.host : this.rawHost.slice(0, 255),
      url: this.path,
      status,
      durationMs: seconds * 1000,
      bytesOut: this.bytesOut,
      deploymentId: this.route?.entry.deploymentId,
      region: upstream?.region,
      upstream: upstream?.address,
      reason: this.reason,
      retried: this.retried,
    });
    ctx.inFlight--;
    if (ctx.onIdle !== undefined) ctx.onIdle();
  }
}

/** `drain` listener of a client response: the upstream may send again. */
function resumeUpstream(this: FrontlineResponse): void {
  this.exchange?.resumeFromDrain();
}

/** `close` listener of a client response. */
export function responseClosed(this: FrontlineResponse): void {
  this.exchange?.closed();
}
