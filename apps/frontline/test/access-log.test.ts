/**
 * The access log: the shape of a line for real requests, and the batching
 * that keeps one write syscall per batch instead of one per request.
 */
import { afterEach, describe, expect, it } from "vitest";
import { AccessLog, type AccessRecord, type AccessSink } from "../src/access-log.ts";
import { entry, request, sleep, startHarness, startUpstream } from "./support.ts";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

const record = (i: number): AccessRecord => ({
  requestId: `req-${i}`,
  method: "GET",
  host: "app.ferry.test",
  url: `/r/${i}`,
  status: 200,
  durationMs: 1.23456,
  bytesOut: 10,
  deploymentId: "dep_1",
  region: "local-1",
  upstream: "127.0.0.1:1",
  reason: undefined,
  retried: false,
});

describe("access log lines", () => {
  it("writes one JSON line per request with the routing outcome, without the query string", async () => {
    const app = await startUpstream("app");
    cleanup.push(app.close);
    const h = await startHarness({
      routes: [entry("app.ferry.test", [{ address: app.address, region: "eu-1" }], "dep_42")],
    });
    cleanup.push(h.close);
    const ok = await request(h.port, "App.Ferry.Test:8000", {
      method: "POST",
      path: "/orders/7?token=secret",
      body: "x",
    });
    await request(h.port, "unknown.ferry.test", { path: "/?q=1" });

    const [routed, unknown] = h.access();
    expect(routed).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      type: "access",
      requestId: ok.headers["x-request-id"],
      method: "POST",
      host: "app.ferry.test",
      path: "/orders/7",
      status: 200,
      durationMs: expect.any(Number),
      bytesOut: 3,
      deploymentId: "dep_42",
      region: "eu-1",
      upstream: app.address,
    });
    expect(JSON.stringify(routed)).not.toContain("secret");
    expect(unknown).toMatchObject({
      host: "unknown.ferry.test",
      path: "/",
      status: 404,
      reason: "unknown_host",
    });
    expect(unknown?.deploymentId).toBeUndefined();
  });
});

describe("batching", () => {
  it("writes lines in batches: on a timer, or once a batch is full", async () => {
    const writes: string[] = [];
    const sink: AccessSink = {
      write: (chunk) => {
        writes.push(chunk);
        return true;
      },
      once: () => undefined,
    };
    const log = new AccessLog({ sink, flushIntervalMs: 20, batchBytes: 4096 });
    for (let i = 0; i < 5; i++) log.write(record(i));
    expect(writes).toHaveLength(0);
    await sleep(60);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.split("\n").filter(Boolean)).toHaveLength(5);

    for (let i = 0; i < 200; i++) log.write(record(i));
    // About 230 bytes a line: a 4 KiB batch goes out every ~18 lines, without waiting.
    expect(writes.length).toBeGreaterThan(5);
    expect(writes.length).toBeLessThan(20);
    await log.close();
    expect(writes.join("").split("\n").filter(Boolean)).toHaveLength(205);
  });

  it("drops (and counts) lines when the sink stops draining, instead of growing without bound", async () => {
    let drain: (() => void) | undefined;
    let written = 0;
    const sink: AccessSink = {
      write: (chunk) => {
        written += chunk.length;
        return false;
      },
      once: (_event, listener) => {
        drain = listener;
      },
    };
    const log = new AccessLog({ sink, batchBytes: 1024, maxPendingBytes: 8 * 1024 });
    for (let i = 0; i < 200; i++) log.write(record(i));
    expect(log.dropped).toBeGreaterThan(100);
    const before = written;
    drain?.();
    expect(written).toBeGreaterThan(before);
  });
});
