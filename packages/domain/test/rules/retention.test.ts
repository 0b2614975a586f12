import { describe, expect, it } from "@effect/vitest";
import { Effect, Option } from "effect";
import type { DeploymentId } from "../../src/ids.ts";
import type { DeploymentStatus } from "../../src/model/deployment.ts";
import { RetentionRepository } from "../../src/ports/retention.ts";
import {
  decideRetention,
  type RetentionFacts,
  type RetentionPolicy,
} from "../../src/rules/retention.ts";
import { makeInMemoryRetentionRepository } from "../../src/testing/index.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = 1_764_000_000_000;
const POLICY: RetentionPolicy = { now: NOW, periodMs: 7 * DAY_MS };

/** A FAILED build of long ago with nothing pointing at it: removable. Each test changes one fact. */
const old = (overrides: Partial<RetentionFacts> = {}): RetentionFacts => ({
  id: "dep_01jdz8x4m3q7r2v5w9y0aaaaaa",
  projectId: "prj_01jdz8x4m3q7r2v5w9y0abcdef",
  environmentId: "env_01jdz8x4m3q7r2v5w9y0abcdef",
  status: "FAILED",
  source: "BUILD_CONTEXT",
  buildContextPath: "projects/prj_01jdz8x4m3q7r2v5w9y0abcdef/contexts/a.tar.gz",
  image: undefined,
  finishedAt: NOW - 8 * DAY_MS,
  supersededAt: undefined,
  artifactsRemovedAt: undefined,
  isLive: false,
  trafficRoutes: 0,
  activeInstances: 0,
  newerReadyInEnvironment: 0,
  ...overrides,
});

const decide = (overrides: Partial<RetentionFacts>) => decideRetention(old(overrides), POLICY);

/** A READY build pushed out of the kept ones (two newer READY) long ago. */
const replaced = {
  status: "READY",
  newerReadyInEnvironment: 2,
  supersededAt: NOW - 8 * DAY_MS,
} as const;

describe("decideRetention", () => {
  it.each<DeploymentStatus>(["FAILED", "CANCELLED", "SUPERSEDED"])(
    "removes the artifacts of an old %s build",
    (status) => {
      expect(decide({ status })).toStrictEqual({ _tag: "Remove" });
    },
  );

  it("removes a READY build with two newer READY in its environment, once its instances are gone", () => {
    expect(decide(replaced)).toStrictEqual({ _tag: "Remove" });
    expect(decide({ ...replaced, newerReadyInEnvironment: 5 })).toStrictEqual({ _tag: "Remove" });
  });

  it("keeps the latest READY of its environment, however old", () => {
    expect(decide({ status: "READY", newerReadyInEnvironment: 0 })).toStrictEqual({
      _tag: "Keep",
      reason: "latest-ready",
    });
  });

  it("keeps the READY one before the latest, however old: the default target of `ferry rollback`", () => {
    expect(
      decide({ status: "READY", newerReadyInEnvironment: 1, finishedAt: NOW - 300 * DAY_MS }),
    ).toStrictEqual({ _tag: "Keep", reason: "previous-ready" });
  });

  it("counts a READY build's period from when it was pushed out of the kept ones, not from its own READY", () => {
    // READY a year ago, replaced (its second newer READY became READY) a day ago: still kept.
    const servedLong = { ...replaced, finishedAt: NOW - 365 * DAY_MS };
    expect(decide({ ...servedLong, supersededAt: NOW - DAY_MS })).toStrictEqual({
      _tag: "Keep",
      reason: "within-period",
    });
    expect(decide({ ...servedLong, supersededAt: NOW - 7 * DAY_MS })).toStrictEqual({
      _tag: "Keep",
      reason: "within-period",
    });
    expect(decide({ ...servedLong, supersededAt: NOW - 7 * DAY_MS - 1 })).toStrictEqual({
      _tag: "Remove",
    });
    // A FAILED build counts from its own end, whatever READY came after it.
    expect(
      decide({
        finishedAt: NOW - 8 * DAY_MS,
        supersededAt: NOW - DAY_MS,
        newerReadyInEnvironment: 2,
      }),
    ).toStrictEqual({ _tag: "Remove" });
  });

  it.each<DeploymentStatus>(["PENDING", "BUILDING", "DEPLOYING", "NETWORK"])(
    "keeps a %s deployment (not terminal)",
    (status) => {
      expect(decide({ status })).toStrictEqual({ _tag: "Keep", reason: "in-progress" });
    },
  );

  it("keeps the live deployment, e.g. the pinned target of a rollback (older than the latest READY)", () => {
    expect(decide({ ...replaced, isLive: true, trafficRoutes: 2 })).toStrictEqual({
      _tag: "Keep",
      reason: "live",
    });
  });

  it("keeps a deployment that a branch, environment or live hostname points at", () => {
    expect(decide({ ...replaced, trafficRoutes: 1 })).toStrictEqual({
      _tag: "Keep",
      reason: "routed",
    });
  });

  it("keeps a deployment with a running or starting instance (rollback needs its containers)", () => {
    expect(decide({ ...replaced, activeInstances: 1 })).toStrictEqual({
      _tag: "Keep",
      reason: "instances-active",
    });
    // A FAILED deployment whose compensation left a container: not until it is stopped.
    expect(decide({ status: "FAILED", activeInstances: 2 })).toStrictEqual({
      _tag: "Keep",
      reason: "instances-active",
    });
  });

  it("keeps a deployment that finished within the period, up to and including its last millisecond", () => {
    expect(decide({ finishedAt: NOW - DAY_MS })).toStrictEqual({
      _tag: "Keep",
      reason: "within-period",
    });
    expect(decide({ finishedAt: NOW - 7 * DAY_MS })).toStrictEqual({
      _tag: "Keep",
      reason: "within-period",
    });
    expect(decide({ finishedAt: NOW - 7 * DAY_MS - 1 })).toStrictEqual({ _tag: "Remove" });
  });

  it("never removes a prebuilt image's deployment (nothing of it is Ferry's)", () => {
    expect(decide({ source: "DOCKER_IMAGE", buildContextPath: undefined })).toStrictEqual({
      _tag: "Keep",
      reason: "prebuilt-image",
    });
  });

  it("does nothing twice: removed artifacts are not removed again", () => {
    expect(decide({ artifactsRemovedAt: NOW - DAY_MS })).toStrictEqual({
      _tag: "Keep",
      reason: "already-removed",
    });
  });
});

