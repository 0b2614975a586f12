/**
 * runFrontline (what main.ts runs in each process): the feed hook, the
 * metrics listener, and graceful shutdown with in-flight requests.
 */
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { AccessSink } from "../src/access-log.ts";
import { type RunConfig, runFrontline } from "../src/frontline.ts";
import { memoryLogger } from "../src/log.ts";
import { entry, request, sleep, startUpstream, until } from "./support.ts";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

const config = (overrides: Partial<RunConfig> = {}): RunConfig => ({
  host: "127.0.0.1",
  port: 0,
  preferredRegion: undefined,
  upstreamTimeoutMs: 5_000,
  unhealthyMs: 5_000,
  metrics: { host: "127.0.0.1", port: 0 },
  accessLog: true,
  shutdownGraceMs: 5_000,
  logLevel: "info",
  ...overrides,
});

const memorySink = (): AccessSink & { lines: string[] } => {
  const lines: string[] = [];
  return {
    lines,
    write: (chunk) => {
      lines.push(chunk);
      return true;
    },
    once: () => undefined,
  };
};

describe("runFrontline", () => {
  it("serves 503 until the feed's first snapshot, then routes; closes the feed on close", async () => {
    const app = await startUpstream("app");
    cleanup.push(app.close);
    let feedClosed = false;
    let feedTable: import("../src/route-table.ts").RouteTable | undefined;
    const sink = memorySink();
    const running = await runFrontline(config(), {
      log: memoryLogger(),
      accessLogSink: sink,
      attachFeed: async (table) => {
        feedTable = table;
        return {
          close: async () => {
            feedClosed = true;
          },
        };
      },
    });
    expect((await request(running.proxy.port, "app.ferry.test")).status).toBe(503);
    feedTable?.replaceAll([entry("app.ferry.test", [app.address])]);
    expect((await request(running.proxy.port, "app.ferry.test")).body).toBe("app");

    const metricsUrl = running.metricsUrl;
    if (metricsUrl === undefined) throw new Error("no metrics listener");
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('frontline_requests_total{host="app.ferry.test",class="2xx"} 1');
    expect(text).toContain('frontline_errors_total{reason="starting"} 1');
    // Node's process metrics come with prom-client.
    expect(text).toContain("process_cpu_user_seconds_total");

    await running.close();
    expect(feedClosed).toBe(true);
    // The access log was flushed on close.
    expect(sink.lines.join("").trim().split("\n")).toHaveLength(2);
    await expect(fetch(metricsUrl)).rejects.toThrow();
  });

  it("lets requests in flight finish on close, and accepts no new connections", async () => {
    let release: (() => void) | undefined;
    const slow = await startUpstream("slow", (_req, res) => {
      release = () => res.end("finished");
    });
    cleanup.push(slow.close);
    const running = await runFrontline(config({ metrics: undefined }), {
      log: memoryLogger(),
      accessLogSink: memorySink(),
      attachFeed: async (table) => {
        table.replaceAll([entry("app.ferry.test", [slow.address])]);
        return { close: async () => {} };
      },
    });
    const port = running.proxy.port;
    const inFlight = request(port, "app.ferry.test");
    await until(() => release !== undefined);
    const closing = running.close();
    await sleep(50);
    // New connections are refused while the old request is still being served.
    await expect(request(port, "app.ferry.test")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    let closed = false;
    closing.then(() => {
      closed = true;
    });
    await sleep(50);
    expect(closed).toBe(false);
    release?.();
    const reply = await inFlight;
    expect(reply.status).toBe(200);
    expect(reply.body).toBe("finished");
    // Keep-alive clients are told to go away.
    expect(reply.headers.connection).toBe("close");
    await closing;
  });

  it("cuts what still runs when the grace period ends", async () => {
    const hanging = await startUpstream("hang", () => {});
    cleanup.push(hanging.close);
    const running = await runFrontline(config({ metrics: undefined, shutdownGraceMs: 200 }), {
      log: memoryLogger(),
      accessLogSink: memorySink(),
      attachFeed: async (table) => {
        table.replaceAll([entry("app.ferry.test", [hanging.address])]);
        return { close: async () => {} };
      },
    });
    const outcome = new Promise<string>((resolve) => {
      http
        .get(
          {
            host: "127.0.0.1",
            port: running.proxy.port,
            headers: { host: "app.ferry.test" },
            agent: false,
          },
          (res) => resolve(`status ${res.statusCode}`),
        )
        .on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    });
    await until(() => hanging.hits() === 1);
    const started = Date.now();
    await running.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await outcome).toBe("ECONNRESET");
  });

  it("fails to start, releasing the port, when the feed cannot be attached", async () => {
    await expect(
      runFrontline(config({ metrics: undefined, port: 0 }), {
        log: memoryLogger(),
        attachFeed: async () => {
          throw new Error("ctrl unreachable");
        },
      }),
    ).rejects.toThrow("ctrl unreachable");
  });
});
