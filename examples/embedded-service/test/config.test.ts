/** The example's configuration: every problem at once; the defaults point at `pnpm start`'s stack. */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ExampleConfigError, loadConfig } from "../src/config.ts";

describe("loadConfig", () => {
  it("names every missing or malformed setting", () => {
    const error = (() => {
      try {
        loadConfig({ PORT: "http" }, "/srv");
      } catch (thrown) {
        return thrown;
      }
      throw new Error("loadConfig accepted an empty environment");
    })();
    expect(error).toBeInstanceOf(ExampleConfigError);
    const lines = (error as Error).message.split("\n").slice(1);
    expect(lines.map((line) => line.trim().split(":")[0]?.replace("- ", ""))).toEqual([
      "DATABASE_URL",
      "FERRY_SECRET_KEYS",
      "PORT",
    ]);
  });

  it("defaults to the local stack's Restate, regions, workspace and build storage", () => {
    const config = loadConfig(
      { DATABASE_URL: "postgresql://127.0.0.1:5432/ferry", FERRY_SECRET_KEYS: "k1:abc" },
      "/srv",
    );
    expect(config.port).toBe(3000);
    expect(config.service).toMatchObject({
      database: "postgresql://127.0.0.1:5432/ferry",
      poolSize: 1,
      restate: { ingressUrl: "http://127.0.0.1:8080", adminUrl: "http://127.0.0.1:9070" },
      regions: ["local-1", "local-2"],
      apexDomain: "ferry.localhost",
      buildStorage: { kind: "local", dir: path.join("/srv", ".ferry/data", "build-contexts") },
      workspace: "default",
    });
  });

  const required = {
    DATABASE_URL: "postgresql://127.0.0.1:5432/ferry",
    FERRY_SECRET_KEYS: "k1:abc",
  };
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadConfig({ ...required, ...env }, "/srv");
      return [];
    } catch (error) {
      if (!(error instanceof ExampleConfigError)) throw error;
      return error.message.split("\n").slice(1);
    }
  };

  it("listens on loopback without a token; beyond loopback only with one", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"])
      expect(problemsOf({ HOST: host }), host).toEqual([]);
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com"]) {
      const [problem, ...rest] = problemsOf({ HOST: host });
      expect(rest).toEqual([]);
      expect(problem).toContain(`HOST: ${host} is reachable from other machines`);
      expect(problem).toContain("set EXAMPLE_TOKEN");
    }
    const token = "a-long-enough-token-0123456789";
    expect(problemsOf({ HOST: "0.0.0.0", EXAMPLE_TOKEN: token })).toEqual([]);
    expect(loadConfig({ ...required, HOST: "0.0.0.0", EXAMPLE_TOKEN: token }).token).toBe(token);
    expect(loadConfig(required).token).toBeUndefined();
  });

  it("refuses a token that is short enough to guess, without echoing it", () => {
    const problems = problemsOf({ EXAMPLE_TOKEN: "hunter2" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("EXAMPLE_TOKEN: must be at least 16 characters (got 7)");
    expect(problems[0]).not.toContain("hunter2");
  });
});