describe("in-memory RetentionRepository", () => {
  const ids = ["dep_01jdz8x4m3q7r2v5w9y0aaaaa1", "dep_01jdz8x4m3q7r2v5w9y0aaaaa2"] as const;
  const layer = makeInMemoryRetentionRepository([
    old({ id: ids[1], buildContextPath: "shared" }),
    old({ id: ids[0], buildContextPath: "shared" }),
    old({ id: "dep_01jdz8x4m3q7r2v5w9y0aaaaa3", status: "BUILDING" }),
    old({ id: "dep_01jdz8x4m3q7r2v5w9y0aaaaa4", source: "DOCKER_IMAGE" }),
  ]);

  it.effect(
    "lists terminal build-context candidates by id, marks once, counts context holders",
    () =>
      Effect.gen(function* () {
        const repo = yield* RetentionRepository;
        const listed = yield* repo.listCandidates({ unneededBefore: NOW, afterId: "", limit: 10 });
        expect(listed.map((f) => f.id)).toStrictEqual([...ids]);
        const after = yield* repo.listCandidates({
          unneededBefore: NOW,
          afterId: ids[0],
          limit: 10,
        });
        expect(after.map((f) => f.id)).toStrictEqual([ids[1]]);
        expect(yield* repo.countContextHolders("shared", ids[0] as DeploymentId)).toBe(1);
        expect(yield* repo.referencedContextKeys(["shared", "orphan"])).toStrictEqual(["shared"]);
        expect(yield* repo.markArtifactsRemoved(ids[1] as DeploymentId, NOW)).toBe(true);
        expect(yield* repo.markArtifactsRemoved(ids[1] as DeploymentId, NOW)).toBe(false);
        expect(yield* repo.countContextHolders("shared", ids[0] as DeploymentId)).toBe(0);
        const marked = yield* repo.findFacts(ids[1] as DeploymentId);
        expect(Option.map(marked, (f) => f.artifactsRemovedAt)).toStrictEqual(Option.some(NOW));
      }).pipe(Effect.provide(layer)),
  );
});
