/**
 * WebSockets through frontline: a `ws` echo server as the instance, a `ws`
 * client connecting to frontline with the routed Host header.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { deadAddress, entry, type Harness, listen, startHarness, until } from "./support.ts";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

interface EchoServer {
  readonly address: string;
  readonly handshakes: IncomingHttpHeaders[];
}

async function echoServer(): Promise<EchoServer> {
  const server = http.createServer((_req, res) => res.end("plain"));
  const wss = new WebSocketServer({ server });
  const handshakes: IncomingHttpHeaders[] = [];
  wss.on("connection", (socket, req: IncomingMessage) => {
    handshakes.push(req.headers);
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  const port = await listen(server);
  cleanup.push(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { address: `127.0.0.1:${port}`, handshakes };
}

async function harness(routes: Parameters<typeof startHarness>[0]): Promise<Harness> {
  const h = await startHarness(routes);
  cleanup.push(h.close);
  return h;
}

function connect(
  port: number,
  host: string,
): Promise<{ socket: WebSocket; upgradeHeaders: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/chat?room=1`, { headers: { host } });
    let upgradeHeaders: IncomingHttpHeaders = {};
    socket.on("upgrade", (res) => {
      upgradeHeaders = res.headers;
    });
    socket.on("open", () => resolve({ socket, upgradeHeaders }));
    socket.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () =>
        reject(
          Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body }),
        ),
      );
    });
    socket.on("error", reject);
  });
}

const nextMessage = (socket: WebSocket) =>
  new Promise<string>((resolve) => socket.once("message", (data) => resolve(data.toString())));

describe("WebSocket", () => {
  it("echoes messages through frontline, with forwarded headers on the handshake", async () => {
    const echo = await echoServer();
    const h = await harness({ routes: [entry("ws.ferry.test", [echo.address])] });
    const { socket, upgradeHeaders } = await connect(h.port, "WS.ferry.test");
    socket.send("hello");
    expect(await nextMessage(socket)).toBe("hello");
    socket.send("again");
    expect(await nextMessage(socket)).toBe("again");

    expect(upgradeHeaders["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const handshake = echo.handshakes[0];
    expect(handshake?.["x-forwarded-for"]).toBe("127.0.0.1");
    expect(handshake?.["x-forwarded-proto"]).toBe("http");
    expect(handshake?.["x-forwarded-host"]).toBe("WS.ferry.test");
    expect(handshake?.["x-request-id"]).toBe(upgradeHeaders["x-request-id"]);
    expect(handshake?.upgrade).toBe("websocket");

    socket.close();
    await until(() => h.access().length === 1);
    expect(h.access()[0]).toMatchObject({
      status: 101,
      upgrade: true,
      path: "/chat",
      deploymentId: "dep_1",
    });
    await until(() => h.frontline.inFlight() === 0);
  });

  it("retries the handshake on another instance when the first refuses", async () => {
    const echo = await echoServer();
    const dead = await deadAddress();
    const h = await harness({ routes: [entry("ws.ferry.test", [dead, echo.address])] });
    const { socket } = await connect(h.port, "ws.ferry.test");
    socket.send("ping");
    expect(await nextMessage(socket)).toBe("ping");
    socket.close();
    expect(h.table.unhealthyCount()).toBe(1);
  });

  it("answers 404 / 502 to a handshake frontline cannot route", async () => {
    const dead = await deadAddress();
    const h = await harness({ routes: [entry("dead.ferry.test", [dead])] });
    await expect(connect(h.port, "nope.ferry.test")).rejects.toMatchObject({ status: 404 });
    const failure = connect(h.port, "dead.ferry.test");
    await expect(failure).rejects.toMatchObject({ status: 502 });
    const body = await failure.catch((error: { body: string }) => error.body);
    expect(body).not.toContain(dead);
  });

  it("closes the client's side when the instance goes away", async () => {
    const echo = await echoServer();
    const h = await harness({ routes: [entry("ws.ferry.test", [echo.address])] });
    const { socket } = await connect(h.port, "ws.ferry.test");
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    // Tear the echo server down (terminate its side of every socket).
    await cleanup.shift()?.();
    await closed;
    await until(() => h.frontline.inFlight() === 0);
  });
});
