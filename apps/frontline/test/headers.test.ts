/**
 * Headers at the proxy boundary, as seen on the wire by the instance and by
 * the client: X-Forwarded-*, X-Request-Id, hop-by-hop headers dropped in both
 * directions; and keep-alive connections on both sides.
 */
import http, { type IncomingHttpHeaders } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import {
  entry,
  type Harness,
  request,
  startHarness,
  startRawUpstream,
  startUpstream,
  type TestUpstream,
} from "./support.ts";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function setup(): Promise<{ h: Harness; u: TestUpstream }> {
  const u = await startUpstream("u");
  cleanup.push(u.close);
  const h = await startHarness({ routes: [entry("app.ferry.test", [u.address])] });
  cleanup.push(h.close);
  return { h, u };
}

const seenBy = (u: TestUpstream, index = -1): IncomingHttpHeaders => {
  const headers = u.requests.at(index)?.headers;
  if (headers === undefined) throw new Error("the upstream saw no request");
  return headers;
};

describe("forwarded headers", () => {
  it("sets X-Forwarded-For/Proto/Host and keeps the client's Host", async () => {
    const { h, u } = await setup();
    await request(h.port, "App.Ferry.Test:8443");
    const headers = seenBy(u);
    expect(headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(headers["x-forwarded-proto"]).toBe("http");
    expect(headers["x-forwarded-host"]).toBe("App.Ferry.Test:8443");
    expect(headers.host).toBe("App.Ferry.Test:8443");
  });

  it("appends to an existing X-Forwarded-For and overrides the other X-Forwarded-* headers", async () => {
    const { h, u } = await setup();
    await request(h.port, "app.ferry.test", {
      headers: {
        "x-forwarded-for": "203.0.113.7, 198.51.100.2",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "evil.example",
      },
    });
    const headers = seenBy(u);
    expect(headers["x-forwarded-for"]).toBe("203.0.113.7, 198.51.100.2, 127.0.0.1");
    expect(headers["x-forwarded-proto"]).toBe("http");
    expect(headers["x-forwarded-host"]).toBe("app.ferry.test");
  });

  it("gives every request a new X-Request-Id, sent upstream and returned to the client", async () => {
    const { h, u } = await setup();
    const one = await request(h.port, "app.ferry.test", { headers: { "x-request-id": "spoofed" } });
    const two = await request(h.port, "app.ferry.test");
    const id1 = one.headers["x-request-id"] as string;
    const id2 = two.headers["x-request-id"] as string;
    expect(id1).toMatch(UUID);
    expect(id2).toMatch(UUID);
    expect(id1).not.toBe(id2);
    expect(seenBy(u, 0)["x-request-id"]).toBe(id1);
    expect(seenBy(u, 1)["x-request-id"]).toBe(id2);
    expect(h.access().map((l) => l.requestId)).toEqual([id1, id2]);
  });
});

describe("hop-by-hop headers", () => {
  it("drops them from the request, including the headers Connection names", async () => {
    const { h, u } = await setup();
    await request(h.port, "app.ferry.test", {
      method: "POST",
      body: "x",
      headers: {
        connection: "keep-alive, X-Private",
        "x-private": "secret",
        "keep-alive": "timeout=5",
        "proxy-authorization": "Basic Zm9vOmJhcg==",
        "proxy-connection": "keep-alive",
        te: "trailers",
        trailer: "X-Checksum",
        upgrade: "h2c",
        "x-normal": "kept",
      },
    });
    const headers = seenBy(u);
    for (const name of [
      "x-private",
      "keep-alive",
      "proxy-authorization",
      "proxy-connection",
      "te",
      "trailer",
      "upgrade",
    ])
      expect(headers[name], name).toBeUndefined();
    // undici sets its own Connection for its pooled connection; the client's is never forwarded.
    expect(headers.connection ?? "keep-alive").toBe("keep-alive");
    expect(headers["x-normal"]).toBe("kept");
    expect(u.requests.at(-1)?.method).toBe("POST");
  });

  it("drops them from the response, keeping repeated end-to-end headers", async () => {
    const raw = await startRawUpstream((socket) => {
      socket.once("data", () => {
        socket.write(
          "HTTP/1.1 201 Created\r\n" +
            "Connection: X-Secret\r\n" +
            "X-Secret: do-not-leak\r\n" +
            "Keep-Alive: timeout=5\r\n" +
            "Proxy-Authenticate: Basic\r\n" +
            "Upgrade: foo\r\n" +
            "Set-Cookie: a=1\r\n" +
            "Set-Cookie: b=2\r\n" +
            "X-Kept: yes\r\n" +
            "Transfer-Encoding: chunked\r\n\r\n" +
            "5\r\nhello\r\n0\r\n\r\n",
        );
      });
    });
    cleanup.push(raw.close);
    const h = await startHarness({ routes: [entry("app.ferry.test", [raw.address])] });
    cleanup.push(h.close);
    const reply = await request(h.port, "app.ferry.test");
    expect(reply.status).toBe(201);
    expect(reply.body).toBe("hello");
    expect(reply.headers["x-secret"]).toBeUndefined();
    expect(reply.headers["proxy-authenticate"]).toBeUndefined();
    expect(reply.headers.upgrade).toBeUndefined();
    // Connection and Keep-Alive that the client sees are frontline's own, for its connection.
    expect(reply.headers["keep-alive"]).not.toBe("timeout=5");
    expect(reply.headers.connection).not.toMatch(/x-secret/i);
    expect(reply.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(reply.headers["x-kept"]).toBe("yes");
  });
});

describe("keep-alive", () => {
  it("reuses the client's connection and the connection to the instance", async () => {
    const { h, u } = await setup();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const reused: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(
          { host: "127.0.0.1", port: h.port, headers: { host: "app.ferry.test" }, agent },
          (res) => {
            res.resume();
            res.on("end", () => resolve());
          },
        );
        req.on("socket", () => {});
        req.on("error", reject);
        req.on("finish", () => reused.push(req.reusedSocket));
      });
    }
    agent.destroy();
    expect(reused).toEqual([false, true, true, true, true]);
    expect(u.hits()).toBe(5);
    expect(u.connections()).toBe(1);
  });
});
