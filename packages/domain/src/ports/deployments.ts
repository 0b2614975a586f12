/** Deployments, their steps and their environment snapshot. */
import { Context, type Effect, type Option, Schema } from "effect";
import type { DeploymentId, EnvironmentId, ProjectId, StepId, WorkspaceId } from "../ids.ts";
import type {
  Deployment,
  DeploymentStatus,
  DeploymentStep,
  SnapshotVariable,
  StepName,
  StepStatus,
} from "../model/deployment.ts";

/** Another deployment of the workspace already has this idempotency key (an internal signal, not a client error). */
export class IdempotencyKeyTaken extends Schema.TaggedError<IdempotencyKeyTaken>()(
  "IdempotencyKeyTaken",
  { idempotencyKey: Schema.String },
) {
  override get message(): string {
    return `idempotency key "${this.idempotencyKey}" is already used in this workspace`;
  }
}

export interface DeploymentQuery {
  readonly workspaceId: WorkspaceId;
  readonly projectId: ProjectId;
  readonly environmentId?: EnvironmentId;
  /** Any of these; empty or absent means every status. */
  readonly statuses?: ReadonlyArray<DeploymentStatus>;
  /** Only deployments of this git branch. */
  readonly branch?: string;
  readonly limit: number;
  /** Only deployments with an id strictly below this one: the next page, newest first. */
  readonly beforeId?: DeploymentId;
}

export interface StatusChange {
  /** The change applies only if the deployment is in one of these statuses (compare-and-set). */
  readonly from: ReadonlyArray<DeploymentStatus>;
  readonly to: DeploymentStatus;
  readonly at: number;
  readonly errorMessage?: string;
  readonly image?: string;
  /**
   * Frees the deployment's idempotency key, so that a retry with the same key
   * creates a new deployment. Used when the deploy workflow could not be
   * started: the client was told to retry, and the retry must not get back
   * this FAILED deployment.
   */
  readonly releaseIdempotencyKey?: boolean;
}

export class DeploymentRepository extends Context.Tag("@ferry/domain/DeploymentRepository")<
  DeploymentRepository,
  {
    /**
     * Stores a PENDING deployment and, in the same transaction, snapshots the
     * environment's variables into it (secrets stay sealed). Fails with
     * IdempotencyKeyTaken if its idempotency key is already used in the workspace.
     */
    readonly create: (deployment: Deployment) => Effect.Effect<Deployment, IdempotencyKeyTaken>;
    /** Scoped to the workspace: another workspace's deployment is None. */
    readonly findById: (
      workspaceId: WorkspaceId,
      id: DeploymentId,
    ) => Effect.Effect<Option.Option<Deployment>>;
    readonly findByIdempotencyKey: (
      workspaceId: WorkspaceId,
      key: string,
    ) => Effect.Effect<Option.Option<Deployment>>;
    /** Newest first. */
    readonly list: (query: DeploymentQuery) => Effect.Effect<ReadonlyArray<Deployment>>;
    readonly setInvocationId: (id: DeploymentId, invocationId: string) => Effect.Effect<void>;
    /** Compare-and-set: the updated deployment, or None when its status was not in `from`. */
    readonly updateStatus: (
      id: DeploymentId,
      change: StatusChange,
    ) => Effect.Effect<Option.Option<Deployment>>;
    /** The variables captured at creation. */
    readonly snapshot: (id: DeploymentId) => Effect.Effect<ReadonlyArray<SnapshotVariable>>;
    /**
     * Marks PENDING deployments of the same project, environment and branch
     * (no branch matches no branch) with an id below `newerThan` (created
     * earlier) SUPERSEDED; returns their ids.
     */
    readonly supersedeOlderPending: (input: {
      readonly projectId: ProjectId;
      readonly environmentId: EnvironmentId;
      readonly branch: string | undefined;
      readonly newerThan: DeploymentId;
      readonly at: number;
    }) => Effect.Effect<ReadonlyArray<DeploymentId>>;
    /** Ordered by start time. */
    readonly listSteps: (id: DeploymentId) => Effect.Effect<ReadonlyArray<DeploymentStep>>;
    /** Records a step as RUNNING; a second start of the same step changes nothing. */
    readonly startStep: (step: {
      readonly id: StepId;
      readonly deploymentId: DeploymentId;
      readonly name: StepName;
      readonly at: number;
    }) => Effect.Effect<void>;
    /** Ends a RUNNING step; ending an already ended step changes nothing. */
    readonly finishStep: (step: {
      readonly deploymentId: DeploymentId;
      readonly name: StepName;
      readonly status: Exclude<StepStatus, "RUNNING">;
      readonly at: number;
      readonly message?: string;
    }) => Effect.Effect<void>;
  }
>() {}
