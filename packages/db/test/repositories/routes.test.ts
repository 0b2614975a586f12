/** RouteRepository on Prisma keeps the port's promises: route moves and live traffic in one transaction. */
import {
  type Deployment,
  type PointRoutes,
  type Project,
  ProjectRepository,
  type Route,
  RouteRepository,
} from "@ferry/domain";
import { Effect, Option } from "effect";
import { describe, expect, it } from "vitest";
import { testDatabaseKinds } from "../../src/testing.ts";
import {
  createDeployment,
  createTenant,
  expectDefect,
  NOW,
  newId,
  type Tenant,
  uniqueSlug,
  useRepositories,
} from "./harness.ts";

/** Hostnames no other test uses. */
const host = (label: string) => `${label}.${uniqueSlug("t")}.ferry.test`;

const pointing = (
  tenant: Tenant,
  deployment: Deployment,
  routes: PointRoutes["routes"],
  at: number,
  extra: Partial<PointRoutes> = {},
): PointRoutes => ({
  workspaceId: tenant.workspace.id,
  projectId: tenant.project.id,
  environmentId: deployment.environmentId,
  deploymentId: deployment.id,
  routes,
  at,
  ...extra,
});

const currentProject = (tenant: Tenant) =>
  Effect.flatMap(ProjectRepository, (projects) =>
    projects.findById(tenant.workspace.id, tenant.project.id),
  ).pipe(Effect.map(Option.getOrThrow));

