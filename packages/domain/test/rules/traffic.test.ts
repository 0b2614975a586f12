import { describe, expect, it } from "@effect/vitest";
import { Either } from "effect";
import { PreconditionFailed } from "../../src/errors.ts";
import type { DeploymentStatus } from "../../src/model/deployment.ts";
import {
  branchHostname,
  deploymentHostname,
  environmentHostname,
  type HostnameContext,
  liveHostname,
} from "../../src/rules/hostnames.ts";
import {
  type DeploymentFacts,
  decidePromote,
  decideRollback,
  type ProjectTraffic,
  productionTrafficRoutes,
  type ReadyDeployment,
  routesForReadyDeployment,
  type TrafficDecision,
} from "../../src/rules/traffic.ts";

const PROJECT = "prj_01jdz8x4m3q7r2v5w9y0abcdef";
const OTHER_PROJECT = "prj_01jdz8x4m3q7r2v5w9y0zzzzzz";
const PRODUCTION = "env_01jdz8x4m3q7r2v5w9y0prod00";
const OTHER_PRODUCTION = "env_01jdz8x4m3q7r2v5w9y0prod11";
const PREVIEW = "env_01jdz8x4m3q7r2v5w9y0prev00";

const deployment = (id: string, overrides: Partial<DeploymentFacts> = {}): DeploymentFacts => ({
  id,
  projectId: PROJECT,
  environmentId: PRODUCTION,
  environmentKind: "PRODUCTION",
  status: "READY",
  ...overrides,
});

const OLD = deployment("dep_1old");
const LIVE = deployment("dep_2live");
const NEW = deployment("dep_3new");

const project = (liveDeploymentId: string | undefined, rolledBack = false): ProjectTraffic => ({
  projectId: PROJECT,
  liveDeploymentId,
  rolledBack,
});

const decided = (result: Either.Either<TrafficDecision, PreconditionFailed>): TrafficDecision => {
  if (Either.isLeft(result)) throw new Error(`refused: ${result.left.reason}`);
  return result.right;
};

const refused = (result: Either.Either<TrafficDecision, PreconditionFailed>): string => {
  if (Either.isRight(result)) throw new Error(`decided: ${JSON.stringify(result.right)}`);
  expect(result.left).toBeInstanceOf(PreconditionFailed);
  expect(result.left.message).toBe(result.left.reason);
  return result.left.reason;
};

describe("decidePromote", () => {
  it("switches to a READY production deployment that is not live, clearing the pin", () => {
    expect(decided(decidePromote(project("dep_2live"), NEW))).toEqual({
      _tag: "Switch",
      deploymentId: "dep_3new",
      rolledBack: false,
    });
    expect(decided(decidePromote(project("dep_2live", true), OLD))).toEqual({
      _tag: "Switch",
      deploymentId: "dep_1old",
      rolledBack: false,
    });
  });

  it("switches when the project has no live deployment yet", () => {
    expect(decided(decidePromote(project(undefined), NEW))).toEqual({
      _tag: "Switch",
      deploymentId: "dep_3new",
      rolledBack: false,
    });
  });

  it("changes nothing when the target is already live and unpinned (idempotent)", () => {
    expect(decided(decidePromote(project("dep_2live"), LIVE))).toEqual({
      _tag: "Unchanged",
      liveDeploymentId: "dep_2live",
      rolledBack: false,
    });
  });

  it("only clears the pin when the target is live and the project is pinned", () => {
    expect(decided(decidePromote(project("dep_2live", true), LIVE))).toEqual({
      _tag: "ClearPin",
      liveDeploymentId: "dep_2live",
    });
  });

  it.each([
    "PENDING",
    "BUILDING",
    "DEPLOYING",
    "NETWORK",
    "FAILED",
    "CANCELLED",
    "SUPERSEDED",
  ] as const)(
    "refuses a %s target, saying only READY can take traffic",
    (status: DeploymentStatus) => {
      expect(refused(decidePromote(project("dep_2live"), deployment("dep_x", { status })))).toBe(
        `target deployment dep_x is ${status}; only a READY deployment can take traffic`,
      );
    },
  );

  it("refuses a preview deployment", () => {
    const preview = deployment("dep_pr", { environmentKind: "PREVIEW", environmentId: PREVIEW });
    expect(refused(decidePromote(project("dep_2live"), preview))).toBe(
      "target deployment dep_pr is not a production deployment; only production deployments can be promoted or rolled back to",
    );
  });

  it("refuses another project's deployment", () => {
    const foreign = deployment("dep_f", { projectId: OTHER_PROJECT });
    expect(refused(decidePromote(project("dep_2live"), foreign))).toBe(
      "target deployment dep_f belongs to another project",
    );
  });

  it("checks the project before the environment and the status", () => {
    const everythingWrong = deployment("dep_f", {
      projectId: OTHER_PROJECT,
      environmentKind: "PREVIEW",
      status: "FAILED",
    });
    expect(refused(decidePromote(project("dep_2live"), everythingWrong))).toBe(
      "target deployment dep_f belongs to another project",
    );
  });
});

