import { describe, expect, it } from "@effect/vitest";
import { Effect, Either } from "effect";
import { ValidationError } from "../../src/errors.ts";
import { validateCreateDeployment } from "../../src/validation/create-deployment.ts";
import {
  HOUR_MS,
  minimalRequest,
  NOW,
  OTHER_PROJECT_ID,
  PROJECT_ID,
  REGIONS,
  RULES,
  validateOk,
  validateViolations,
  withGitCommit,
} from "../helpers.ts";

const contextPath = (name = "ctx-1.tar.gz", projectId = PROJECT_ID) =>
  `projects/${projectId}/contexts/${name}`;

const buildContextRequest = (source: Record<string, unknown>): Record<string, unknown> => ({
  ...minimalRequest(),
  source: { _tag: "BuildContext", buildContextPath: contextPath(), ...source },
});

describe("validateCreateDeployment", () => {
  it.effect("accepts the smallest request, defaulting regions to every available one", () =>
    Effect.gen(function* () {
      const input = yield* validateCreateDeployment(minimalRequest(), RULES);
      expect(input).toEqual({
        projectId: PROJECT_ID,
        environmentSlug: "production",
        source: { _tag: "DockerImage", image: "busybox" },
        regions: ["eu-west", "us-east", "ap-south"],
      });
    }),
  );

  it.effect("fails with a ValidationError in the error channel, not a defect", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(validateCreateDeployment({}, RULES));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toBe(
        "project_id: is required; environment_slug: is required (e.g. production or preview); source: is required: set docker_image or build_context",
      );
    }),
  );

  it("accepts a complete request and normalizes every part", () => {
    const result = validateOk({
      projectId: PROJECT_ID,
      environmentSlug: "preview",
      source: {
        _tag: "BuildContext",
        buildContextPath: contextPath(),
        dockerfilePath: "./docker/../web.Dockerfile",
      },
      gitCommit: {
        commitSha: "ABCDEF0",
        branch: "feature/x",
        commitMessage: "Add x",
        authorHandle: "octocat",
        authorAvatarUrl: "https://example.com/a.png",
        timestamp: NOW - 1000,
      },
      regions: ["us-east", "eu-west", "us-east"],
      idempotencyKey: "deploy-42",
    });
    expect(result).toEqual({
      projectId: PROJECT_ID,
      environmentSlug: "preview",
      source: {
        _tag: "BuildContext",
        buildContextPath: contextPath(),
        dockerfilePath: "web.Dockerfile",
      },
      gitCommit: {
        commitSha: "abcdef0",
        branch: "feature/x",
        commitMessage: "Add x",
        authorHandle: "octocat",
        authorAvatarUrl: "https://example.com/a.png",
        timestamp: NOW - 1000,
      },
      regions: ["us-east", "eu-west"],
      idempotencyKey: "deploy-42",
    });
  });

  it("ignores unknown fields", () => {
    expect(validateOk({ ...minimalRequest(), extra: "ignored" })).not.toHaveProperty("extra");
  });

  it.each([
    ["null", null],
    ["a string", "x"],
    ["a number", 1],
  ])("rejects %s as the whole request", (_label, input) => {
    const violations = validateViolations(input);
    expect(violations).toHaveLength(1);
    expect(violations[0]?.field).toBe("request");
  });
});

describe("required fields", () => {
  it("tells to set docker_image or build_context when the source is missing", () => {
    const { source: _, ...request } = minimalRequest();
    expect(validateViolations(request)).toEqual([
      { field: "source", message: "is required: set docker_image or build_context" },
    ]);
  });

  it("reports a missing project id and environment slug", () => {
    expect(validateViolations({ source: { _tag: "DockerImage", image: "busybox" } })).toEqual([
      { field: "project_id", message: "is required" },
      { field: "environment_slug", message: "is required (e.g. production or preview)" },
    ]);
  });

  it('reads "" as missing (proto3 default)', () => {
    expect(validateViolations({ ...minimalRequest(), projectId: "", environmentSlug: "" })).toEqual(
      [
        { field: "project_id", message: "is required" },
        { field: "environment_slug", message: "is required (e.g. production or preview)" },
      ],
    );
  });

  it("rejects an unknown source kind", () => {
    expect(validateViolations({ ...minimalRequest(), source: { _tag: "Git" } })).toEqual([
      { field: "source._tag", message: 'Expected "DockerImage" | "BuildContext", actual "Git"' },
    ]);
  });
});

