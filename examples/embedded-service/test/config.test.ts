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
});
