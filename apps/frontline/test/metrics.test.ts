/**
 * The metrics listener, scraped over HTTP after real requests: per-hostname
 * counters and latency histogram, error counters by reason, and series that
 * leave with their hostname.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startMetricsServer } from "../src/metrics-server.ts";
import { deadAddress, entry, request, startHarness, startUpstream } from "./support.ts";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function scrape(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    text: await response.text(),
  };
}

/** The value of one series, or undefined when it is absent. */
const value = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("metrics", () => {
  it("counts requests per hostname and status class, errors by reason, and latency", async () => {
    const app = await startUpstream("app");
    cleanup.push(app.close);
    const dead = await deadAddress();
    const h = await startHarness({
      routes: [
        entry("app.ferry.test", [app.address]),
        entry("dead.ferry.test", [dead]),
        entry("empty.ferry.test", []),
      ],
    });
    cleanup.push(h.close);
    const server = await startMetricsServer({
      host: "127.0.0.1",
      port: 0,
      render: () => h.metrics.text(),
      contentType: h.metrics.contentType,
    });
    cleanup.push(server.close);

    await request(h.port, "app.ferry.test");
    await request(h.port, "app.ferry.test", { path: "/x" });
    await request(h.port, "nope.ferry.test");
    await request(h.port, "dead.ferry.test");
    await request(h.port, "empty.ferry.test");
    await request(h.port, "bad host");

    const { status, type, text } = await scrape(server.url);
    expect(status).toBe(200);
    expect(type).toContain("text/plain");
    expect(value(text, 'frontline_requests_total{host="app.ferry.test",class="2xx"}')).toBe(2);
    expect(value(text, 'frontline_requests_total{host="dead.ferry.test",class="5xx"}')).toBe(1);
    expect(value(text, 'frontline_requests_total{host="empty.ferry.test",class="5xx"}')).toBe(1);
    expect(value(text, 'frontline_errors_total{reason="unknown_host"}')).toBe(1);
    expect(value(text, 'frontline_errors_total{reason="bad_host"}')).toBe(1);
    expect(
      value(text, 'frontline_errors_total{host="dead.ferry.test",reason="upstream_unreachable"}'),
    ).toBe(1);
    expect(
      value(text, 'frontline_errors_total{host="empty.ferry.test",reason="no_upstream"}'),
    ).toBe(1);
    expect(value(text, 'frontline_request_duration_seconds_count{host="app.ferry.test"}')).toBe(2);
    expect(
      value(text, 'frontline_request_duration_seconds_bucket{host="app.ferry.test",le="+Inf"}'),
    ).toBe(2);
    expect(value(text, "frontline_routes")).toBe(3);
    expect(value(text, "frontline_route_table_ready")).toBe(1);
    expect(value(text, "frontline_upstreams_unhealthy")).toBe(1);
    // Unknown hostnames never become label values: the Host header is the client's to choose.
    expect(text).not.toContain("nope.ferry.test");
    expect(text).toContain("# TYPE frontline_request_duration_seconds histogram");

    expect((await fetch(server.url.replace("/metrics", "/other"))).status).toBe(404);
  });

  it("drops a hostname's series when the hostname leaves the table", async () => {
    const app = await startUpstream("app");
    cleanup.push(app.close);
    const h = await startHarness({
      routes: [entry("gone.ferry.test", [app.address]), entry("stays.ferry.test", [app.address])],
    });
    cleanup.push(h.close);
    await request(h.port, "gone.ferry.test");
    await request(h.port, "stays.ferry.test");
    expect(await h.metrics.text()).toContain('host="gone.ferry.test"');
    h.table.remove("gone.ferry.test");
    let text = await h.metrics.text();
    expect(text).not.toContain('host="gone.ferry.test"');
    expect(text).toContain('host="stays.ferry.test"');
    h.table.replaceAll([entry("other.ferry.test", [app.address])]);
    text = await h.metrics.text();
    expect(text).not.toContain('host="stays.ferry.test"');
  });
});
