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
 * - When the engine no longer has the invocation (it ended or was purged) while the deployment
 *   is still non-terminal, no compensation will ever record its end: it is marked CANCELLED
 *   here and its running step ended CANCELLED, so the answer is true. hydra's reconcile then
 *   removes whatever containers it left, as for any CANCELLED deployment.
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

/** The error message of a deployment cancelled here, as the workflow's compensation words it. */
const CANCELLED_MESSAGE = "the deployment was cancelled";

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
        deployments.updateStatus(id, {
          from: [from],
          to: "CANCELLED",
          at,
          ...(from === "PENDING" ? {} : { errorMessage: CANCELLED_MESSAGE }),
        }),
      );
    /** Ends the steps a workflow that is gone left RUNNING, as its compensation would have. */
    const endRunningSteps = Effect.gen(function* () {
      const at = yield* Clock.currentTimeMillis;
      const steps = yield* deployments.listSteps(id);
      for (const step of steps.filter((s) => s.status === "RUNNING"))
        yield* deployments.finishStep({
          deploymentId: id,
          name: step.name,
          status: "CANCELLED",
          at,
          message: CANCELLED_MESSAGE,
        });
    });

    let cancelledInvocation = false;
    // The engine had no invocation to cancel: nothing but this call will record the end.
    let invocationGone = false;
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
        invocationGone = (yield* engine.cancel(invocationId)) === "gone";
        cancelledInvocation = true;
      }
      // Running (BUILDING, DEPLOYING, NETWORK) with its invocation being cancelled: the
      // workflow's compensation records CANCELLED.
      if (deployment.status !== "PENDING" && !invocationGone) return cancelled(true);
      // PENDING, or running on paper with no invocation left: compare-and-set on the status
      // read, so a workflow that moved it meanwhile (or recorded its end) wins.
      const marked = yield* markCancelled(deployment.status);
      if (Option.isSome(marked)) {
        if (deployment.status !== "PENDING") yield* endRunningSteps;
        return cancelled(true);
      }
      // It moved meanwhile: decide again on what it is now.
      const current = yield* deployments.findById(workspaceId, id);
      if (Option.isNone(current))
        return yield* Effect.fail(new NotFound({ resource: "deployment", id }));
      deployment = current.value;
    }
    return yield* Effect.dieMessage(
      `deployment ${id} kept changing status while it was being cancelled`,
    );
  });