describe("decideRollback", () => {
  it("switches from the live source to an earlier READY deployment and pins", () => {
    expect(decided(decideRollback(project("dep_2live"), LIVE, OLD))).toEqual({
      _tag: "Switch",
      deploymentId: "dep_1old",
      rolledBack: true,
    });
  });

  it("rolls back again from an already pinned project", () => {
    expect(decided(decideRollback(project("dep_2live", true), LIVE, OLD))).toEqual({
      _tag: "Switch",
      deploymentId: "dep_1old",
      rolledBack: true,
    });
  });

  it("changes nothing on a repeat: the target is live and the project pinned", () => {
    expect(decided(decideRollback(project("dep_1old", true), LIVE, OLD))).toEqual({
      _tag: "Unchanged",
      liveDeploymentId: "dep_1old",
      rolledBack: true,
    });
  });

  it("refuses a target that is live but not pinned (not a repeat: the source is not live)", () => {
    expect(refused(decideRollback(project("dep_1old", false), LIVE, OLD))).toBe(
      "source deployment dep_2live is not live; the live deployment is dep_1old",
    );
  });

  it("refuses a target newer than the live source, pointing at Promote", () => {
    expect(refused(decideRollback(project("dep_2live"), LIVE, NEW))).toBe(
      "target dep_3new is newer than source dep_2live; a rollback goes back to an earlier deployment (use Promote to put a newer one live)",
    );
  });

  it("refuses the same deployment as source and target", () => {
    expect(refused(decideRollback(project("dep_2live"), LIVE, LIVE))).toBe(
      "source and target are the same deployment (dep_2live); pick another target",
    );
  });

  it("refuses a source that is not live, naming the live one", () => {
    expect(refused(decideRollback(project("dep_2live"), NEW, OLD))).toBe(
      "source deployment dep_3new is not live; the live deployment is dep_2live",
    );
  });

  it("refuses a source when the project has no live deployment", () => {
    expect(refused(decideRollback(project(undefined), NEW, OLD))).toBe(
      "source deployment dep_3new is not live; the project has no live deployment",
    );
  });

  it.each([
    "PENDING",
    "BUILDING",
    "DEPLOYING",
    "NETWORK",
    "FAILED",
    "CANCELLED",
    "SUPERSEDED",
  ] as const)("refuses a %s target", (status: DeploymentStatus) => {
    expect(
      refused(decideRollback(project("dep_2live"), LIVE, deployment("dep_x", { status }))),
    ).toBe(`target deployment dep_x is ${status}; only a READY deployment can take traffic`);
  });

  it("refuses source and target of different environments", () => {
    const otherEnvironment = deployment("dep_o", { environmentId: OTHER_PRODUCTION });
    expect(refused(decideRollback(project("dep_2live"), LIVE, otherEnvironment))).toBe(
      "source dep_2live and target dep_o belong to different environments",
    );
  });

  it("refuses a preview target and a preview source", () => {
    const preview = deployment("dep_pr", { environmentKind: "PREVIEW", environmentId: PREVIEW });
    expect(refused(decideRollback(project("dep_2live"), LIVE, preview))).toBe(
      "target deployment dep_pr is not a production deployment; only production deployments can be promoted or rolled back to",
    );
    expect(refused(decideRollback(project("dep_pr"), preview, OLD))).toBe(
      "source deployment dep_pr is not a production deployment; only production deployments can be promoted or rolled back to",
    );
  });

  it("refuses another project's source or target", () => {
    const foreign = deployment("dep_f", { projectId: OTHER_PROJECT });
    expect(refused(decideRollback(project("dep_2live"), LIVE, foreign))).toBe(
      "target deployment dep_f belongs to another project",
    );
    expect(refused(decideRollback(project("dep_f"), foreign, OLD))).toBe(
      "source deployment dep_f belongs to another project",
    );
  });

  it("does not report a repeat for a target of another project that happens to be live", () => {
    const foreign = deployment("dep_f", { projectId: OTHER_PROJECT });
    expect(refused(decideRollback(project("dep_f", true), LIVE, foreign))).toBe(
      "target deployment dep_f belongs to another project",
    );
  });
});

