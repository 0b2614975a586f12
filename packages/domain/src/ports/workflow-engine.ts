/**
 * The durable workflow engine (Restate in production). Every operation on a
 * project's deployments or traffic runs in the project's serialized
 * workflow, one at a time per project.
 */
import { Context, type Effect } from "effect";
import type { NotFound, PreconditionFailed, WorkflowUnavailable } from "../errors.ts";
import type { DeploymentId, ProjectId, WorkspaceId } from "../ids.ts";

/** The project's traffic after a promote or rollback. */
export interface TrafficResult {
  readonly liveDeploymentId: DeploymentId | undefined;
  readonly rolledBack: boolean;
  /** False when the request was already satisfied and nothing moved. */
  readonly changed: boolean;
}

/** What a cancel found: an invocation that is now being cancelled, or none to cancel. */
export type CancelOutcome = "cancelling" | "gone";

export interface ProjectOperation {
  readonly workspaceId: WorkspaceId;
  readonly projectId: ProjectId;
  /** Makes the call idempotent in the engine: a repeat returns the first result. */
  readonly idempotencyKey?: string;
}

export class WorkflowEngine extends Context.Tag("@ferry/domain/WorkflowEngine")<
  WorkflowEngine,
  {
    /**
     * Queues the deploy of a PENDING deployment (one-way; the deployment id is
     * the idempotency key, so a repeat starts nothing new). Returns the
     * engine's invocation id.
     */
    readonly startDeploy: (
      operation: ProjectOperation & { readonly deploymentId: DeploymentId },
    ) => Effect.Effect<{ readonly invocationId: string }, WorkflowUnavailable>;
    /** Runs a promote in the project's workflow and waits for its result. */
    readonly promote: (
      operation: ProjectOperation & { readonly targetDeploymentId: DeploymentId },
    ) => Effect.Effect<TrafficResult, PreconditionFailed | NotFound | WorkflowUnavailable>;
    /** Runs a rollback in the project's workflow and waits for its result. */
    readonly rollback: (
      operation: ProjectOperation & {
        readonly sourceDeploymentId: DeploymentId;
        readonly targetDeploymentId: DeploymentId;
      },
    ) => Effect.Effect<TrafficResult, PreconditionFailed | NotFound | WorkflowUnavailable>;
    /**
     * Cancels a running or queued invocation; its compensation cleans up. "gone" when the
     * engine no longer has it (it completed, was purged, or never existed): then no
     * compensation will run and nothing else records how the deployment ended.
     */
    readonly cancel: (invocationId: string) => Effect.Effect<CancelOutcome, WorkflowUnavailable>;
  }
>() {}
