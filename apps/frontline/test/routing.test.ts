/**
 * Routing by Host header through real sockets: matching rules, frontline's
 * own answers (400, 404, 503), live route changes, round-robin, the
 * preferred region, and passive health.
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  deadAddress,
  entry,
  type Harness,
  request,
  startHarness,
  startUpstream,
  type TestUpstream,
} from "./support.ts";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function upstream(name: string): Promise<TestUpstream> {
  const u = await startUpstream(name);
  cleanup.push(u.close);
  return u;
}

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(options);
  cleanup.push(h.close);
  return h;
}

describe("host routing", () => {
  it("routes by hostname, ignoring case, port and a trailing dot", async () => {
    const a = await upstream("a");
    const b = await upstream("b");
    const h = await harness({
      routes: [entry("app.ferry.test", [a.address]), entry("other.ferry.test", [b.address])],
    });
    for (const host of [
      "app.ferry.test",
      "APP.Ferry.Test",
      "app.ferry.test:8000",
      "app.ferry.test.",
    ])
      expect((await request(h.port, host)).body, host).toBe("a");
    expect((await request(h.port, "other.ferry.test:80")).body).toBe("b");
    expect(a.hits()).toBe(4);
    expect(b.hits()).toBe(1);
  });

  it("keeps the path and query string", async () => {
    const a = await upstream("a");
    const h = await harness({ routes: [entry("app.ferry.test", [a.address])] });
    await request(h.port, "app.ferry.test", { path: "/some/path?x=1&y=%20" });
    expect(a.requests[0]?.url).toBe("/some/path?x=1&y=%20");
  });

  it("routes an absolute-form request by its target, sending the origin-form path", async () => {
    const a = await upstream("a");
    const b = await upstream("b");
    const h = await harness({
      routes: [entry("app.ferry.test", [a.address]), entry("other.ferry.test", [b.address])],
    });
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(h.port, "127.0.0.1", () =>
        socket.write(
          "GET http://app.ferry.test/abs?x=1 HTTP/1.1\r\nHost: other.ferry.test\r\nConnection: close\r\n\r\n",
        ),
      );
      let text = "";
      socket.on("data", (c: Buffer) => {
        text += c.toString();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    // Chunked by frontline (the instance's own framing is hop-by-hop): one chunk, "a".
    expect(reply).toContain("\r\n\r\n1\r\na\r\n0\r\n\r\n");
    expect(a.requests[0]?.url).toBe("/abs?x=1");
    expect(a.requests[0]?.headers.host).toBe("app.ferry.test");
    expect(b.hits()).toBe(0);
  });

  it("relays HEAD responses without a body", async () => {
    const a = await upstream("a-body");
    const h = await harness({ routes: [entry("app.ferry.test", [a.address])] });
    const reply = await request(h.port, "app.ferry.test", { method: "HEAD" });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe("");
    expect(a.requests[0]?.method).toBe("HEAD");
    // And a GET on the same route still works (no framing left over).
    expect((await request(h.port, "app.ferry.test")).body).toBe("a-body");
  });

  it("answers 404 for an unknown hostname, without any instance address", async () => {
    const a = await upstream("a");
    const h = await harness({ routes: [entry("app.ferry.test", [a.address])] });
    const reply = await request(h.port, "nope.ferry.test");
    expect(reply.status).toBe(404);
    expect(reply.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(reply.body).toContain("No deployment serves the hostname nope.ferry.test");
    expect(reply.body).not.toContain(a.address);
    expect(reply.body).not.toContain("127.0.0.1");
    expect(reply.body).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect(reply.body).toContain(reply.headers["x-request-id"] as string);
  });

  it("answers 400 without a Host header or with one that is no hostname", async () => {
    const h = await harness({ routes: [] });
    const none = await request(h.port, "", { noHost: true, headers: {} });
    // Node's own parser refuses an HTTP/1.1 request without Host before frontline sees it.
    expect(none.status).toBe(400);
    for (const host of ["bad host", "a..b", "x.test:port", "-"])
      expect((await request(h.port, host)).status, host).toBe(400);
  });

  it("answers 503 'frontline is starting' before the first snapshot", async () => {
    const a = await upstream("a");
    const h = await harness(); // no routes: not ready
    const reply = await request(h.port, "app.ferry.test");
    expect(reply.status).toBe(503);
    expect(reply.body).toContain("frontline is starting");
    expect(reply.headers["retry-after"]).toBe("1");
    h.table.replaceAll([entry("app.ferry.test", [a.address])]);
    expect((await request(h.port, "app.ferry.test")).body).toBe("a");
  });

  it("answers 503 for a deployment with no instance", async () => {
    const h = await harness({ routes: [entry("app.ferry.test", [])] });
    const reply = await request(h.port, "app.ferry.test");
    expect(reply.status).toBe(503);
    expect(reply.body).toContain("has no running instance");
  });

  it("applies upsert and remove to the next request, without a restart", async () => {
    const a = await upstream("a");
    const b = await upstream("b");
    const h = await harness({ routes: [entry("app.ferry.test", [a.address])] });
    expect((await request(h.port, "app.ferry.test")).body).toBe("a");
    h.table.upsert(entry("app.ferry.test", [b.address], "dep_2"));
    expect((await request(h.port, "app.ferry.test")).body).toBe("b");
    h.table.upsert(entry("new.ferry.test", [a.address]));
    expect((await request(h.port, "new.ferry.test")).body).toBe("a");
    expect(h.table.remove("APP.ferry.test")).toBe(true);
    expect((await request(h.port, "app.ferry.test")).status).toBe(404);
    h.table.replaceAll([entry("only.ferry.test", [b.address])]);
    expect((await request(h.port, "new.ferry.test")).status).toBe(404);
    expect((await request(h.port, "only.ferry.test")).body).toBe("b");
  });
});

describe("upstream choice", () => {
  it("spreads requests round-robin over the instances", async () => {
    const ups = [await upstream("a"), await upstream("b"), await upstream("c")];
    const h = await harness({
      routes: [
        entry(
          "app.ferry.test",
          ups.map((u) => u.address),
        ),
      ],
    });
    const bodies: string[] = [];
    for (let i = 0; i < 9; i++) bodies.push((await request(h.port, "app.ferry.test")).body);
    expect(bodies).toEqual(["a", "b", "c", "a", "b", "c", "a", "b", "c"]);
  });

  it("prefers the configured region while any instance there is healthy", async () => {
    const near1 = await upstream("near1");
    const near2 = await upstream("near2");
    const far = await upstream("far");
    const h = await harness({
      preferredRegion: "eu-1",
      routes: [
        entry("app.ferry.test", [
          { address: far.address, region: "us-1" },
          { address: near1.address, region: "eu-1" },
          { address: near2.address, region: "eu-1" },
        ]),
      ],
    });
    for (let i = 0; i < 6; i++) await request(h.port, "app.ferry.test");
    expect([near1.hits(), near2.hits(), far.hits()]).toEqual([3, 3, 0]);

    // The preferred region's instances gone: the next request finds both refusing (one retry
    // only: 502) and marks them down; from then on the other region takes the traffic.
    await near1.close();
    await near2.close();
    expect((await request(h.port, "app.ferry.test")).status).toBe(502);
    expect(h.table.unhealthyCount()).toBe(2);
    for (let i = 0; i < 3; i++) expect((await request(h.port, "app.ferry.test")).body).toBe("far");
  });

  it("skips an instance whose connection failed, for the unhealthy period", async () => {
    let now = 1_000_000;
    const live = await upstream("live");
    const dead = await deadAddress();
    const h = await harness({
      unhealthyMs: 5_000,
      now: () => now,
      routes: [entry("app.ferry.test", [dead, live.address])],
    });
    // First request: round-robin starts at the dead one; the retry reaches the live one.
    const first = await request(h.port, "app.ferry.test");
    expect(first.body).toBe("live");
    expect(h.table.unhealthyCount()).toBe(1);
    // While marked down the dead one is not tried at all: no retries.
    const retriesBefore = h.metrics.retries;
    for (let i = 0; i < 4; i++) expect((await request(h.port, "app.ferry.test")).body).toBe("live");
    expect(h.metrics.retries).toBe(retriesBefore);
    // After the period it is tried again (and fails over again).
    now += 5_001;
    expect(h.table.unhealthyCount()).toBe(0);
    for (let i = 0; i < 2; i++) expect((await request(h.port, "app.ferry.test")).body).toBe("live");
    expect(h.metrics.retries).toBe(retriesBefore + 1);
    expect(
      h.log.lines().some((l) => l.message === "upstream unreachable: skipped for a while"),
    ).toBe(true);
  });

  it("still tries instances when all are marked down", async () => {
    const flaky = await upstream("flaky");
    const h = await harness({
      routes: [entry("app.ferry.test", [flaky.address])],
    });
    // Mark it down as a failed connection would.
    const route = h.table.resolve("app.ferry.test");
    const only = route?.all[0];
    if (route === undefined || only === undefined) throw new Error("route missing");
    h.table.markDown(only, "app.ferry.test");
    expect(h.table.unhealthyCount()).toBe(1);
    expect((await request(h.port, "app.ferry.test")).body).toBe("flaky");
  });
});
