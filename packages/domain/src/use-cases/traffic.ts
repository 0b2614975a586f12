/**
 * Promote and Rollback, in two halves:
 *
 * - `promote` / `rollback` run at the API edge: they resolve the ids in the
 *   caller's workspace (NotFound otherwise), refuse what can never succeed
 *   (facts that do not change: project, environment, source = target), then
 *   hand the operation to the project's serialized workflow and wait.
 * - `applyPromote` / `applyRollback` run INSIDE that serialized workflow: they
 *   re-read the state and decide on it (a deployment may have become READY,
 *   or another operation may have moved traffic, while the call waited in the
 *   queue), then switch every environment and live route in one transaction.
 */
import { Clock, Effect, Either, Schema } from "effect";
import {
  type NotFound,
  PreconditionFailed,
  type ValidationError,
  WorkflowUnavailable,
} from "../errors.ts";
import { type DeploymentId, newUlid, type ProjectId, type WorkspaceId } from "../ids.ts";
import type { Deployment } from "../model/deployment.ts";
import type { Environment, Project } from "../model/project.ts";
import type { DeploymentRepository } from "../ports/deployments.ts";
import { Platform } from "../ports/platform.ts";
import type { EnvironmentRepository, ProjectRepository } from "../ports/projects.ts";
import { RouteRepository } from "../ports/routes.ts";
import { type TrafficResult, WorkflowEngine } from "../ports/workflow-engine.ts";
import { WorkspaceRepository } from "../ports/workspaces.ts";
import {
  type DeploymentFacts,
  decidePromote,
  decideRollback,
  type ProjectTraffic,
  productionTrafficRoutes,
  type TrafficDecision,
} from "../rules/traffic.ts";
import { decodeRequest } from "../validation/decode.ts";
import { IdempotencyKey } from "../validation/idempotency-key.ts";
import {
  orNotFound,
  parseDeploymentId,
  requireDeployment,
  requireEnvironment,
  requireProject,
} from "./lookups.ts";

type Lookups = DeploymentRepository | ProjectRepository | EnvironmentRepository;

const facts = (deployment: Deployment, environment: Environment): DeploymentFacts => ({
  id: deployment.id,
  projectId: deployment.projectId,
  environmentId: deployment.environmentId,
  environmentKind: environment.kind,
  status: deployment.status,
});

const trafficOf = (project: Project): ProjectTraffic => ({
  projectId: project.id,
  liveDeploymentId: project.liveDeploymentId,
  rolledBack: project.rolledBack,
});

const loadDeployment = (workspaceId: WorkspaceId, id: DeploymentId) =>
  Effect.gen(function* () {
    const deployment = yield* requireDeployment(workspaceId, id);
    const environment = yield* requireEnvironment(workspaceId, deployment.environmentId);
    return { deployment, environment, facts: facts(deployment, environment) };
  });

/** An optional idempotency key; "" means none (proto3 default). */
const parseIdempotencyKey = (key: string | undefined) =>
  key === undefined || key === ""
    ? Effect.succeed(undefined)
    : decodeRequest(Schema.Struct({ idempotencyKey: IdempotencyKey }))({
        idempotencyKey: key,
      }).pipe(Effect.map((decoded) => decoded.idempotencyKey));

/** Generated keys start with this, so logs and clients can tell them from their own. */
export const GENERATED_IDEMPOTENCY_KEY_PREFIX = "ferry-";

/**
 * Runs a promote or rollback in the engine always with an idempotency key: the client's, or
 * one generated here. A call that waits in the project's queue past the engine's deadline
 * answers Unavailable although the operation still runs later; without a key a retry would
 * queue a second one. So the Unavailable answer carries the key (in its message, for every
 * client, and in `idempotencyKey`), and a retry with it attaches to the queued operation (or
 * starts it, when it was never queued).
 */
const withIdempotencyKey = <A, E>(
  clientKey: string | undefined,
  call: (idempotencyKey: string) => Effect.Effect<A, E | WorkflowUnavailable>,
): Effect.Effect<A, E | WorkflowUnavailable> =>
  Effect.gen(function* () {
    const idempotencyKey = clientKey ?? `${GENERATED_IDEMPOTENCY_KEY_PREFIX}${yield* newUlid}`;
    return yield* call(idempotencyKey).pipe(
      Effect.catchIf(
        (error): error is WorkflowUnavailable =>
          error instanceof WorkflowUnavailable && error.idempotencyKey === undefined,
        (error) =>
          Effect.fail(
            new WorkflowUnavailable({
              reason:
                clientKey === undefined
                  ? `${error.reason}; retry with idempotency_key=${idempotencyKey} to attach to the operation if it was queued, instead of queuing a second one`
                  : error.reason,
              idempotencyKey,
            }),
          ),
      ),
    );
  });

const refuseUnless = (condition: boolean, reason: string) =>
  condition ? Effect.void : Effect.fail(new PreconditionFailed({ reason }));

const refuseNonProduction = (role: string, deployment: DeploymentFacts) =>
  refuseUnless(
    deployment.environmentKind === "PRODUCTION",
    `${role} deployment ${deployment.id} is not a production deployment; only production deployments can be promoted or rolled back to`,
  );

export interface PromoteRequest {
  readonly targetDeploymentId: string;
  readonly idempotencyKey?: string;
}

export const promote = (
  workspaceId: WorkspaceId,
  request: PromoteRequest,
): Effect.Effect<
  TrafficResult,
  ValidationError | NotFound | PreconditionFailed | WorkflowUnavailable,
  Lookups | WorkflowEngine