describe("project id and environment slug", () => {
  it.each([
    ["a wrong prefix", "proj_01jdz8x4m3q7r2v5w9y0abcdef"],
    ["a short suffix", "prj_01jdz8x4m3q7r2v5w9y0abcde"],
    ["uppercase", "prj_01JDZ8X4M3Q7R2V5W9Y0ABCDEF"],
  ])("rejects a project id with %s", (_label, projectId) => {
    expect(validateViolations({ ...minimalRequest(), projectId })).toEqual([
      { field: "project_id", message: "must be a project id (prj_ followed by 26 characters)" },
    ]);
  });

  it("rejects a bad environment slug, quoting it", () => {
    expect(validateViolations({ ...minimalRequest(), environmentSlug: "Production" })).toEqual([
      {
        field: "environment_slug",
        message:
          "must contain only lowercase letters, digits and '-', and start and end with a letter or digit (got \"Production\")",
      },
    ]);
  });

  it("rejects an environment slug of 64 characters and accepts 63", () => {
    expect(validateViolations({ ...minimalRequest(), environmentSlug: "e".repeat(64) })).toEqual([
      { field: "environment_slug", message: "must be at most 63 characters (got 64)" },
    ]);
    expect(
      validateOk({ ...minimalRequest(), environmentSlug: "e".repeat(63) }).environmentSlug,
    ).toBe("e".repeat(63));
  });
});

describe("docker image source", () => {
  it("names source.image for a bad reference", () => {
    expect(
      validateViolations({ ...minimalRequest(), source: { _tag: "DockerImage", image: "Bad" } }),
    ).toEqual([
      {
        field: "source.image",
        message:
          '"Bad" is not a valid image reference (expected [registry/]name[:tag][@digest], name in lowercase)',
      },
    ]);
  });

  it("rejects an empty image", () => {
    expect(
      validateViolations({ ...minimalRequest(), source: { _tag: "DockerImage", image: "" } }),
    ).toEqual([{ field: "source.image", message: "must not be empty" }]);
  });
});

describe("build context source", () => {
  it("defaults the Dockerfile path to ./Dockerfile, normalized to Dockerfile", () => {
    expect(validateOk(buildContextRequest({})).source).toEqual({
      _tag: "BuildContext",
      buildContextPath: contextPath(),
      dockerfilePath: "Dockerfile",
    });
    expect(validateOk(buildContextRequest({ dockerfilePath: "" })).source).toEqual({
      _tag: "BuildContext",
      buildContextPath: contextPath(),
      dockerfilePath: "Dockerfile",
    });
  });

  it("names source.dockerfile_path for an escaping path", () => {
    expect(validateViolations(buildContextRequest({ dockerfilePath: "a/../../x" }))).toEqual([
      {
        field: "source.dockerfile_path",
        message: `must stay inside the build context ("a/../../x" escapes it with '..')`,
      },
    ]);
  });

  it("rejects another project's build context on source.build_context_path", () => {
    expect(
      validateViolations(
        buildContextRequest({ buildContextPath: contextPath("ctx.tar.gz", OTHER_PROJECT_ID) }),
      ),
    ).toEqual([
      {
        field: "source.build_context_path",
        message: `must be a key under "projects/${PROJECT_ID}/contexts/" (it belongs to another project or was not made by CreateUploadUrl)`,
      },
    ]);
  });

  it("rejects '..' in the build context name", () => {
    expect(
      validateViolations(
        buildContextRequest({
          buildContextPath: `projects/${PROJECT_ID}/contexts/../../${OTHER_PROJECT_ID}/contexts/x`,
        }),
      ),
    ).toEqual([
      {
        field: "source.build_context_path",
        message: `must end in a single file name of letters, digits, '.', '_' or '-' after "projects/${PROJECT_ID}/contexts/"`,
      },
    ]);
  });

  it("rejects an empty build context path", () => {
    expect(validateViolations(buildContextRequest({ buildContextPath: "" }))).toEqual([
      {
        field: "source.build_context_path",
        message: "must not be empty (get a path from CreateUploadUrl)",
      },
    ]);
  });
});

