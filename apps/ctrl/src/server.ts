/**
 * The HTTP server: one port for Connect, gRPC and gRPC-Web, over HTTP/1.1
 * and HTTP/2 without TLS (h2c with prior knowledge). `connectNodeAdapter`
 * serves the three protocols on either HTTP version (gRPC and bidirectional
 * streams need HTTP/2).
 *
 * Why a front socket server: Node's cleartext `http2.createServer` ignores
 * `allowHTTP1` (it is honoured only with TLS, where ALPN chooses; checked on
 * Node 24.21: an HTTP/1.1 request gets an HTTP/2 SETTINGS frame back; see
 * nodejs/node#26795). So a `net.Server` accepts each connection, reads the
 * first bytes, and hands the socket (bytes put back) to an `http2` server
 * when they are the HTTP/2 client preface, else to an `http` server. Both run
 * the same handler.
 *
 * Besides the RPCs: `PUT /v1/uploads/*` (when local build storage is
 * configured) takes the uploads of its signed URLs, before and outside the
 * API-key check: the URL's signature is the credential. `GET /healthz`
 * answers 200 when the database answers, 503 otherwise; every other path is
 * 404.
 *
 * Graceful shutdown (`close()`): stop accepting connections, send HTTP/2
 * clients GOAWAY and close idle HTTP/1.1 connections, let the calls in flight
 * finish, and abort what still runs after `shutdownGraceMs`.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { isUploadPath, type UploadHandler } from "@ferry/build-storage";
import type { Log } from "./log.ts";

export const HEALTH_PATH = "/healthz";

/** The first bytes of every HTTP/2 connection (RFC 9113, section 3.4). */
const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** The longest an HTTP/1.1 request may take in all when uploads are served. */
const UPLOAD_REQUEST_TIMEOUT_MS = 3_600_000;

/** A connection that sends nothing for this long is closed before it is even classified. */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors: Interceptor[];
  /** Resolves when the service can serve (the database answers); rejects otherwise. */
  readonly health: () => Promise<void>;
  readonly log: Log;
  /** Serves `PUT /v1/uploads/*`: local build storage's upload URLs. */
  readonly uploads?: UploadHandler | undefined;
  /** How long in-flight calls may take to finish once close() is called. Default 10 s. */
  readonly shutdownGraceMs?: number;
}

export interface CtrlServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Graceful: resolves when every connection is closed. Idempotent. */
  close(): Promise<void>;
}

type NodeRequest = http2.Http2ServerRequest | IncomingMessage;
type NodeResponse = http2.Http2ServerResponse | ServerResponse;

