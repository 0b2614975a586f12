/**
 * The `project` virtual object (contract: @ferry/restate/contract), keyed by
 * project id. Its handlers are exclusive and short: Restate runs one promote,
 * rollback or activate of a project at a time, and every decision is taken on
 * state read inside the handler (a deployment may have become READY, or
 * another operation may have moved traffic, while the call waited in the queue).
 */
import {
  applyPromote,
  applyRollback,
  type NotFound,
  type PreconditionFailed,
  type TrafficResult,
} from "@ferry/domain";
import type {
  ActivateOutcome,
  ActivateRequest,
  PromoteRequest,
  RollbackRequest,
  TrafficOutcome,
} from "@ferry/restate/contract";
import { PROJECT_OBJECT } from "@ferry/restate/contract";
import * as restate from "@restatedev/restate-sdk";
import { Effect } from "effect";
import { loadDeployment, pointRoutes } from "../deploy/steps.ts";
import { InFlight, makeDurable, POLICIES } from "./durable.ts";
import {
  badRequest,
  type ObjectDeps,
  parseDeploymentId,
  parseProjectId,
  parseWorkspaceId,
} from "./requests.ts";

// ---------------------------------------------------------------------------
// activate: a healthy deployment takes its routes

/**
 * Called by the deploy workflow once the deployment's instances are healthy
 * (status NETWORK). Re-reads the deployment (a cancel may have ended it) and
 * the project's pin here, then switches the routes in one transaction.
 * Tracked under the deployment id, so a cancelled deploy's compensation waits
 * for a switch still running before it checks whether it committed.
 */
async function activate(
  ctx: restate.ObjectContext,
  deps: ObjectDeps,
  inFlight: InFlight,
  request: ActivateRequest,
): Promise<ActivateOutcome> {
  const deploymentId = parseDeploymentId(request?.deploymentId);
  const workspaceId = parseWorkspaceId(request?.workspaceId);
  if (deploymentId === undefined || workspaceId === undefined)
    throw badRequest("activate needs a well-formed workspaceId and deploymentId");
  const durable = makeDurable(ctx, deps.runtime, inFlight, deploymentId);
  const loaded = await durable.run(
    "load deployment",
    loadDeployment(workspaceId, deploymentId),
    POLICIES.db,
  );
  if (!loaded.found) return { ok: false, reason: `deployment ${deploymentId} no longer exists` };
  if (loaded.plan.projectId !== ctx.key)
    throw badRequest(`deployment ${deploymentId} belongs to project ${loaded.plan.projectId}`);
  if (loaded.plan.status !== "NETWORK" && loaded.plan.status !== "READY")
    return {
      ok: false,
      reason: `deployment became ${loaded.plan.status} before it could take its routes`,
    };
  const pointed = await durable.run("switch routes", pointRoutes(loaded.plan), POLICIES.db);
  deps.logger.info("routes switched", {
    projectId: ctx.key,
    deploymentId,
    takesLiveTraffic: pointed.takesLiveTraffic,
    pinned: pointed.pinned,
  });
  return { ok: true, ...pointed };
}

// ---------------------------------------------------------------------------
// promote / rollback

const trafficOk = (result: TrafficResult): TrafficOutcome => ({
  ok: true,
  result: {
    liveDeploymentId: result.liveDeploymentId ?? null,
    rolledBack: result.rolledBack,
    changed: result.changed,
  },
});

const refusal = (error: NotFound | PreconditionFailed): TrafficOutcome =>
  error._tag === "NotFound"
    ? { ok: false, refusal: { _tag: "NotFound", resource: error.resource, id: error.id } }
    : { ok: false, refusal: { _tag: "PreconditionFailed", reason: error.reason } };

const notFound = (resource: string, id: unknown): TrafficOutcome => ({
  ok: false,
  refusal: { _tag: "NotFound", resource, id: typeof id === "string" ? id : String(id) },
});

async function promote(
  ctx: restate.ObjectContext,
  deps: ObjectDeps,
  inFlight: InFlight,
  request: PromoteRequest,
): Promise<TrafficOutcome> {
  const workspaceId = parseWorkspaceId(request?.workspaceId);
  const projectId = parseProjectId(ctx.key);
  const targetId = parseDeploymentId(request?.targetDeploymentId);
  if (workspaceId === undefined || projectId === undefined) return notFound("project", ctx.key);
  if (targetId === undefined) return notFound("deployment", request?.targetDeploymentId);
  const durable = makeDurable(ctx, deps.runtime, inFlight, undefined);
  const outcome = await durable.run(
    "promote",
    applyPromote({ workspaceId, projectId }, targetId).pipe(
      Effect.map(trafficOk),
      Effect.catchTags({
        NotFound: (e) => Effect.succeed(refusal(e)),
        PreconditionFailed: (e) => Effect.succeed(refusal(e)),
      }),
    ),
    POLICIES.db,
  );
  deps.logger.info("promote ended", { projectId, targetDeploymentId: targetId, outcome });
  return outcome;
}

async function rollback(
  ctx: restate.ObjectContext,
  deps: ObjectDeps,
  inFlight: InFlight,
  request: RollbackRequest,
): Promise<TrafficOutcome> {
  const workspaceId = parseWorkspaceId(request?.workspaceId);
  const projectId = parseProjectId(ctx.key);
  const sourceId = parseDeploymentId(request?.sourceDeploymentId);
  const targetId = parseDeploymentId(request?.targetDeploymentId);
  if (workspaceId === undefined || projectId === undefined) return notFound("project", ctx.key);
  if (sourceId === undefined) return notFound("deployment", request?.sourceDeploymentId);
  if (targetId === undefined) return notFound("deployment", request?.targetDeploymentId);
  const durable = makeDurable(ctx, deps.runtime, inFlight, undefined);
  const outcome = await durable.run(
    "rollback",
    applyRollback({ workspaceId, projectId }, sourceId, targetId).pipe(
      Effect.map(trafficOk),
      Effect.catchTags({
        NotFound: (e) => Effect.succeed(refusal(e)),
        PreconditionFailed: (e) => Effect.succeed(refusal(e)),
      }),
    ),
    POLICIES.db,
  );
  deps.logger.info("rollback ended", {
    projectId,
    sourceDeploymentId: sourceId,
    targetDeploymentId: targetId,
    outcome,
  });
  return outcome;
}

// ---------------------------------------------------------------------------

/** The `project` virtual object, bound to hydra's runtime. */
export const makeProjectObject = (deps: ObjectDeps, inFlight: InFlight = new InFlight()) =>
  restate.object({
    name: PROJECT_OBJECT,
    description: "One project's routing: promote, rollback and activation, one at a time.",
    handlers: {
      promote: async (
        ctx: restate.ObjectContext,
        request: PromoteRequest,
      ): Promise<TrafficOutcome> => promote(ctx, deps, inFlight, request),
      rollback: async (
        ctx: restate.ObjectContext,
        request: RollbackRequest,
      ): Promise<TrafficOutcome> => rollback(ctx, deps, inFlight, request),
      activate: async (
        ctx: restate.ObjectContext,
        request: ActivateRequest,
      ): Promise<ActivateOutcome> => activate(ctx, deps, inFlight, request),
    },
  });

/** The object's type, for typed clients (`ctx.objectClient<ProjectObject>({ name: "project" }, key)`). */
export type ProjectObject = ReturnType<typeof makeProjectObject>;
