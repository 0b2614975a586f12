/**
 * RetentionRepository on Prisma: the candidate query returns exactly the facts decideRetention
 * needs (live, routes, running instances, the latest READY of an environment), pages by id, and
 * the mark is a compare-and-set that leaves updated_at alone.
 */
import {
  type Deployment,
  type DeploymentId,
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

  it("lists terminal build deployments with the facts the rule decides on", async () => {
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
        const latestReady = yield* built(tenant, "READY", NOW); // the environment's latest
        const previewReady = yield* built(tenant, "READY", NOW, {
          environmentId: tenant.preview.id,
          environmentSlug: tenant.preview.slug,
        });
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
        yield* routed(tenant, previewReady, ["DEPLOYMENT", "ENVIRONMENT"]);
        yield* instance(oldReady, "STOPPED");
        yield* instance(runningReady, "RUNNING");
        yield* instance(runningReady, "STOPPED");
        yield* instance(failed, "STOPPED");

        const listed = yield* retention.listCandidates({
          finishedBefore: LATER,
          afterId: "",
          limit: 100,
        });
        const mine = listed.filter((f) => f.projectId === tenant.project.id);
        // Not listed: in progress (PENDING) and the prebuilt image's deployment.
        expect(mine.map((f) => f.id)).toStrictEqual([
          failed.id,
          cancelled.id,
          superseded.id,
          pinnedTarget.id,
          oldReady.id,
          runningReady.id,
          latestReady.id,
          previewReady.id,
          recent.id,
        ]);
        expect(mine.map((f) => f.id)).not.toContain(building.id);
        const facts = (id: DeploymentId) => mine.find((f) => f.id === id) as RetentionFacts;
        expect(facts(failed.id)).toStrictEqual({
          id: failed.id,
          projectId: tenant.project.id,
          environmentId: tenant.production.id,
          status: "FAILED",
          source: "BUILD_CONTEXT",
          buildContextPath:
            failed.source._tag === "BuildContext" ? failed.source.buildContextPath : "",
          image: undefined,
          finishedAt: NOW,
          artifactsRemovedAt: undefined,
          isLive: false,
          trafficRoutes: 0,
          activeInstances: 0,
          newerReadyInEnvironment: true,
        });
        expect(facts(pinnedTarget.id)).toMatchObject({ isLive: true, trafficRoutes: 2 });
        expect(facts(runningReady.id)).toMatchObject({ activeInstances: 1, trafficRoutes: 0 });
        expect(facts(latestReady.id)).toMatchObject({
          newerReadyInEnvironment: false,
          trafficRoutes: 1,
        });
        // The latest READY is per environment: preview's only READY is its latest.
        expect(facts(previewReady.id)).toMatchObject({ newerReadyInEnvironment: false });

        const decisions = Object.fromEntries(
          mine.map((f) => {
            const decision = decideRetention(f, POLICY);
            return [f.id, decision._tag === "Remove" ? "remove" : decision.reason];
          }),
        );
        expect(decisions).toStrictEqual({
          [failed.id]: "remove",
          [cancelled.id]: "remove",
          [superseded.id]: "remove",
          [pinnedTarget.id]: "live",
          [oldReady.id]: "remove",
          [runningReady.id]: "instances-active",
          [latestReady.id]: "latest-ready",
          [previewReady.id]: "latest-ready",
          [recent.id]: "within-period",
        });

        // The period is applied by the query too: nothing that finished after `finishedBefore`.
        const early = yield* retention.listCandidates({
          finishedBefore: NOW + 1,
          afterId: "",
          limit: 100,
        });
        expect(early.map((f) => f.id)).not.toContain(recent.id);
        expect(early.map((f) => f.id)).toContain(failed.id);
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
            .listCandidates({ finishedBefore: LATER, afterId, limit: 1 })
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
          finishedBefore: LATER,
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
