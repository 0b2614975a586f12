import { describe, expect, it } from "@effect/vitest";
import type { Schema } from "effect";
import {
  ContainerPort,
  HealthCheckPath,
  HealthCheckTimeoutSeconds,
  MAX_HEALTH_CHECK_TIMEOUT_SECONDS,
  MAX_REPLICAS_PER_REGION,
  ProjectSettingsPatch,
  ReplicasPerRegion,
} from "../../src/validation/project-settings.ts";
import { decodeOk, decodeViolations } from "../helpers.ts";

const bounds: ReadonlyArray<
  readonly [name: string, schema: Schema.Schema<number>, min: number, max: number]
> = [
  ["ContainerPort", ContainerPort, 1, 65535],
  ["ReplicasPerRegion", ReplicasPerRegion, 1, 20],
  ["HealthCheckTimeoutSeconds", HealthCheckTimeoutSeconds, 1, 3600],
];

describe.each(bounds)("%s", (_name, schema, min, max) => {
  const outside = (n: number) => [
    { field: "request", message: `must be an integer from ${min} to ${max} (got ${n})` },
  ];

  it(`accepts ${min} and ${max}`, () => {
    expect(decodeOk(schema, min)).toBe(min);
    expect(decodeOk(schema, max)).toBe(max);
  });

  it(`rejects ${min - 1} and ${max + 1}, naming the range`, () => {
    expect(decodeViolations(schema, min - 1)).toEqual(outside(min - 1));
    expect(decodeViolations(schema, max + 1)).toEqual(outside(max + 1));
  });

  it("rejects non-integers", () => {
    expect(decodeViolations(schema, min + 0.5)).toEqual(outside(min + 0.5));
    expect(decodeViolations(schema, Number.NaN)).toEqual(outside(Number.NaN));
  });

  it("rejects a numeric string", () => {
    expect(decodeViolations(schema, String(min))).toEqual([
      { field: "request", message: `Expected number, actual "${min}"` },
    ]);
  });
});

describe("limits", () => {
  it("are the documented ones", () => {
    expect(MAX_REPLICAS_PER_REGION).toBe(20);
    expect(MAX_HEALTH_CHECK_TIMEOUT_SECONDS).toBe(3600);
  });
});

describe("HealthCheckPath", () => {
  it.each(["/", "/healthz", "/api/v1/health?full=1", `/${"a".repeat(1023)}`])(
    "accepts %s",
    (path) => {
      expect(decodeOk(HealthCheckPath, path)).toBe(path);
    },
  );

  it.each(["healthz", "", "http://x/healthz"])("rejects %s for not starting with '/'", (path) => {
    expect(decodeViolations(HealthCheckPath, path)).toEqual([
      { field: "request", message: `must start with '/' (got "${path}")` },
    ]);
  });

  it("rejects 1025 characters", () => {
    expect(decodeViolations(HealthCheckPath, `/${"a".repeat(1024)}`)).toEqual([
      { field: "request", message: "must be at most 1024 characters" },
    ]);
  });

  it.each(["/a b", "/a\tb", "/a\nb", "/a\u0000", "/a\u007f", "/#frag"])(
    "rejects %j for whitespace, control characters or '#'",
    (path) => {
      expect(decodeViolations(HealthCheckPath, path)).toEqual([
        { field: "request", message: "must not contain whitespace, control characters or '#'" },
      ]);
    },
  );
});

describe("ProjectSettingsPatch", () => {
  it("accepts an empty patch and keeps only the given fields", () => {
    expect(decodeOk(ProjectSettingsPatch, {})).toEqual({});
    expect(decodeOk(ProjectSettingsPatch, { containerPort: 3000 })).toEqual({
      containerPort: 3000,
    });
  });

  it("reports every bad field at once, in snake_case, without noise", () => {
    expect(
      decodeViolations(ProjectSettingsPatch, {
        containerPort: 0,
        healthCheckPath: "health",
        healthCheckTimeoutSeconds: 3601,
        replicasPerRegion: 21,
      }),
    ).toEqual([
      { field: "container_port", message: "must be an integer from 1 to 65535 (got 0)" },
      { field: "health_check_path", message: `must start with '/' (got "health")` },
      {
        field: "health_check_timeout_seconds",
        message: "must be an integer from 1 to 3600 (got 3601)",
      },
      { field: "replicas_per_region", message: "must be an integer from 1 to 20 (got 21)" },
    ]);
  });
});
