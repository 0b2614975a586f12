import { describe, expect, it } from "@effect/vitest";
import { Schema } from "effect";
import {
  AlreadyExists,
  NotFound,
  PermissionDenied,
  PreconditionFailed,
  Unauthenticated,
  ValidationError,
  WorkflowUnavailable,
} from "../src/errors.ts";

describe("ValidationError", () => {
  it("single makes one violation on the named field", () => {
    const error = ValidationError.single("idempotency_key", "must not be reused");
    expect(error._tag).toBe("ValidationError");
    expect(error.violations).toEqual([{ field: "idempotency_key", message: "must not be reused" }]);
    expect(error.message).toBe("idempotency_key: must not be reused");
  });

  it("lists every violation in its message", () => {
    const error = new ValidationError({
      violations: [
        { field: "project_id", message: "is required" },
        { field: "regions", message: 'unknown region "x"; available: a' },
      ],
    });
    expect(error.message).toBe(
      'project_id: is required; regions: unknown region "x"; available: a',
    );
  });

  it("cannot be built without a violation", () => {
    expect(() => new ValidationError({ violations: [] as never })).toThrow();
  });

  it("round-trips through its schema (it crosses workflow boundaries as data)", () => {
    const error = ValidationError.single("source", "is required");
    const encoded = Schema.encodeSync(ValidationError)(error);
    expect(encoded).toEqual({
      _tag: "ValidationError",
      violations: [{ field: "source", message: "is required" }],
    });
    const decoded = Schema.decodeUnknownSync(ValidationError)(encoded);
    expect(decoded).toBeInstanceOf(ValidationError);
    expect(decoded.message).toBe("source: is required");
  });
});

describe("messages", () => {
  it("name the resource and id, or carry the reason", () => {
    expect(new NotFound({ resource: "deployment", id: "dep_x" }).message).toBe(
      'deployment "dep_x" not found',
    );
    expect(new AlreadyExists({ resource: "project", id: "web" }).message).toBe(
      'project "web" already exists',
    );
    expect(new PreconditionFailed({ reason: "not READY" }).message).toBe("not READY");
    expect(new Unauthenticated({ reason: "missing key" }).message).toBe("missing key");
    expect(new PermissionDenied({ reason: "read-only key" }).message).toBe("read-only key");
    expect(new WorkflowUnavailable({ reason: "restate down" }).message).toBe("restate down");
  });

  it("carry distinct tags", () => {
    const tags = [
      ValidationError.single("a", "b")._tag,
      new NotFound({ resource: "project", id: "x" })._tag,
      new AlreadyExists({ resource: "project", id: "x" })._tag,
      new PreconditionFailed({ reason: "x" })._tag,
      new Unauthenticated({ reason: "x" })._tag,
      new PermissionDenied({ reason: "x" })._tag,
      new WorkflowUnavailable({ reason: "x" })._tag,
    ];
    expect(new Set(tags).size).toBe(tags.length);
  });
});
