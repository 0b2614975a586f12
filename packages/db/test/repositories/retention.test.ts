/**
 * RetentionRepository on Prisma: the facts decideRetention needs (live, routes, running
 * instances, the newer READY of an environment and when they pushed a deployment out of the kept
 * ones), a candidate query that lists exactly what the rule removes, pages by id, the
 * referenced-key lookup for orphan uploads, and a compare-and-set mark that leaves updated_at
 * alone.
 */
import {
  type Deployment,
  DeploymentRepository,
  type DeploymentStatus,
  decideRetention,
  InstanceRepository,
  type RetentionFacts,
  RetentionRepository,
  RouteRepository,
} from "@ferry/domain";
import { Effect, Option } from "effect";
import { describe, expect, it } from "vitest";
import { testDatabaseKinds } from "../../src/testing.ts";
import {
  createDeployment,
  createTenant,
  NOW,
  newId,
  type Tenant,
  uniqueSlug,
  useRepositories,
} from "./harness.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const LATER = NOW + 30 * DAY_MS;
const POLICY = { now: LATER, periodMs: 7 * DAY_MS };
const host = (label: string) => `${label}.${uniqueSlug("r")}.ferry.test`;

/** A build-context deployment moved to `status` at `at` (through the lifecycle's path). */
const built = (
  tenant: Tenant,
  status: DeploymentStatus,
  at: number,
  overrides: Partial<Deployment> = {},
) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    const created = yield* createDeployment(tenant, {
      source: {
        _tag: "BuildContext",
        buildContextPath: `projects/${tenant.project.id}/contexts/${uniqueSlug("ctx")}.tar.gz`,
        dockerfilePath: "Dockerfile",
      },
      ...overrides,
    });
    if (status === "PENDING") return created;
    const moved = yield* deployments.updateStatus(created.id, {
      from: ["PENDING"],
      to: status,
      at,
      ...(status === "READY" ? { image: `localhost/ferry/x:${created.id}` } : {}),
    });
    return Option.getOrThrow(moved);
  });

const routed = (
  tenant: Tenant,
  deployment: Deployment,
  kinds: ReadonlyArray<"DEPLOYMENT" | "BRANCH" | "ENVIRONMENT" | "LIVE">,
  live = false,
) =>
  Effect.flatMap(RouteRepository, (routes) =>
    routes.point({
      workspaceId: tenant.workspace.id,
      projectId: tenant.project.id,
      environmentId: deployment.environmentId,
      deploymentId: deployment.id,
      routes: kinds.map((kind) => ({ hostname: host(kind.toLowerCase()), kind })),
      ...(live ? { liveTraffic: { rolledBack: false } } : {}),
      at: NOW,
    }),
  );

const instance = (deployment: Deployment, status: "STARTING" | "RUNNING" | "STOPPED") =>
  Effect.flatMap(InstanceRepository, (instances) =>
    instances.create({
      id: newId("instance"),
      deploymentId: deployment.id,
      region: "local-1",
      containerId: `container-${newId("instance")}`,
      host: "127.0.0.1",
      port: 40000,
      status,
      createdAt: NOW,
      updatedAt: NOW,
    }),
  );

