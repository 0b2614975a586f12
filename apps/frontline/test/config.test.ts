import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, type Env, loadConfig } from "../src/config.ts";

const TOKEN = "internal-token-0123456789";

const problemsOf = (env: Env): ReadonlyArray<string> => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
};

describe("loadConfig", () => {
  it("has defaults for everything but the internal token", () => {
    expect(loadConfig({ FERRY_INTERNAL_TOKEN: TOKEN })).toEqual({
      host: "127.0.0.1",
      port: 8000,
      preferredRegion: undefined,
      upstreamTimeoutMs: 30_000,
      unhealthyMs: 5_000,
      metrics: undefined,
      accessLog: true,
      workers: 1,
      shutdownGraceMs: 10_000,
      ctrlUrl: "http://127.0.0.1:7070",
      internalToken: TOKEN,
      logLevel: "info",
    });
  });

  it("reads every setting from the environment", () => {
    expect(
      loadConfig({
        FERRY_FRONTLINE_HOST: "0.0.0.0",
        FERRY_FRONTLINE_PORT: "80",
        FERRY_FRONTLINE_PREFERRED_REGION: "eu-west",
        FERRY_FRONTLINE_UPSTREAM_TIMEOUT_MS: "5000",
        FERRY_FRONTLINE_UNHEALTHY_MS: "0",
        FERRY_FRONTLINE_METRICS_HOST: "10.0.0.1",
        FERRY_FRONTLINE_METRICS_PORT: "0",
        FERRY_FRONTLINE_ACCESS_LOG: "off",
        FERRY_FRONTLINE_WORKERS: "2",
        FERRY_FRONTLINE_SHUTDOWN_GRACE_MS: "2000",
        FERRY_CTRL_URL: "https://ctrl.internal:7070/",
        FERRY_INTERNAL_TOKEN: ` ${TOKEN} `,
        FERRY_LOG_LEVEL: "DEBUG",
      }),
    ).toEqual({
      host: "0.0.0.0",
      port: 80,
      preferredRegion: "eu-west",
      upstreamTimeoutMs: 5_000,
      unhealthyMs: 0,
      metrics: { host: "10.0.0.1", port: 0 },
      accessLog: false,
      workers: 2,
      shutdownGraceMs: 2_000,
      ctrlUrl: "https://ctrl.internal:7070",
      internalToken: TOKEN,
      logLevel: "debug",
    });
  });

  it("takes `auto` workers as one per core", () => {
    expect(
      loadConfig({ FERRY_INTERNAL_TOKEN: TOKEN, FERRY_FRONTLINE_WORKERS: "auto" }).workers,
    ).toBeGreaterThanOrEqual(1);
  });

  it("reports every bad value at once, each naming its variable", () => {
    const problems = problemsOf({
      FERRY_FRONTLINE_PORT: "http",
      FERRY_FRONTLINE_HOST: "a b",
      FERRY_FRONTLINE_PREFERRED_REGION: "EU West",
      FERRY_FRONTLINE_UPSTREAM_TIMEOUT_MS: "0",
      FERRY_FRONTLINE_UNHEALTHY_MS: "-1",
      FERRY_FRONTLINE_METRICS_PORT: "70000",
      FERRY_FRONTLINE_ACCESS_LOG: "maybe",
      FERRY_FRONTLINE_WORKERS: "0",
      FERRY_FRONTLINE_SHUTDOWN_GRACE_MS: "soon",
      FERRY_CTRL_URL: "ftp://ctrl",
      FERRY_LOG_LEVEL: "loud",
    });
    const variables = problems.map((p) => p.split(":")[0]);
    expect(variables).toEqual(
      expect.arrayContaining([
        "FERRY_FRONTLINE_PORT",
        "FERRY_FRONTLINE_HOST",
        "FERRY_FRONTLINE_PREFERRED_REGION",
        "FERRY_FRONTLINE_UPSTREAM_TIMEOUT_MS",
        "FERRY_FRONTLINE_UNHEALTHY_MS",
        "FERRY_FRONTLINE_METRICS_PORT",
        "FERRY_FRONTLINE_ACCESS_LOG",
        "FERRY_FRONTLINE_WORKERS",
        "FERRY_FRONTLINE_SHUTDOWN_GRACE_MS",
        "FERRY_CTRL_URL",
        "FERRY_INTERNAL_TOKEN",
        "FERRY_LOG_LEVEL",
      ]),
    );
    expect(problems).toHaveLength(12);
    expect(problems.find((p) => p.startsWith("FERRY_FRONTLINE_PORT"))).toContain('"http"');
  });

  it("requires a well-formed internal token and never echoes it", () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^FERRY_INTERNAL_TOKEN: required/)]);
    const short = problemsOf({ FERRY_INTERNAL_TOKEN: "short-secret" });
    expect(short[0]).toMatch(/^FERRY_INTERNAL_TOKEN: must be 16 to 256/);
    expect(short.join()).not.toContain("short-secret");
    const spaced = problemsOf({ FERRY_INTERNAL_TOKEN: "has spaces in the token" });
    expect(spaced.join()).not.toContain("has spaces");
  });

  it("describes the configuration without the token", () => {
    const described = describeConfig(loadConfig({ FERRY_INTERNAL_TOKEN: TOKEN }));
    expect(JSON.stringify(described)).not.toContain(TOKEN);
    expect(described.internalToken).toBe("configured");
  });
});