export async function startServer(options: ServerOptions): Promise<CtrlServer> {
  const shutdown = new AbortController();
  let closing = false;

  const health = (request: NodeRequest, response: NodeResponse) => {
    const path = request.url?.split("?", 1)[0];
    const send = (status: number, body: unknown) => {
      const text = `${JSON.stringify(body)}\n`;
      (response as ServerResponse).writeHead(status, {
        "content-type": "application/json",
        "cache-control": "no-store",
      });
      (response as ServerResponse).end(request.method === "HEAD" ? "" : text);
    };
    if (path !== HEALTH_PATH || (request.method !== "GET" && request.method !== "HEAD"))
      return send(404, { error: `no such endpoint: ${request.method} ${path}` });
    if (closing) return send(503, { status: "shutting down" });
    options.health().then(
      () => send(200, { status: "ok" }),
      (error: unknown) => {
        options.log.warn("health check failed", { error });
        send(503, { status: "unavailable", reason: "the database does not answer" });
      },
    );
  };

  const handler = connectNodeAdapter({
    routes: options.routes,
    interceptors: options.interceptors,
    fallback: (request, response) => health(request, response as unknown as NodeResponse),
    // Aborted only when the grace period ends with calls still running.
    shutdownSignal: shutdown.signal,
  });

  // Connections, for the graceful close.
  const sockets = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  /** HTTP/1.1 sockets and how many calls each is serving. */
  const http1Calls = new Map<Socket, number>();
  const http2Sockets = new Set<Socket>();

  const onRequest = (request: NodeRequest, response: NodeResponse) => {
    if (request.httpVersionMajor === 1) {
      const socket = request.socket;
      http1Calls.set(socket, (http1Calls.get(socket) ?? 0) + 1);
      if (closing) response.setHeader("connection", "close");
      response.once("close", () => {
        const left = (http1Calls.get(socket) ?? 1) - 1;
        http1Calls.set(socket, left);
        if (closing && left === 0) socket.end();
      });
    }
    const uploads = options.uploads;
    if (uploads !== undefined && isUploadPath(request.url))
      return serveUpload(uploads, request, response);
    handler(request as never, response as never);
  };

  /** One log line per upload, like the RPCs' (never the query: its signature is a credential). */
  const serveUpload = (uploads: UploadHandler, request: NodeRequest, response: NodeResponse) => {
    const started = performance.now();
    const path = request.url?.split("?", 1)[0];
    // The HTTP/2 compatibility objects offer what the handler uses of the HTTP/1.1 ones.
    uploads(request as IncomingMessage, response as ServerResponse).then(
      () =>
        options.log.info("upload", {
          method: request.method,
          path,
          status: response.headersSent ? response.statusCode : "client went away",
          durationMs: Math.round(performance.now() - started),
        }),
      (error: unknown) => {
        options.log.error("upload failed", { method: request.method, path, error });
        if (!response.headersSent) (response as ServerResponse).writeHead(500);
        response.end();
      },
    );
  };

  const h2c = http2.createServer();
  h2c.on("request", onRequest);
  h2c.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (closing) session.close();
  });
  // Node ends an HTTP/1.1 request that takes more than 5 minutes in all (requestTimeout): too
  // short for a build context of hundreds of MiB over a slow uplink. An hour when uploads are
  // served; the 60 s limit on receiving the headers stays.
  const h1 = http.createServer(
    options.uploads === undefined ? {} : { requestTimeout: UPLOAD_REQUEST_TIMEOUT_MS },
    onRequest,
  );
  h1.on("clientError", (_error, socket: Socket) => socket.destroy());

  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      http1Calls.delete(socket);
      http2Sockets.delete(socket);
    });
    let head = Buffer.alloc(0);
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, () => socket.destroy());
    socket.on("error", () => socket.destroy());
    const classify = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const n = Math.min(head.length, HTTP2_PREFACE.length);
      const looksHttp2 = head.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
      if (looksHttp2 && head.length < HTTP2_PREFACE.length) return;
      socket.off("data", classify);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(head);
      if (looksHttp2) {
        http2Sockets.add(socket);
        h2c.emit("connection", socket);
      } else {
        http1Calls.set(socket, 0);
        h1.emit("connection", socket);
      }
      process.nextTick(() => socket.resume());
    };
    socket.on("data", classify);
  });

  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(options.port, options.host, () => {
      front.off("error", reject);
      resolve();
    });
  });
  const port = (front.address() as AddressInfo).port;
  const host = options.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      closing = true;
      const grace = setTimeout(() => {
        options.log.warn("shutdown grace period over; aborting the calls still running", {
          connections: sockets.size,
        });
        shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable));
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      }, options.shutdownGraceMs ?? 10_000);
      // Stops accepting; calls back once every accepted connection has closed.
      front.close(() => {
        clearTimeout(grace);
        resolve();
      });
      for (const session of sessions) session.close();
      for (const socket of sockets) {
        const calls = http1Calls.get(socket);
        // Idle HTTP/1.1 keep-alive connections end now; busy ones after their last response.
        if (calls === 0) socket.end();
        // Connections that have not sent a byte yet.
        else if (calls === undefined && !http2Sockets.has(socket)) socket.destroy();
      }
    });
    return closed;
  };

  return { host, port, url, close };
}
