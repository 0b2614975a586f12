/**
 * Instances that fail: refuse connections, hang, reset, die mid-response;
 * and clients that leave. Each answer is checked on the wire, and error
 * pages never carry an instance address.
 */
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import {
  deadAddress,
  entry,
  type Harness,
  request,
  startHarness,
  startRawUpstream,
  startUpstream,
  type TestUpstream,
  until,
} from "./support.ts";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function upstream(
  name: string,
  handler?: Parameters<typeof startUpstream>[1],
): Promise<TestUpstream> {
  const u = await startUpstream(name, handler);
  cleanup.push(u.close);
  return u;
}

async function harness(options: Parameters<typeof startHarness>[0]): Promise<Harness> {
  const h = await startHarness(options);
  cleanup.push(h.close);
  return h;
}

describe("upstream failures", () => {
  it("answers 504 when the instance does not send its headers in time", async () => {
    const hanging = await upstream("hang", () => {
      /* never answers */
    });
    const h = await harness({
      upstreamTimeoutMs: 300,
      routes: [entry("app.ferry.test", [hanging.address])],
    });
    const started = Date.now();
    const reply = await request(h.port, "app.ferry.test");
    expect(reply.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(reply.body).toContain("did not answer in time");
    expect(reply.body).not.toContain(hanging.address);
    expect(h.access().at(-1)).toMatchObject({ status: 504, reason: "upstream_timeout" });
  });

  it("answers 502 when the only instance refuses the connection", async () => {
    const dead = await deadAddress();
    const h = await harness({ routes: [entry("app.ferry.test", [dead])] });
    const reply = await request(h.port, "app.ferry.test");
    expect(reply.status).toBe(502);
    expect(reply.body).toContain("accepted the connection");
    expect(reply.body).not.toContain(dead);
    expect(reply.body).not.toContain("ECONNREFUSED");
  });

  it("retries a refused connection once on another instance (GET and POST with a body)", async () => {
    const dead = await deadAddress();
    const live = await upstream("live", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => res.end(`live:${req.method}:${Buffer.concat(chunks).toString()}`));
    });
    const h = await harness({ routes: [entry("app.ferry.test", [dead, live.address])] });
    expect((await request(h.port, "app.ferry.test")).body).toBe("live:GET:");
    // The dead one is marked down now; bring it back into the rotation to test the POST retry.
    const route = h.table.resolve("app.ferry.test");
    for (const u of route?.all ?? []) u.downUntil = 0;
    if (route !== undefined) route.next = 0;
    const post = await request(h.port, "app.ferry.test", {
      method: "POST",
      body: "payload-123",
      headers: { "content-type": "text/plain" },
    });
    expect(post.status).toBe(200);
    expect(post.body).toBe("live:POST:payload-123");
    expect(h.metrics.retries).toBe(2);
    expect(h.access().at(-1)).toMatchObject({ status: 200, retried: true });
  });

  it("does not retry when the connection broke after the request was sent", async () => {
    // Reads the request, then resets the connection without answering.
    const resetter = await startRawUpstream((socket) => {
      socket.once("data", () => socket.resetAndDestroy());
    });
    cleanup.push(resetter.close);
    const live = await upstream("live");
    const h = await harness({
      routes: [entry("app.ferry.test", [resetter.address, live.address])],
    });
    const reply = await request(h.port, "app.ferry.test", { method: "POST", body: "once" });
    expect(reply.status).toBe(502);
    expect(reply.body).not.toContain(resetter.address);
    expect(live.hits()).toBe(0);
    // A reset before the response counts as a failed connection: the instance is skipped now.
    expect(h.table.unhealthyCount()).toBe(1);
    expect((await request(h.port, "app.ferry.test")).body).toBe("live");
  });

  it("cuts the client's connection when the instance dies mid-response", async () => {
    const dying = await startRawUpstream((socket) => {
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
        setTimeout(() => socket.destroy(), 50);
      });
    });
    cleanup.push(dying.close);
    const h = await harness({ routes: [entry("app.ferry.test", [dying.address])] });
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get(
        { host: "127.0.0.1", port: h.port, headers: { host: "app.ferry.test" }, agent: false },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => {
            body += c.toString();
          });
          res.on("end", () => resolve(`complete:${body}`));
          res.on("error", () => resolve(`cut:${body}`));
          res.on("aborted", () => resolve(`cut:${body}`));
        },
      );
      req.on("error", () => resolve("cut"));
    });
    expect(outcome).toBe("cut:partial");
    await until(() => h.access().length === 1);
    expect(h.access()[0]).toMatchObject({ status: 200, reason: "upstream_error", bytesOut: 7 });
  });

  it("aborts the upstream request when the client leaves", async () => {
    let upstreamSawClose = false;
    const slow = await upstream("slow", (req) => {
      req.socket.on("close", () => {
        upstreamSawClose = true;
      });
    });
    const h = await harness({ routes: [entry("app.ferry.test", [slow.address])] });
    const req = http.get({
      host: "127.0.0.1",
      port: h.port,
      headers: { host: "app.ferry.test" },
      agent: false,
    });
    req.on("error", () => {});
    await until(() => slow.hits() === 1);
    req.destroy();
    await until(() => upstreamSawClose);
    await until(() => h.access().length === 1);
    expect(h.access()[0]).toMatchObject({ status: 499, reason: "client_closed" });
    expect(h.frontline.inFlight()).toBe(0);
  });
});