describe.each(testDatabaseKinds())("RouteRepository on %s", (kind) => {
  const { run, exit } = useRepositories(kind);

  it("point creates routes (in the order given) and leaves the project alone without liveTraffic", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const v1 = yield* createDeployment(tenant);
        const routes = yield* RouteRepository;
        const own = host("v1");
        const env = host("env");
        const pointed = yield* routes.point(
          pointing(
            tenant,
            v1,
            [
              { hostname: own, kind: "DEPLOYMENT" },
              { hostname: env, kind: "ENVIRONMENT" },
            ],
            NOW + 1,
          ),
        );
        const expected = (hostname: string, kind: Route["kind"]) => ({
          workspaceId: tenant.workspace.id,
          projectId: tenant.project.id,
          environmentId: tenant.production.id,
          deploymentId: v1.id,
          hostname,
          kind,
          createdAt: NOW + 1,
          updatedAt: NOW + 1,
        });
        expect(pointed.map(({ id: _, ...route }) => route)).toStrictEqual([
          expected(own, "DEPLOYMENT"),
          expected(env, "ENVIRONMENT"),
        ]);
        for (const route of pointed) expect(route.id).toMatch(/^rt_[0-9a-z]{26}$/);
        expect(new Set(pointed.map((r) => r.id)).size).toBe(2);
        expect(yield* routes.findByHostname(own)).toStrictEqual(Option.some(pointed[0]));
        expect(yield* routes.findByHostname(host("nowhere"))).toStrictEqual(Option.none());
        // No liveTraffic: the project's live deployment and pin do not change.
        expect(yield* currentProject(tenant)).toStrictEqual(tenant.project);
      }),
    );
  });

  it("point moves existing hostnames (keeping id and createdAt) to the deployment, its environment and the given kind", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const v1 = yield* createDeployment(tenant);
        const p1 = yield* createDeployment(tenant, {
          environmentId: tenant.preview.id,
          environmentSlug: "preview",
        });
        const routes = yield* RouteRepository;
        const own = host("v1");
        const shared = host("shared");
        const [ownRoute, sharedRoute] = yield* routes.point(
          pointing(
            tenant,
            v1,
            [
              { hostname: own, kind: "DEPLOYMENT" },
              { hostname: shared, kind: "BRANCH" },
            ],
            NOW,
          ),
        );
        const fresh = host("fresh");
        const moved = yield* routes.point(
          pointing(
            tenant,
            p1,
            [
              { hostname: shared, kind: "ENVIRONMENT" },
              { hostname: fresh, kind: "DEPLOYMENT" },
            ],
            NOW + 10,
          ),
        );
        expect(moved[0]).toStrictEqual({
          ...sharedRoute,
          environmentId: tenant.preview.id,
          deploymentId: p1.id,
          kind: "ENVIRONMENT",
          updatedAt: NOW + 10,
        });
        expect(moved[1]).toMatchObject({
          hostname: fresh,
          deploymentId: p1.id,
          createdAt: NOW + 10,
        });
        // The hostname not named stays where it was.
        expect(yield* routes.findByHostname(own)).toStrictEqual(Option.some(ownRoute));
        expect(yield* routes.findByHostname(shared)).toStrictEqual(Option.some(moved[0]));
        expect((yield* routes.listByDeployment(v1.id)).map((r) => r.hostname)).toStrictEqual([own]);
        expect((yield* routes.listByDeployment(p1.id)).map((r) => r.hostname)).toStrictEqual([
          fresh,
          shared,
        ]);
      }),
    );
  });

  it("point with liveTraffic sets the project's live deployment and pin with the routes", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const v1 = yield* createDeployment(tenant);
        const v2 = yield* createDeployment(tenant);
        const routes = yield* RouteRepository;
        const live = host("live");
        yield* routes.point(
          pointing(tenant, v1, [{ hostname: live, kind: "LIVE" }], NOW + 1, {
            liveTraffic: { rolledBack: false },
          }),
        );
        const expected: Project = {
          ...tenant.project,
          liveDeploymentId: v1.id,
          rolledBack: false,
          updatedAt: NOW + 1,
        };
        expect(yield* currentProject(tenant)).toStrictEqual(expected);

        yield* routes.point(
          pointing(tenant, v2, [{ hostname: live, kind: "LIVE" }], NOW + 2, {
            liveTraffic: { rolledBack: false },
          }),
        );
        // A rollback: back to v1, pinned.
        yield* routes.point(
          pointing(tenant, v1, [{ hostname: live, kind: "LIVE" }], NOW + 3, {
            liveTraffic: { rolledBack: true },
          }),
        );
        expect(yield* currentProject(tenant)).toStrictEqual({
          ...expected,
          rolledBack: true,
          updatedAt: NOW + 3,
        });
        expect(
          Option.map(yield* routes.findByHostname(live), (r) => [r.deploymentId, r.updatedAt]),
        ).toStrictEqual(Option.some([v1.id, NOW + 3]));
      }),
    );
  });

  it("point refuses a hostname of another project (a defect) and then changes nothing at all", async () => {
    const { tenant, stranger, v1, v2, before, strangerRoute } = await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        // Same workspace, another project: still never taken over.
        const stranger = yield* createTenant(tenant.workspace);
        const v1 = yield* createDeployment(tenant);
        const v2 = yield* createDeployment(tenant);
        const s1 = yield* createDeployment(stranger);
        const routes = yield* RouteRepository;
        const before = yield* routes.point(
          pointing(tenant, v1, [{ hostname: host("live"), kind: "LIVE" }], NOW, {
            liveTraffic: { rolledBack: false },
          }),
        );
        const [strangerRoute] = yield* routes.point(
          pointing(stranger, s1, [{ hostname: host("theirs"), kind: "DEPLOYMENT" }], NOW),
        );
        return { tenant, stranger, v1, v2, before, strangerRoute };
      }),
    );
    if (strangerRoute === undefined || before[0] === undefined) throw new Error("no route");
    const projectBefore = await run(currentProject(tenant));
    const created = host("v2");
    const result = await exit(
      Effect.flatMap(RouteRepository, (routes) =>
        routes.point(
          pointing(
            tenant,
            v2,
            [
              // Written first, then rolled back by the failure on the third hostname.
              { hostname: created, kind: "DEPLOYMENT" },
              { hostname: before[0]?.hostname ?? "", kind: "LIVE" },
              { hostname: strangerRoute.hostname, kind: "BRANCH" },
            ],
            NOW + 5,
            { liveTraffic: { rolledBack: false } },
          ),
        ),
      ),
    );
    expectDefect(result);
    await run(
      Effect.gen(function* () {
        const routes = yield* RouteRepository;
        expect(yield* routes.findByHostname(created)).toStrictEqual(Option.none());
        expect(yield* routes.listByProject(tenant.project.id)).toStrictEqual(before);
        expect(yield* routes.listByDeployment(v2.id)).toStrictEqual([]);
        expect(yield* routes.listByProject(stranger.project.id)).toStrictEqual([strangerRoute]);
        expect(yield* currentProject(tenant)).toStrictEqual(projectBefore);
        expect(projectBefore.liveDeploymentId).toBe(v1.id);
      }),
    );
  });

  it("setPin sets only the pin (and updatedAt); an unknown project changes nothing", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const v1 = yield* createDeployment(tenant);
        const routes = yield* RouteRepository;
        const pointed = yield* routes.point(
          pointing(tenant, v1, [{ hostname: host("live"), kind: "LIVE" }], NOW + 1, {
            liveTraffic: { rolledBack: false },
          }),
        );
        yield* routes.setPin(tenant.project.id, true, NOW + 5);
        const pinned: Project = {
          ...tenant.project,
          liveDeploymentId: v1.id,
          rolledBack: true,
          updatedAt: NOW + 5,
        };
        expect(yield* currentProject(tenant)).toStrictEqual(pinned);
        yield* routes.setPin(tenant.project.id, false, NOW + 6);
        expect(yield* currentProject(tenant)).toStrictEqual({
          ...pinned,
          rolledBack: false,
          updatedAt: NOW + 6,
        });
        expect(yield* routes.listByProject(tenant.project.id)).toStrictEqual(pointed);
        yield* routes.setPin(newId("project"), true, NOW + 7);
        expect((yield* currentProject(tenant)).rolledBack).toBe(false);
      }),
    );
  });

  it("lists by deployment and by project ordered by kind (DEPLOYMENT, BRANCH, ENVIRONMENT, LIVE), then hostname", async () => {
    await run(
      Effect.gen(function* () {
        const tenant = yield* createTenant();
        const other = yield* createTenant(tenant.workspace);
        const v1 = yield* createDeployment(tenant);
        const v2 = yield* createDeployment(tenant);
        const o1 = yield* createDeployment(other);
        const routes = yield* RouteRepository;
        const suffix = uniqueSlug("order");
        const named = (label: string) => `${label}.${suffix}.ferry.test`;
        // Alphabetical order is the reverse of kind order, so only a sort by kind passes.
        yield* routes.point(
          pointing(
            tenant,
            v1,
            [
              { hostname: named("a-live"), kind: "LIVE" },
              { hostname: named("b-env"), kind: "ENVIRONMENT" },
              { hostname: named("c-branch"), kind: "BRANCH" },
              { hostname: named("e-dep"), kind: "DEPLOYMENT" },
              { hostname: named("d-dep"), kind: "DEPLOYMENT" },
            ],
            NOW,
          ),
        );
        yield* routes.point(
          pointing(tenant, v2, [{ hostname: named("0-dep"), kind: "DEPLOYMENT" }], NOW),
        );
        yield* routes.point(
          pointing(other, o1, [{ hostname: named("1-dep"), kind: "DEPLOYMENT" }], NOW),
        );
        const hostnames = (list: ReadonlyArray<Route>) => list.map((r) => r.hostname);
        expect(hostnames(yield* routes.listByDeployment(v1.id))).toStrictEqual(
          ["d-dep", "e-dep", "c-branch", "b-env", "a-live"].map(named),
        );
        expect(hostnames(yield* routes.listByProject(tenant.project.id))).toStrictEqual(
          ["0-dep", "d-dep", "e-dep", "c-branch", "b-env", "a-live"].map(named),
        );
        expect(hostnames(yield* routes.listByProject(other.project.id))).toStrictEqual([
          named("1-dep"),
        ]);
        expect(yield* routes.listByDeployment(newId("deployment"))).toStrictEqual([]);
        expect(yield* routes.listByProject(newId("project"))).toStrictEqual([]);
      }),
    );
  });
});
