import { describe, expect, it } from "@effect/vitest";
import { Effect, Schema } from "effect";
import { ValidationError } from "../../src/errors.ts";
import { decodeRequest, fieldPath } from "../../src/validation/decode.ts";
import { decodeOk, decodeViolations } from "../helpers.ts";

describe("fieldPath", () => {
  it.each([
    [[], ""],
    [["projectId"], "project_id"],
    [["gitCommit", "authorHandle"], "git_commit.author_handle"],
    [["regions", 2], "regions[2]"],
    [[0, "key"], "[0].key"],
    [["source", "buildContextPath"], "source.build_context_path"],
    [["a", 1, 2, "bC"], "a[1][2].b_c"],
  ] as const)("%j → %s", (path, expected) => {
    expect(fieldPath(path)).toBe(expected);
  });
});

describe("decodeRequest", () => {
  const Request = Schema.Struct({
    name: Schema.String,
    countOfThings: Schema.optional(Schema.Number),
    nested: Schema.optional(Schema.Struct({ innerValue: Schema.Number })),
  });

  it("decodes valid input, ignoring unknown properties", () => {
    expect(decodeOk(Request, { name: "x", extra: true })).toEqual({ name: "x" });
  });

  it("reports every issue, not only the first, with snake_case paths", () => {
    expect(
      decodeViolations(Request, { name: 1, countOfThings: "2", nested: { innerValue: "3" } }),
    ).toEqual([
      { field: "name", message: "Expected string, actual 1" },
      { field: "count_of_things", message: 'Expected number, actual "2"' },
      { field: "nested.inner_value", message: 'Expected number, actual "3"' },
    ]);
  });

  it("names the whole request for a top-level problem", () => {
    expect(decodeViolations(Request, 5)).toEqual([
      {
        field: "request",
        message:
          "Expected { readonly name: string; readonly countOfThings?: number | undefined; readonly nested?: { readonly innerValue: number } | undefined }, actual 5",
      },
    ]);
  });

  it.effect("fails with a ValidationError whose message joins the violations", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(decodeRequest(Request)({ countOfThings: "x" }));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe('name: is missing; count_of_things: Expected number, actual "x"');
    }),
  );
});
