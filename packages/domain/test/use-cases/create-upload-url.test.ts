import { describe, expect, it } from "@effect/vitest";
import { Effect, Stream } from "effect";
import {
  BuildStorage,
  BuildStorageError,
  buildContextPathProblem,
  createUploadUrl,
} from "../../src/index.ts";
import {
  IN_MEMORY_STORAGE_URL,
  TEST_BUILD_CONTEXT_LIMITS,
  uploadBuildContext,
} from "../../src/testing/index.ts";
import { NOW, seed, TestLayer } from "./fixtures.ts";

const MAX = TEST_BUILD_CONTEXT_LIMITS.maxSizeBytes;

describe("createUploadUrl", () => {
  it.effect("hands out a fresh key of the project, valid for the configured time", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const first = yield* createUploadUrl(acme.workspace.id, { projectId: acme.project.id });
      const second = yield* createUploadUrl(acme.workspace.id, { projectId: acme.project.id });
      expect(first.buildContextPath).toMatch(
        new RegExp(`^projects/${acme.project.id}/contexts/[0-9a-z]{26}\\.tar\\.gz$`),
      );
      expect(second.buildContextPath).not.toBe(first.buildContextPath);
      // The key is one CreateDeployment accepts for this project.
      expect(buildContextPathProblem(acme.project.id, first.buildContextPath)).toBeUndefined();
      expect(first).toStrictEqual({
        url: `${IN_MEMORY_STORAGE_URL}${first.buildContextPath}`,
        expiresAt: NOW + TEST_BUILD_CONTEXT_LIMITS.uploadUrlTtlSeconds * 1000,
        headers: {},
        maxSizeBytes: MAX,
        buildContextPath: first.buildContextPath,
      });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("passes a declared size on: the URL then takes exactly that many bytes", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const url = yield* createUploadUrl(acme.workspace.id, {
        projectId: acme.project.id,
        sizeBytes: MAX,
      });
      expect(url.headers).toStrictEqual({ "content-length": String(MAX) });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("refuses a size outside 1..max, naming the limit", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      for (const sizeBytes of [0, -1, MAX + 1, 1.5]) {
        const error = yield* Effect.flip(
          createUploadUrl(acme.workspace.id, { projectId: acme.project.id, sizeBytes }),
        );
        expect(error._tag === "ValidationError" && error.violations).toStrictEqual([
          {
            field: "size_bytes",
            message: `must be from 1 to ${MAX} bytes, the maximum build context size (got ${sizeBytes})`,
          },
        ]);
      }
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("reports a missing project id and a bad size together", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const error = yield* Effect.flip(
        createUploadUrl(acme.workspace.id, { projectId: "", sizeBytes: 0 }),
      );
      expect(error._tag === "ValidationError" && error.violations.map((v) => v.field)).toEqual([
        "project_id",
        "size_bytes",
      ]);
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("answers NotFound for another workspace's project", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      const error = yield* Effect.flip(
        createUploadUrl(acme.workspace.id, { projectId: globex.project.id }),
      );
      expect(error).toMatchObject({ _tag: "NotFound", resource: "project", id: globex.project.id });
    }).pipe(Effect.provide(TestLayer)),
  );

  it.effect("answers WorkflowUnavailable when storage cannot make a URL", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const storage = yield* BuildStorage;
      const error = yield* Effect.flip(
        createUploadUrl(acme.workspace.id, { projectId: acme.project.id }).pipe(
          Effect.provideService(BuildStorage, {
            ...storage,
            createUploadUrl: () =>
              Effect.fail(new BuildStorageError({ reason: "bucket unreachable" })),
          }),
        ),
      );
      expect(error).toMatchObject({
        _tag: "WorkflowUnavailable",
        reason: "build storage is unavailable: bucket unreachable",
      });
    }).pipe(Effect.provide(TestLayer)),
  );
});

describe("the in-memory build storage", () => {
  it.effect("reads back what was uploaded, and fails to read what was not", () =>
    Effect.gen(function* () {
      const storage = yield* BuildStorage;
      yield* uploadBuildContext("projects/p/contexts/a.tar.gz", new Uint8Array([1, 2, 3]));
      const stream = yield* storage.read("projects/p/contexts/a.tar.gz");
      const chunks = yield* Stream.runCollect(
        Stream.fromReadableStream({
          evaluate: () => stream,
          onError: (error) => error,
        }),
      );
      expect([...chunks].flatMap((chunk) => [...chunk])).toEqual([1, 2, 3]);
      const error = yield* Effect.flip(storage.read("projects/p/contexts/missing.tar.gz"));
      expect(error).toMatchObject({ _tag: "BuildStorageError" });
    }).pipe(Effect.provide(TestLayer)),
  );
});
