/**
 * The route table on its own (no sockets): hostname normalization, snapshot
 * and change semantics, the upstream choice, and the events the proxy and
 * the metrics rely on to drop pools and series.
 */
import { describe, expect, it } from "vitest";
import { normalizeHost } from "../src/hostname.ts";
import { InvalidRouteError, type RouteEntry, RouteTable } from "../src/route-table.ts";

const entry = (
  hostname: string,
  upstreams: ReadonlyArray<[address: string, region: string]>,
): RouteEntry => ({
  hostname,
  deploymentId: "dep_1",
  projectId: "prj_1",
  upstreams: upstreams.map(([address, region]) => ({ address, region })),
});

describe("normalizeHost", () => {
  it("lowercases and strips the port and one trailing dot", () => {
    expect(normalizeHost("App.Example.COM")).toBe("app.example.com");
    expect(normalizeHost("app.example.com:8443")).toBe("app.example.com");
    expect(normalizeHost("app.example.com.")).toBe("app.example.com");
    expect(normalizeHost("app.example.com.:80")).toBe("app.example.com");
    expect(normalizeHost("[::1]:8000")).toBe("[::1]");
  });

  it("gives '' for what cannot be a route key", () => {
    for (const raw of [undefined, "", "host:", "host:abc", "host:123456", "[::1", "[::1]x"])
      expect(normalizeHost(raw), String(raw)).toBe("");
  });
});

describe("RouteTable", () => {
  it("is not ready until the first snapshot, then counts versions", () => {
    const table = new RouteTable();
    expect(table.ready).toBe(false);
    const v0 = table.version;
    table.replaceAll([]);
    expect(table.ready).toBe(true);
    expect(table.version).toBe(v0 + 1);
    table.upsert(entry("a.test", [["10.0.0.1:80", "r1"]]));
    expect(table.version).toBe(v0 + 2);
    expect(table.size).toBe(1);
  });

  it("looks entries up by any form of the hostname", () => {
    const table = new RouteTable();
    table.replaceAll([entry("App.Test.", [["10.0.0.1:80", "r1"]])]);
    expect(table.lookup("app.test")?.deploymentId).toBe("dep_1");
    expect(table.lookup("APP.TEST:8000")?.deploymentId).toBe("dep_1");
    expect(table.lookup("other.test")).toBeUndefined();
    expect([...table.entries()].map((e) => e.hostname)).toEqual(["App.Test."]);
  });

  it("applies the valid part of a snapshot and reports the rest", () => {
    const table = new RouteTable();
    const result = table.replaceAll([
      entry("good.test", [["10.0.0.1:80", "r1"]]),
      entry("bad host", [["10.0.0.1:80", "r1"]]),
      entry("badaddr.test", [["10.0.0.1", "r1"]]),
      entry("dup.test", [["10.0.0.2:80", "r1"]]),
      entry("DUP.test", [["10.0.0.3:80", "r1"]]),
    ]);
    expect(result.applied).toBe(2);
    expect(result.rejected.map((r) => r.hostname)).toEqual([
      "bad host",
      "badaddr.test",
      "dup.test",
    ]);
    expect(table.lookup("dup.test")?.upstreams[0]?.address).toBe("10.0.0.3:80");
  });

  it("throws on a malformed upsert", () => {
    const table = new RouteTable();
    expect(() => table.upsert(entry("ok.test", [["nope", "r1"]]))).toThrow(InvalidRouteError);
    expect(() => table.upsert({ ...entry("ok.test", []), deploymentId: "" })).toThrow(
      /deploymentId/,
    );
  });

  it("round-robins, prefers a region, skips unhealthy upstreams, and falls back to all", () => {
    let now = 1_000;
    const table = new RouteTable({ preferredRegion: "eu", unhealthyMs: 100, now: () => now });
    table.replaceAll([
      entry("a.test", [
        ["10.0.0.1:80", "us"],
        ["10.0.0.2:80", "eu"],
        ["10.0.0.3:80", "eu"],
      ]),
    ]);
    const route = table.resolve("a.test");
    if (route === undefined) throw new Error("no route");
    const picks = () => Array.from({ length: 4 }, () => table.pick(route)?.address);
    expect(picks()).toEqual(["10.0.0.2:80", "10.0.0.3:80", "10.0.0.2:80", "10.0.0.3:80"]);

    const [us, eu2, eu3] = route.all;
    if (us === undefined || eu2 === undefined || eu3 === undefined) throw new Error("upstreams");
    table.markDown(eu2, "a.test");
    expect(new Set(picks())).toEqual(new Set(["10.0.0.3:80"]));
    table.markDown(eu3, "a.test");
    expect(new Set(picks())).toEqual(new Set(["10.0.0.1:80"]));
    table.markDown(us, "a.test");
    // All down: every upstream is tried again rather than a certain 503.
    expect(new Set(picks())).toEqual(new Set(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]));
    // `exclude` (the upstream that just failed) is never returned.
    for (let i = 0; i < 6; i++) expect(table.pick(route, eu2)).not.toBe(eu2);
    now += 101;
    expect(table.unhealthyCount()).toBe(0);
    expect(new Set(picks())).toEqual(new Set(["10.0.0.2:80", "10.0.0.3:80"]));
  });

  it("has no pick for a route without upstreams, or one whose only upstream is excluded", () => {
    const table = new RouteTable();
    table.replaceAll([entry("none.test", []), entry("one.test", [["10.0.0.1:80", "r"]])]);
    const none = table.resolve("none.test");
    const one = table.resolve("one.test");
    if (none === undefined || one === undefined) throw new Error("routes");
    expect(table.pick(none)).toBeUndefined();
    expect(table.pick(one, one.all[0])).toBeUndefined();
  });

  it("shares an upstream (and its health) between routes, and releases it with the last one", () => {
    const table = new RouteTable();
    const released: string[] = [];
    const removed: string[] = [];
    table.subscribe({
      upstreamReleased: (u) => released.push(u.address),
      hostRemoved: (h) => removed.push(h),
    });
    table.replaceAll([
      entry("a.test", [
        ["10.0.0.1:80", "r"],
        ["10.0.0.2:80", "r"],
      ]),
      entry("b.test", [["10.0.0.1:80", "r"]]),
    ]);
    const a = table.resolve("a.test");
    const b = table.resolve("b.test");
    expect(a?.all[0]).toBe(b?.all[0]);

    table.remove("a.test");
    expect(removed).toEqual(["a.test"]);
    expect(released).toEqual(["10.0.0.2:80"]);
    // A new snapshot keeps an address it still lists (same Upstream, same health state).
    const shared = b?.all[0];
    table.replaceAll([entry("c.test", [["10.0.0.1:80", "r"]])]);
    expect(table.resolve("c.test")?.all[0]).toBe(shared);
    expect(removed).toEqual(["a.test", "b.test"]);
    expect(released).toEqual(["10.0.0.2:80"]);
    table.replaceAll([]);
    expect(released).toEqual(["10.0.0.2:80", "10.0.0.1:80"]);
    expect(table.remove("c.test")).toBe(false);
  });
});
