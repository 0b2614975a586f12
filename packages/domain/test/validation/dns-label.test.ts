import { describe, expect, it } from "@effect/vitest";
import { DNS_LABEL_MAX_LENGTH, isDnsLabel, Slug } from "../../src/validation/dns-label.ts";
import { decodeOk, decodeViolations } from "../helpers.ts";

const CHARACTERS = (value: string) =>
  `must contain only lowercase letters, digits and '-', and start and end with a letter or digit (got "${value}")`;

describe("Slug", () => {
  it.each(["a", "0", "production", "my-app", "a1-b2-c3", "123", "x".repeat(63)])(
    "accepts %s",
    (slug) => {
      expect(decodeOk(Slug, slug)).toBe(slug);
    },
  );

  it("rejects an empty slug", () => {
    expect(decodeViolations(Slug, "")).toEqual([
      { field: "request", message: "must not be empty" },
    ]);
  });

  it("rejects 64 characters, naming the limit and the length", () => {
    expect(DNS_LABEL_MAX_LENGTH).toBe(63);
    expect(decodeViolations(Slug, "x".repeat(64))).toEqual([
      { field: "request", message: "must be at most 63 characters (got 64)" },
    ]);
  });

  it.each(["Production", "my_app", "my.app", "-app", "app-", "-", "my app", "ünï", "app\n"])(
    "rejects %s for its characters",
    (slug) => {
      expect(decodeViolations(Slug, slug)).toEqual([
        { field: "request", message: CHARACTERS(slug) },
      ]);
    },
  );

  it.each(["a--b", "xn--abc", "a---b"])("rejects %s for its '--'", (slug) => {
    expect(decodeViolations(Slug, slug)).toEqual([
      {
        field: "request",
        message: 'must not contain "--" (reserved as the separator in generated hostnames)',
      },
    ]);
  });

  it("rejects a non-string", () => {
    expect(decodeViolations(Slug, 42)).toEqual([
      { field: "request", message: "Expected string, actual 42" },
    ]);
  });
});

describe("isDnsLabel", () => {
  it.each([
    ["a", true],
    ["a-b", true],
    ["a--b", true],
    ["x".repeat(63), true],
    ["x".repeat(64), false],
    ["", false],
    ["-a", false],
    ["a-", false],
    ["A", false],
    ["a_b", false],
    ["a.b", false],
  ])("%s → %s", (value, expected) => {
    expect(isDnsLabel(value)).toBe(expected);
  });
});