describe("regions", () => {
  it("reads an empty list as every available region, in the platform's order", () => {
    expect(validateOk({ ...minimalRequest(), regions: [] }).regions).toEqual([...REGIONS]);
  });

  it("keeps the requested order and removes duplicates", () => {
    expect(
      validateOk({ ...minimalRequest(), regions: ["ap-south", "eu-west", "ap-south", "eu-west"] })
        .regions,
    ).toEqual(["ap-south", "eu-west"]);
  });

  it("rejects an unknown region, listing the available ones", () => {
    expect(validateViolations({ ...minimalRequest(), regions: ["eu-west", "mars-1"] })).toEqual([
      {
        field: "regions",
        message: 'unknown region "mars-1"; available: eu-west, us-east, ap-south',
      },
    ]);
  });

  it("uses the availableRegions it is given", () => {
    const rules = { now: NOW, availableRegions: ["local"] };
    expect(validateOk(minimalRequest(), rules).regions).toEqual(["local"]);
    expect(validateViolations({ ...minimalRequest(), regions: ["eu-west"] }, rules)).toEqual([
      { field: "regions", message: 'unknown region "eu-west"; available: local' },
    ]);
  });

  it("rejects a non-string region at its index", () => {
    expect(validateViolations({ ...minimalRequest(), regions: ["eu-west", 7] })).toEqual([
      { field: "regions[1]", message: "Expected string, actual 7" },
    ]);
  });
});

describe("idempotency key", () => {
  it("is optional, and an empty one is absent", () => {
    expect(validateOk({ ...minimalRequest(), idempotencyKey: "" })).not.toHaveProperty(
      "idempotencyKey",
    );
  });

  it("names idempotency_key when too long", () => {
    expect(validateViolations({ ...minimalRequest(), idempotencyKey: "k".repeat(256) })).toEqual([
      { field: "idempotency_key", message: "must be at most 255 characters (got 256)" },
    ]);
  });
});

describe("several problems", () => {
  it("are reported together in one ValidationError, one violation per problem", () => {
    const violations = validateViolations({
      projectId: "nope",
      environmentSlug: "a--b",
      source: { _tag: "DockerImage", image: "app:" },
      gitCommit: {
        commitSha: "zz",
        authorHandle: "h".repeat(257),
        authorAvatarUrl: "mailto:x@y",
        timestamp: NOW + HOUR_MS + 1,
      },
      regions: ["mars-1", "venus-2"],
      idempotencyKey: "has space",
    });
    expect(violations.map((v) => v.field)).toEqual([
      "project_id",
      "environment_slug",
      "source.image",
      "git_commit.commit_sha",
      "git_commit.author_handle",
      "git_commit.author_avatar_url",
      "git_commit.timestamp",
      "regions",
      "idempotency_key",
    ]);
    expect(violations.find((v) => v.field === "regions")?.message).toBe(
      'unknown regions "mars-1", "venus-2"; available: eu-west, us-east, ap-south',
    );
    expect(violations.find((v) => v.field === "environment_slug")?.message).toBe(
      'must not contain "--" (reserved as the separator in generated hostnames)',
    );
  });

  it("carry no schema noise (no 'Expected undefined' for optional fields)", () => {
    const violations = validateViolations(
      withGitCommit({ authorHandle: "h".repeat(300), timestamp: 1.5 }),
    );
    expect(violations).toEqual([
      { field: "git_commit.author_handle", message: "must be at most 256 bytes (got 300)" },
      {
        field: "git_commit.timestamp",
        message: "must be an integer number of milliseconds (got 1.5)",
      },
    ]);
    for (const violation of violations) expect(violation.message).not.toContain("hhhhhhhh");
  });

  it("are listed in the error's message", () => {
    const result = Effect.runSync(
      Effect.either(validateCreateDeployment({ ...minimalRequest(), projectId: "x" }, RULES)),
    );
    expect(Either.isLeft(result) && result.left.message).toBe(
      "project_id: must be a project id (prj_ followed by 26 characters)",
    );
  });
});