> =>
  Effect.gen(function* () {
    const targetId = yield* parseDeploymentId("targetDeploymentId")(request.targetDeploymentId);
    const target = yield* loadDeployment(workspaceId, targetId);
    yield* refuseNonProduction("target", target.facts);
    const engine = yield* WorkflowEngine;
    return yield* withIdempotencyKey(
      yield* parseIdempotencyKey(request.idempotencyKey),
      (idempotencyKey) =>
        engine.promote({
          workspaceId,
          projectId: target.deployment.projectId,
          targetDeploymentId: targetId,
          idempotencyKey,
        }),
    );
  });

export interface RollbackRequest {
  readonly sourceDeploymentId: string;
  readonly targetDeploymentId: string;
  readonly idempotencyKey?: string;
}

export const rollback = (
  workspaceId: WorkspaceId,
  request: RollbackRequest,
): Effect.Effect<
  TrafficResult,
  ValidationError | NotFound | PreconditionFailed | WorkflowUnavailable,
  Lookups | WorkflowEngine
> =>
  Effect.gen(function* () {
    const sourceId = yield* parseDeploymentId("sourceDeploymentId")(request.sourceDeploymentId);
    const targetId = yield* parseDeploymentId("targetDeploymentId")(request.targetDeploymentId);
    const source = yield* loadDeployment(workspaceId, sourceId);
    const target = yield* loadDeployment(workspaceId, targetId);
    yield* refuseUnless(
      sourceId !== targetId,
      `source and target are the same deployment (${sourceId}); pick another target`,
    );
    yield* refuseUnless(
      source.deployment.projectId === target.deployment.projectId,
      `source ${sourceId} and target ${targetId} belong to different projects`,
    );
    yield* refuseUnless(
      source.deployment.environmentId === target.deployment.environmentId,
      `source ${sourceId} and target ${targetId} belong to different environments`,
    );
    yield* refuseNonProduction("source", source.facts);
    const engine = yield* WorkflowEngine;
    return yield* withIdempotencyKey(
      yield* parseIdempotencyKey(request.idempotencyKey),
      (idempotencyKey) =>
        engine.rollback({
          workspaceId,
          projectId: source.deployment.projectId,
          sourceDeploymentId: sourceId,
          targetDeploymentId: targetId,
          idempotencyKey,
        }),
    );
  });

export interface ApplyContext {
  readonly workspaceId: WorkspaceId;
  readonly projectId: ProjectId;
}

type ApplyRequirements = Lookups | RouteRepository | WorkspaceRepository | Platform;

/** Carries out a decision: one transaction for routes + live deployment + pin. */
const carryOut = (
  project: Project,
  productionEnvironment: Environment,
  decision: TrafficDecision,
): Effect.Effect<TrafficResult, NotFound, RouteRepository | WorkspaceRepository | Platform> =>
  Effect.gen(function* () {
    const routes = yield* RouteRepository;
    const at = yield* Clock.currentTimeMillis;
    switch (decision._tag) {
      case "Unchanged":
        return {
          liveDeploymentId: decision.liveDeploymentId as DeploymentId,
          rolledBack: decision.rolledBack,
          changed: false,
        };
      case "ClearPin":
        yield* routes.setPin(project.id, false, at);
        return {
          liveDeploymentId: decision.liveDeploymentId as DeploymentId,
          rolledBack: false,
          changed: true,
        };
      case "Switch": {
        const workspace = yield* (yield* WorkspaceRepository)
          .findById(project.workspaceId)
          .pipe(orNotFound("workspace", project.workspaceId));
        const platform = yield* Platform;
        yield* routes.point({
          workspaceId: project.workspaceId,
          projectId: project.id,
          environmentId: productionEnvironment.id,
          deploymentId: decision.deploymentId as DeploymentId,
          routes: productionTrafficRoutes(
            {
              apexDomain: platform.apexDomain,
              workspaceSlug: workspace.slug,
              projectSlug: project.slug,
            },
            productionEnvironment.slug,
          ),
          liveTraffic: { rolledBack: decision.rolledBack },
          at,
        });
        return {
          liveDeploymentId: decision.deploymentId as DeploymentId,
          rolledBack: decision.rolledBack,
          changed: true,
        };
      }
    }
  });

const fromEither = <A>(either: Either.Either<A, PreconditionFailed>) =>
  Either.isLeft(either) ? Effect.fail(either.left) : Effect.succeed(either.right);

/** Inside the project's serialized workflow: re-read, decide, switch. */
export const applyPromote = (
  context: ApplyContext,
  targetDeploymentId: DeploymentId,
): Effect.Effect<TrafficResult, NotFound | PreconditionFailed, ApplyRequirements> =>
  Effect.gen(function* () {
    const project = yield* requireProject(context.workspaceId, context.projectId);
    const target = yield* loadDeployment(context.workspaceId, targetDeploymentId);
    const decision = yield* fromEither(decidePromote(trafficOf(project), target.facts));
    return yield* carryOut(project, target.environment, decision);
  });

/** Inside the project's serialized workflow: re-read, decide, switch, pin. */
export const applyRollback = (
  context: ApplyContext,
  sourceDeploymentId: DeploymentId,
  targetDeploymentId: DeploymentId,
): Effect.Effect<TrafficResult, NotFound | PreconditionFailed, ApplyRequirements> =>
  Effect.gen(function* () {
    const project = yield* requireProject(context.workspaceId, context.projectId);
    const source = yield* loadDeployment(context.workspaceId, sourceDeploymentId);
    const target = yield* loadDeployment(context.workspaceId, targetDeploymentId);
    const decision = yield* fromEither(
      decideRollback(trafficOf(project), source.facts, target.facts),
    );
    return yield* carryOut(project, target.environment, decision);
  });
