import { describe, expect, it } from "@effect/vitest";
import {
  IDEMPOTENCY_KEY_MAX_LENGTH,
  IdempotencyKey,
} from "../../src/validation/idempotency-key.ts";
import { decodeOk, decodeViolations } from "../helpers.ts";

describe("IdempotencyKey", () => {
  it.each(["k", "deploy-42", "550e8400-e29b-41d4-a716-446655440000", "!~{}", "k".repeat(255)])(
    "accepts %s",
    (key) => {
      expect(decodeOk(IdempotencyKey, key)).toBe(key);
    },
  );

  it("rejects 256 characters, naming the limit", () => {
    expect(IDEMPOTENCY_KEY_MAX_LENGTH).toBe(255);
    expect(decodeViolations(IdempotencyKey, "k".repeat(256))).toEqual([
      { field: "request", message: "must be at most 255 characters (got 256)" },
    ]);
  });

  it.each(["has space", "tab\tkey", "é", "🚀", "", "new\nline", "del\u007f"])(
    "rejects %j as not printable ASCII without spaces",
    (key) => {
      expect(decodeViolations(IdempotencyKey, key)).toEqual([
        { field: "request", message: "must be printable ASCII without spaces" },
      ]);
    },
  );
});
