/**
 * The batch scheduler with an in-process executor: at most N items at once, one lane (project)
 * at a time in list order, other lanes going ahead meanwhile, failures not stopping anything.
 */
import { describe, expect, it } from "vitest";
import { schedule } from "../src/batch/schedule.ts";

interface Item {
  readonly name: string;
  readonly lane: string;
  readonly ms: number;
  readonly fails?: boolean;
}

/** Runs items with timers, recording when each starts and ends. */
const executor = () => {
  const events: Array<string> = [];
  let running = 0;
  let peak = 0;
  const run = async (item: Item) => {
    running++;
    peak = Math.max(peak, running);
    events.push(`start ${item.name}`);
    await new Promise((resolve) => setTimeout(resolve, item.ms));
    events.push(`end ${item.name}`);
    running--;
    if (item.fails === true) throw new Error(`${item.name} broke`);
    return `${item.name} ok`;
  };
  return { events, run, peak: () => peak };
};

const options = (run: (item: Item) => Promise<string>, concurrency: number) => ({
  concurrency,
  laneOf: (item: Item) => item.lane,
  run,
  onError: (item: Item, error: unknown) => `${item.name} failed: ${(error as Error).message}`,
});

describe("schedule", () => {
  it("never runs more than `concurrency` items at once, and uses all of it", async () => {
    const items = Array.from({ length: 12 }, (_, i) => ({ name: `i${i}`, lane: `p${i}`, ms: 20 }));
    const { run, peak } = executor();
    const results = await schedule(items, options(run, 3));
    expect(results).toEqual(items.map((item) => `${item.name} ok`));
    expect(peak()).toBe(3);
  });

  it("runs one lane's items one at a time in list order while other lanes go ahead", async () => {
    const items: Array<Item> = [
      { name: "web-deploy", lane: "web", ms: 60 },
      { name: "api-deploy", lane: "api", ms: 10 },
      { name: "web-promote", lane: "web", ms: 10 },
      { name: "api-promote", lane: "api", ms: 10 },
      { name: "shop", lane: "shop", ms: 10 },
    ];
    const { events, run } = executor();
    await schedule(items, options(run, 4));
    const at = (event: string) => events.indexOf(event);
    // Within a lane: the next starts only after the previous ended.
    expect(at("start web-promote")).toBeGreaterThan(at("end web-deploy"));
    expect(at("start api-promote")).toBeGreaterThan(at("end api-deploy"));
    // Across lanes: api's two items and shop finished while web's deploy still ran.
    expect(at("end api-promote")).toBeLessThan(at("end web-deploy"));
    expect(at("end shop")).toBeLessThan(at("end web-deploy"));
  });

  it("keeps going past failures and returns every result in list order", async () => {
    const items: Array<Item> = [
      { name: "a1", lane: "a", ms: 5, fails: true },
      { name: "a2", lane: "a", ms: 5 },
      { name: "b1", lane: "b", ms: 5 },
      { name: "c1", lane: "c", ms: 5, fails: true },
    ];
    const { run } = executor();
    expect(await schedule(items, options(run, 2))).toEqual([
      "a1 failed: a1 broke",
      "a2 ok",
      "b1 ok",
      "c1 failed: c1 broke",
    ]);
  });

  it("starts nothing new once aborted; the items not started get their own result", async () => {
    const interrupt = new AbortController();
    const items: Array<Item> = [
      { name: "first", lane: "x", ms: 30 },
      { name: "second", lane: "x", ms: 5 },
      { name: "other", lane: "y", ms: 5 },
    ];
    const { events, run } = executor();
    const stopping = run;
    const results = await schedule(items, {
      ...options(async (item) => {
        if (item.name === "first") setTimeout(() => interrupt.abort(), 10);
        return stopping(item);
      }, 1),
      signal: interrupt.signal,
      onNotStarted: (item: Item) => `${item.name} not started`,
    });
    expect(results).toEqual(["first ok", "second not started", "other not started"]);
    expect(events).toEqual(["start first", "end first"]);
  });

  it("refuses a concurrency below 1", () => {
    expect(() =>
      schedule(
        [],
        options(async () => "", 0),
      ),
    ).toThrow(/at least 1/);
  });
});
