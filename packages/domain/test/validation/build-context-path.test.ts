import { describe, expect, it } from "@effect/vitest";
import {
  BUILD_CONTEXT_NAME,
  buildContextKey,
  buildContextPathProblem,
  buildContextPrefix,
} from "../../src/validation/build-context-path.ts";
import { OTHER_PROJECT_ID, PROJECT_ID } from "../helpers.ts";

const PREFIX = `projects/${PROJECT_ID}/contexts/`;
const FOREIGN = `must be a key under "${PREFIX}" (it belongs to another project or was not made by CreateUploadUrl)`;
const BAD_NAME = `must end in a single file name of letters, digits, '.', '_' or '-' after "${PREFIX}"`;

describe("build context keys", () => {
  it("are made under projects/{project_id}/contexts/", () => {
    expect(buildContextPrefix(PROJECT_ID)).toBe(PREFIX);
    expect(buildContextKey(PROJECT_ID, "a.tar.gz")).toBe(`${PREFIX}a.tar.gz`);
  });

  it("accept a key made by buildContextKey", () => {
    expect(buildContextPathProblem(PROJECT_ID, buildContextKey(PROJECT_ID, "a.tar.gz"))).toBe(
      undefined,
    );
  });
});

describe("buildContextPathProblem", () => {
  it.each([
    "01jdz8x4m3q7r2v5w9y0abcdef.tar.gz",
    "ctx_1-2.tgz",
    "A",
    `a${"b".repeat(127)}`,
    "a.b.c",
  ])("accepts the name %s", (name) => {
    expect(buildContextPathProblem(PROJECT_ID, `${PREFIX}${name}`)).toBeUndefined();
  });

  it("rejects an empty path, saying where a path comes from", () => {
    expect(buildContextPathProblem(PROJECT_ID, "")).toBe(
      "must not be empty (get a path from CreateUploadUrl)",
    );
  });

  it.each([
    ["another project's key", `projects/${OTHER_PROJECT_ID}/contexts/a.tar.gz`],
    ["a key outside projects/", "uploads/a.tar.gz"],
    ["a bare name", "a.tar.gz"],
    ["a leading slash", `/${PREFIX}a.tar.gz`],
    ["the prefix without the trailing slash", `projects/${PROJECT_ID}/contexts`],
    ["a project id that only starts like this one", `projects/${PROJECT_ID}x/contexts/a.tgz`],
    ["an uppercased prefix", `Projects/${PROJECT_ID}/contexts/a.tgz`],
  ])("rejects %s", (_label, path) => {
    expect(buildContextPathProblem(PROJECT_ID, path)).toBe(FOREIGN);
  });

  it.each([
    ["nothing after the prefix", ""],
    ["'..' as the name", ".."],
    ["'..' inside the name", "a..b"],
    ["a climb into another project", `../../${OTHER_PROJECT_ID}/contexts/a.tgz`],
    ["a nested path", "sub/a.tgz"],
    ["a hidden file", ".a.tgz"],
    ["a leading '-'", "-a.tgz"],
    ["a space", "a b.tgz"],
    ["a backslash", "a\\b.tgz"],
    ["a name of 129 characters", `a${"b".repeat(128)}`],
    ["a non-ASCII letter", "é.tgz"],
  ])("rejects %s", (_label, name) => {
    expect(buildContextPathProblem(PROJECT_ID, `${PREFIX}${name}`)).toBe(BAD_NAME);
  });

  it("limits the name to 128 characters", () => {
    expect(BUILD_CONTEXT_NAME.test("a".repeat(128))).toBe(true);
    expect(BUILD_CONTEXT_NAME.test("a".repeat(129))).toBe(false);
  });
});
