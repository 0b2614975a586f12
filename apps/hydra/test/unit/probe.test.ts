/** The HTTP health probe against a real local server. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeHttp } from "../../src/deploy/probe.ts";

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((request, response) => {
    switch (request.url) {
      case "/ok":
        response.end("fine");
        return;
      case "/moved":
        response.writeHead(302, { location: "/elsewhere" }).end();
        return;
      case "/slow":
        setTimeout(() => response.end("late"), 1_000);
        return;
      default:
        response.writeHead(502).end("bad gateway");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("probeHttp", () => {
  it("2xx and 3xx are healthy (redirects are not followed)", async () => {
    expect(await probeHttp("127.0.0.1", port, "/ok", 2_000)).toStrictEqual({
      healthy: true,
      answer: "200",
    });
    expect(await probeHttp("127.0.0.1", port, "/moved", 2_000)).toStrictEqual({
      healthy: true,
      answer: "302",
    });
  });

  it("another status is the last answer", async () => {
    expect(await probeHttp("127.0.0.1", port, "/broken", 2_000)).toStrictEqual({
      healthy: false,
      answer: "502",
    });
  });

  it("no answer is described: refused, too slow, nothing published", async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, "127.0.0.1", () => {
        const free = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(free));
      });
    });
    expect(await probeHttp("127.0.0.1", closed, "/", 2_000)).toStrictEqual({
      healthy: false,
      answer: "connection refused",
    });
    expect(await probeHttp("127.0.0.1", port, "/slow", 200)).toStrictEqual({
      healthy: false,
      answer: "no answer within 0.2 s",
    });
    expect(await probeHttp("127.0.0.1", 0, "/", 200)).toStrictEqual({
      healthy: false,
      answer: "no published port",
    });
  });
});