describe("promote after rollback", () => {
  it("undoes the rollback: promoting the rolled-back-from deployment switches back and unpins", () => {
    const afterRollback = decided(decideRollback(project("dep_2live"), LIVE, OLD));
    expect(afterRollback).toEqual({ _tag: "Switch", deploymentId: "dep_1old", rolledBack: true });
    expect(decided(decidePromote(project("dep_1old", true), LIVE))).toEqual({
      _tag: "Switch",
      deploymentId: "dep_2live",
      rolledBack: false,
    });
  });
});

describe("routesForReadyDeployment", () => {
  const context: HostnameContext = {
    apexDomain: "ferry.test",
    workspaceSlug: "acme",
    projectSlug: "web",
  };
  const ready = (overrides: Partial<ReadyDeployment> = {}): ReadyDeployment => ({
    id: "dep_01jdz8x4m3q7r2v5w9y0abcdef",
    environmentSlug: "production",
    environmentKind: "PRODUCTION",
    branch: "main",
    ...overrides,
  });
  const own = {
    hostname: deploymentHostname(context, "dep_01jdz8x4m3q7r2v5w9y0abcdef"),
    kind: "DEPLOYMENT",
  };
  const branch = { hostname: branchHostname(context, "main"), kind: "BRANCH" };

  it("production, unpinned: own, branch, environment and live; takes live traffic", () => {
    expect(routesForReadyDeployment(context, ready(), { rolledBack: false })).toEqual({
      routes: [
        own,
        branch,
        { hostname: "web--production--acme.ferry.test", kind: "ENVIRONMENT" },
        { hostname: "web--acme.ferry.test", kind: "LIVE" },
      ],
      takesLiveTraffic: true,
    });
  });

  it("production, pinned: own and branch only; does not take live traffic", () => {
    expect(routesForReadyDeployment(context, ready(), { rolledBack: true })).toEqual({
      routes: [own, branch],
      takesLiveTraffic: false,
    });
  });

  it.each([false, true])(
    "preview (pinned: %s): own, branch and its environment, never live",
    (rolledBack) => {
      const result = routesForReadyDeployment(
        context,
        ready({ environmentSlug: "preview", environmentKind: "PREVIEW" }),
        { rolledBack },
      );
      expect(result).toEqual({
        routes: [own, branch, { hostname: "web--preview--acme.ferry.test", kind: "ENVIRONMENT" }],
        takesLiveTraffic: false,
      });
      expect(result.routes.map((r) => r.hostname)).not.toContain(liveHostname(context));
    },
  );

  it.each([undefined, ""])("has no branch route without a branch (%j)", (missing) => {
    const { routes } = routesForReadyDeployment(context, ready({ branch: missing }), {
      rolledBack: false,
    });
    expect(routes.map((r) => r.kind)).toEqual(["DEPLOYMENT", "ENVIRONMENT", "LIVE"]);
  });

  it("routes a production deployment to the production traffic routes", () => {
    const { routes } = routesForReadyDeployment(context, ready(), { rolledBack: false });
    expect(routes.slice(2)).toEqual(productionTrafficRoutes(context, "production"));
  });
});

describe("productionTrafficRoutes", () => {
  it("are the production environment's hostname and the live one", () => {
    const context = { apexDomain: "ferry.test", workspaceSlug: "acme", projectSlug: "web" };
    expect(productionTrafficRoutes(context, "prod")).toEqual([
      { hostname: environmentHostname(context, "prod"), kind: "ENVIRONMENT" },
      { hostname: liveHostname(context), kind: "LIVE" },
    ]);
    expect(productionTrafficRoutes(context, "prod")[0]?.hostname).toBe(
      "web--prod--acme.ferry.test",
    );
  });
});
