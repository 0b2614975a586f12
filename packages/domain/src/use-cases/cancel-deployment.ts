/**
 * CancelDeployment: stop a deployment that has not reached a terminal status.
 *
 * - Looked up in the caller's workspace: another workspace's deployment is NotFound.
 * - READY, FAILED, SUPERSEDED: PreconditionFailed (a READY deployment leaves service by
 *   promoting or rolling back to another one). CANCELLED: success, nothing changes.
 * - PENDING with no workflow invocation recorded (the deploy was never queued, or the
 *   invocation id was never stored): marked CANCELLED here; a workflow that still picks it up
 *   finds it no longer PENDING and does nothing.
 * - Otherwise the engine cancels the invocation (durably: the workflow stops at its next step
 *   boundary and its compensation removes what it started and records CANCELLED). A deployment
 *   that was still PENDING is marked CANCELLED here at once, so it can never start.
 *
 * Every status write is a compare-and-set: when the deployment moved while we looked (the
 * workflow started it, a newer one superseded it) the decision is taken again on what it is now.
 */
import { Clock, Effect, Option } from "effect";
import {
  NotFound,
  PreconditionFailed,
  type ValidationError,
  type WorkflowUnavailable,
} from "../errors.ts";
import type { DeploymentId, WorkspaceId } from "../ids.ts";
import type { Deployment, DeploymentStatus } from "../model/deployment.ts";
import { DeploymentRepository } from "../ports/deployments.ts";
import { WorkflowEngine } from "../ports/workflow-engine.ts";
import { parseDeploymentId, requireDeployment } from "./lookups.ts";

export interface CancelDeploymentResult {
  readonly deploymentId: DeploymentId;
  /** Always CANCELLED: the cancellation is recorded, or durably under way in the workflow. */
  readonly status: "CANCELLED";
  /** False when the deployment was already CANCELLED. */
  readonly changed: boolean;
}

/** How many times the decision is retaken when the status moves under us (it moves forward only). */
const MAX_ATTEMPTS = 5;

const refuse = (deployment: Deployment) =>
  Effect.fail(
    new PreconditionFailed({
      reason:
        deployment.status === "READY"
          ? `deployment ${deployment.id} is READY and cannot be cancelled; take it out of service by promoting or rolling back to another deployment`
          : `deployment ${deployment.id} is already ${deployment.status} and cannot be cancelled`,
    }),
  );

export const cancelDeployment = (
  workspaceId: WorkspaceId,
  request: { readonly deploymentId: string },
): Effect.Effect<
  CancelDeploymentResult,
  ValidationError | NotFound | PreconditionFailed | WorkflowUnavailable,
  DeploymentRepository | WorkflowEngine
> =>
  Effect.gen(function* () {
    const id = yield* parseDeploymentId("deploymentId")(request.deploymentId);
    const deployments = yield* DeploymentRepository;
    const engine = yield* WorkflowEngine;
    const cancelled = (changed: boolean): CancelDeploymentResult => ({
      deploymentId: id,
      status: "CANCELLED",
      changed,
    });
    /** Compare-and-set to CANCELLED; None when the status was no longer `from`. */
    const markCancelled = (from: DeploymentStatus) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) =>
        deployments.updateStatus(id, { from: [from], to: "CANCELLED", at }),
      );

    let cancelledInvocation = false;
    let deployment = yield* requireDeployment(workspaceId, id);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      switch (deployment.status) {
        case "CANCELLED":
          return cancelled(cancelledInvocation);
        case "READY":
        case "FAILED":
        case "SUPERSEDED":
          return yield* refuse(deployment);
        default:
          break;
      }
      const invocationId = deployment.restateInvocationId;
      if (invocationId === undefined) {
        if (deployment.status !== "PENDING")
          return yield* Effect.fail(
            new PreconditionFailed({
              reason: `deployment ${id} is ${deployment.status} but its workflow invocation is unknown, so it cannot be cancelled`,
            }),
          );
      } else if (!cancelledInvocation) {
        yield* engine.cancel(invocationId);
        cancelledInvocation = true;
      }
      // Running (BUILDING, DEPLOYING, NETWORK): the workflow's compensation records CANCELLED.
      if (deployment.status !== "PENDING") return cancelled(true);
      const marked = yield* markCancelled("PENDING");
      if (Option.isSome(marked)) return cancelled(true);
      // It left PENDING meanwhile: decide again on what it is now.
      const current = yield* deployments.findById(workspaceId, id);
      if (Option.isNone(current))
        return yield* Effect.fail(new NotFound({ resource: "deployment", id }));
      deployment = current.value;
    }
    return yield* Effect.dieMessage(
      `deployment ${id} kept changing status while it was being cancelled`,
    );
  });