describe.each(testDatabaseKinds())("RetentionRepository on %s", (kind) => {
  const { run } = useRepositories(kind);

  it("lists exactly what the rule removes, with the facts it decides on", async () => {
    await run(
      Effect.gen(function* () {
        const retention = yield* RetentionRepository;
        const tenant = yield* createTenant();
        // In id (creation) order:
        const failed = yield* built(tenant, "FAILED", NOW);
        const cancelled = yield* built(tenant, "CANCELLED", NOW);
        const superseded = yield* built(tenant, "SUPERSEDED", NOW);
        const pinnedTarget = yield* built(tenant, "READY", NOW); // live after a rollback
        const oldReady = yield* built(tenant, "READY", NOW); // stopped instances, no traffic
        const runningReady = yield* built(tenant, "READY", NOW); // instances still run
        const previousReady = yield* built(tenant, "READY", NOW); // `ferry rollback`'s target
        const latestReady = yield* built(tenant, "READY", NOW); // the environment's latest
        const preview = { environmentId: tenant.preview.id, environmentSlug: tenant.preview.slug };
        // READY long ago, but pushed out of the kept two only a day before LATER.
        const previewServedLong = yield* built(tenant, "READY", NOW - 300 * DAY_MS, preview);
        const previewPrevious = yield* built(tenant, "READY", NOW, preview);
        const previewLatest = yield* built(tenant, "READY", LATER - DAY_MS, preview);
        const recent = yield* built(tenant, "FAILED", LATER - DAY_MS);
        const building = yield* built(tenant, "PENDING", NOW);
        const prebuilt = yield* createDeployment(tenant, { status: "PENDING" });
        yield* (yield* DeploymentRepository).updateStatus(prebuilt.id, {
          from: ["PENDING"],
          to: "FAILED",
          at: NOW,
        });

        yield* routed(tenant, pinnedTarget, ["DEPLOYMENT", "ENVIRONMENT", "LIVE"], true);
        yield* routed(tenant, oldReady, ["DEPLOYMENT"]);
        yield* routed(tenant, runningReady, ["DEPLOYMENT"]);
        yield* routed(tenant, latestReady, ["DEPLOYMENT", "BRANCH"]);
        yield* routed(tenant, previewLatest, ["DEPLOYMENT", "ENVIRONMENT"]);
        yield* instance(oldReady, "STOPPED");
        yield* instance(runningReady, "RUNNING");
        yield* instance(runningReady, "STOPPED");
        yield* instance(failed, "STOPPED");

        const all = [
          failed,
          cancelled,
          superseded,
          pinnedTarget,
          oldReady,
          runningReady,
          previousReady,
          latestReady,
          previewServedLong,
          previewPrevious,
          previewLatest,
          recent,
          building,
          prebuilt,
        ];
        const facts = new Map<string, RetentionFacts>();
        for (const d of all) facts.set(d.id, Option.getOrThrow(yield* retention.findFacts(d.id)));
        const of = (d: Deployment) => facts.get(d.id) as RetentionFacts;
        expect(of(failed)).toStrictEqual({
          id: failed.id,
          projectId: tenant.project.id,
          environmentId: tenant.production.id,
          status: "FAILED",
          source: "BUILD_CONTEXT",
          buildContextPath:
            failed.source._tag === "BuildContext" ? failed.source.buildContextPath : "",
          image: undefined,
          finishedAt: NOW,
          supersededAt: NOW, // runningReady's READY (the second newer one)
          artifactsRemovedAt: undefined,
          isLive: false,
          trafficRoutes: 0,
          activeInstances: 0,
          newerReadyInEnvironment: 5,
        });
        expect(of(pinnedTarget)).toMatchObject({ isLive: true, trafficRoutes: 2 });
        expect(of(runningReady)).toMatchObject({ activeInstances: 1, trafficRoutes: 0 });
        expect(of(previousReady)).toMatchObject({
          newerReadyInEnvironment: 1,
          supersededAt: undefined,
        });
        expect(of(latestReady)).toMatchObject({ newerReadyInEnvironment: 0, trafficRoutes: 1 });
        // Newer READY are counted per environment, and supersededAt is when the second newer
        // one became READY.
        expect(of(previewServedLong)).toMatchObject({
          newerReadyInEnvironment: 2,
          finishedAt: NOW - 300 * DAY_MS,
          supersededAt: LATER - DAY_MS,
        });

        const decisions = Object.fromEntries(
          all.map((d) => {
            const decision = decideRetention(of(d), POLICY);
            return [d.id, decision._tag === "Remove" ? "remove" : decision.reason];
          }),
        );
        expect(decisions).toStrictEqual({
          [failed.id]: "remove",
          [cancelled.id]: "remove",
          [superseded.id]: "remove",
          [pinnedTarget.id]: "live",
          [oldReady.id]: "remove",
          [runningReady.id]: "instances-active",
          [previousReady.id]: "previous-ready",
          [latestReady.id]: "latest-ready",
          [previewServedLong.id]: "within-period",
          [previewPrevious.id]: "previous-ready",
          [previewLatest.id]: "latest-ready",
          [recent.id]: "within-period",
          [building.id]: "in-progress",
          [prebuilt.id]: "prebuilt-image",
        });

        // The query selects exactly what the rule removes: kept deployments are never listed.
        const listed = yield* retention.listCandidates({
          unneededBefore: POLICY.now - POLICY.periodMs,
          afterId: "",
          limit: 1000,
        });
        expect(listed.filter((f) => f.projectId === tenant.project.id)).toStrictEqual(
          [failed, cancelled, superseded, oldReady].map(of),
        );
      }),
    );
  });

  it("finds which stored context keys some deployment references (orphans are the rest)", async () => {
    await run(
      Effect.gen(function* () {
        const retention = yield* RetentionRepository;
        const tenant = yield* createTenant();
        const failed = yield* built(tenant, "FAILED", NOW);
        const pending = yield* built(tenant, "PENDING", NOW);
        const keyOf = (d: Deployment) =>
          d.source._tag === "BuildContext" ? d.source.buildContextPath : "";
        const orphan = `projects/${tenant.project.id}/contexts/orphan.tar.gz`;
        yield* retention.markArtifactsRemoved(failed.id, NOW);
        const referenced = yield* retention.referencedContextKeys([
          keyOf(failed),
          orphan,
          keyOf(pending),
        ]);
        // Whatever their status, even with artifacts removed.
        expect([...referenced].sort()).toStrictEqual([keyOf(failed), keyOf(pending)].sort());
        expect(yield* retention.referencedContextKeys([])).toStrictEqual([]);
      }),
    );
  });

  it("pages by id, marks once without touching updated_at, and counts who else uses a context", async () => {
    await run(
      Effect.gen(function* () {
        const retention = yield* RetentionRepository;
        const tenant = yield* createTenant();
        const key = `projects/${tenant.project.id}/contexts/shared.tar.gz`;
        const source = {
          _tag: "BuildContext" as const,
          buildContextPath: key,
          dockerfilePath: "Dockerfile",
        };
        const first = yield* built(tenant, "FAILED", NOW, { source });
        const second = yield* built(tenant, "FAILED", NOW, { source });
        const third = yield* built(tenant, "PENDING", NOW, { source });

        const page = (afterId: string) =>
          retention
            .listCandidates({ unneededBefore: LATER, afterId, limit: 1 })
            .pipe(Effect.map((rows) => rows.map((f) => f.id)));
        expect(yield* page("")).toHaveLength(1);
        expect(yield* page(first.id)).toStrictEqual([second.id]);

        expect(yield* retention.countContextHolders(key, first.id)).toBe(2);
        expect(yield* retention.markArtifactsRemoved(first.id, LATER)).toBe(true);
        expect(yield* retention.markArtifactsRemoved(first.id, LATER + 1)).toBe(false);
        expect(yield* retention.countContextHolders(key, second.id)).toBe(1); // the PENDING one
        expect(yield* retention.countContextHolders(key, third.id)).toBe(1); // second

        const marked = Option.getOrThrow(yield* retention.findFacts(first.id));
        expect(marked.artifactsRemovedAt).toBe(LATER);
        expect(marked.finishedAt).toBe(NOW);
        expect(decideRetention(marked, POLICY)).toStrictEqual({
          _tag: "Keep",
          reason: "already-removed",
        });
        const after = yield* retention.listCandidates({
          unneededBefore: LATER,
          afterId: "",
          limit: 1000,
        });
        expect(after.map((f) => f.id)).not.toContain(first.id);
        expect(after.map((f) => f.id)).toContain(second.id);
        expect(yield* retention.findFacts(newId("deployment"))).toStrictEqual(Option.none());
      }),
    );
  });
});
