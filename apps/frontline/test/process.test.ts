/**
 * `node src/main.ts` as a real process: configuration errors, two
 * node:cluster workers sharing the port, the primary's aggregated metrics,
 * and SIGTERM. No feed is wired in main.ts yet, so the process answers 503
 * "frontline is starting".
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { request, until } from "./support.ts";

const MAIN = path.join(import.meta.dirname, "../src/main.ts");
const TOKEN = "internal-token-0123456789";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  let stderr = "";
  const collect = (buffer: { text: string }) => (chunk: Buffer) => {
    buffer.text += chunk.toString();
    const parts = buffer.text.split("\n");
    buffer.text = parts.pop() ?? "";
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        stderr += `${part}\n`;
      }
    }
  };
  child.stdout?.on("data", collect({ text: "" }));
  child.stderr?.on("data", collect({ text: "" }));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, lines, exited, stderr: () => stderr };
}

describe("main.ts", () => {
  it("exits with status 2 and names every bad variable", async () => {
    const proc = start({ FERRY_FRONTLINE_PORT: "nope" });
    expect(await proc.exited).toBe(2);
    const line = proc.lines.find((l) => l.message === "invalid configuration");
    expect(line?.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^FERRY_FRONTLINE_PORT: /),
        expect.stringMatching(/^FERRY_INTERNAL_TOKEN: required/),
      ]),
    );
    expect(line?.problems).toHaveLength(2);
  });

  it("runs two workers on one port, serves their summed metrics, and stops on SIGTERM", async () => {
    const proc = start({
      FERRY_INTERNAL_TOKEN: TOKEN,
      FERRY_FRONTLINE_PORT: "0",
      FERRY_FRONTLINE_METRICS_PORT: "0",
      FERRY_FRONTLINE_WORKERS: "2",
      FERRY_FRONTLINE_ACCESS_LOG: "off",
    });
    await until(
      () =>
        proc.lines.filter((l) => String(l.message).startsWith("frontline listening on")).length ===
          2 && proc.lines.some((l) => l.message === "frontline primary started"),
      20_000,
    );
    const listening = proc.lines.filter((l) => String(l.message).startsWith("frontline listening"));
    const urls = new Set(listening.map((l) => l.url));
    expect(urls.size).toBe(1); // both workers share the port
    const port = Number(new URL(String(listening[0]?.url)).port);
    const metricsUrl = String(
      proc.lines.find((l) => l.message === "frontline primary started")?.metrics,
    );

    for (let i = 0; i < 6; i++) {
      const reply = await request(port, "app.ferry.test");
      expect(reply.status).toBe(503);
      expect(reply.body).toContain("frontline is starting");
    }
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('frontline_errors_total{reason="starting"} 6');
    expect(text).toContain("frontline_route_table_ready 0");

    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });
});
