import { describe, expect, it } from "@effect/vitest";
import {
  VARIABLE_KEY_MAX_BYTES,
  VARIABLE_VALUE_MAX_BYTES,
  VariableInput,
  VariableInputs,
  VariableKey,
  VariableValueText,
} from "../../src/validation/environment-variables.ts";
import { decodeOk, decodeViolations } from "../helpers.ts";

describe("VariableKey", () => {
  it.each(["A", "_", "DATABASE_URL", "lower_case", "_PRIVATE", "A1", "x".repeat(256)])(
    "accepts %s",
    (key) => {
      expect(decodeOk(VariableKey, key)).toBe(key);
    },
  );

  it("rejects an empty key", () => {
    expect(decodeViolations(VariableKey, "")).toEqual([
      { field: "request", message: "must not be empty" },
    ]);
  });

  it("rejects 257 bytes, naming the limit", () => {
    expect(VARIABLE_KEY_MAX_BYTES).toBe(256);
    expect(decodeViolations(VariableKey, "x".repeat(257))).toEqual([
      { field: "request", message: "must be at most 256 bytes" },
    ]);
  });

  it.each(["1ABC", "MY-VAR", "MY VAR", "A=B", "A.B", "É", "A\u0000"])(
    "rejects the name %s, quoting it",
    (key) => {
      expect(decodeViolations(VariableKey, key)).toEqual([
        {
          field: "request",
          message: `"${key}" is not a valid name (letters, digits and '_', not starting with a digit)`,
        },
      ]);
    },
  );
});

describe("VariableValueText", () => {
  it("accepts an empty value and any text, including newlines and '='", () => {
    for (const value of ["", "a=b", "line1\nline2", "é€🚀"]) {
      expect(decodeOk(VariableValueText, value)).toBe(value);
    }
  });

  it("accepts exactly 64 KiB and rejects one byte more, naming the limit", () => {
    expect(VARIABLE_VALUE_MAX_BYTES).toBe(65536);
    expect(decodeOk(VariableValueText, "v".repeat(65536))).toHaveLength(65536);
    expect(decodeViolations(VariableValueText, "v".repeat(65537))).toEqual([
      { field: "request", message: "must be at most 65536 bytes (got 65537)" },
    ]);
  });

  it("counts multi-byte characters in bytes", () => {
    expect(decodeOk(VariableValueText, "🚀".repeat(16384))).toHaveLength(32768);
    expect(decodeViolations(VariableValueText, `${"🚀".repeat(16384)}a`)).toEqual([
      { field: "request", message: "must be at most 65536 bytes (got 65537)" },
    ]);
  });

  it("rejects NUL characters", () => {
    expect(decodeViolations(VariableValueText, "a\u0000b")).toEqual([
      { field: "request", message: "must not contain NUL characters" },
    ]);
  });
});

describe("VariableInput", () => {
  it("defaults secret to false", () => {
    expect(decodeOk(VariableInput, { key: "A", value: "1" })).toEqual({
      key: "A",
      value: "1",
      secret: false,
    });
    expect(decodeOk(VariableInput, { key: "A", value: "1", secret: true }).secret).toBe(true);
  });

  it("reports key and value problems together, on their fields", () => {
    expect(decodeViolations(VariableInput, { key: "1A", value: "\u0000" })).toEqual([
      {
        field: "key",
        message: `"1A" is not a valid name (letters, digits and '_', not starting with a digit)`,
      },
      { field: "value", message: "must not contain NUL characters" },
    ]);
  });

  it("rejects a non-boolean secret without noise", () => {
    expect(decodeViolations(VariableInput, { key: "A", value: "1", secret: "yes" })).toEqual([
      { field: "secret", message: 'Expected boolean, actual "yes"' },
    ]);
  });
});

describe("VariableInputs", () => {
  it("accepts distinct keys (case-sensitive) and an empty batch", () => {
    expect(decodeOk(VariableInputs, [])).toEqual([]);
    expect(
      decodeOk(VariableInputs, [
        { key: "A", value: "1" },
        { key: "a", value: "2" },
      ]),
    ).toEqual([
      { key: "A", value: "1", secret: false },
      { key: "a", value: "2", secret: false },
    ]);
  });

  it("rejects a key that appears twice, at the second occurrence", () => {
    expect(
      decodeViolations(VariableInputs, [
        { key: "A", value: "1" },
        { key: "B", value: "2" },
        { key: "A", value: "3", secret: true },
      ]),
    ).toEqual([{ field: "[2].key", message: '"A" appears more than once' }]);
  });

  it("reports an invalid element at its index", () => {
    expect(
      decodeViolations(VariableInputs, [
        { key: "A", value: "1" },
        { key: "", value: "2" },
      ]),
    ).toEqual([{ field: "[1].key", message: "must not be empty" }]);
  });
});
