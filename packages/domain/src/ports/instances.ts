/** The containers a deployment runs: one instance per region × replica, as recorded by the deploy workflow. */
import { Context, type Effect, Schema } from "effect";
import { DeploymentId, InstanceId } from "../ids.ts";

/**
 * STARTING: created and started, not yet healthy; RUNNING: answered its
 * health check; STOPPED: removed by Ferry (failure, cancel, cleanup);
 * FAILED: exited on its own.
 */
export const InstanceStatus = Schema.Literal("STARTING", "RUNNING", "STOPPED", "FAILED");
export type InstanceStatus = typeof InstanceStatus.Type;

export const Instance = Schema.Struct({
  id: InstanceId,
  deploymentId: DeploymentId,
  region: Schema.String,
  /** The engine's container id: unique, so recording the same container twice is one row. */
  containerId: Schema.String,
  /** Where the published port listens, e.g. 127.0.0.1. */
  host: Schema.String,
  /** The engine-chosen host port; absent when nothing is published (an exited container). */
  port: Schema.optional(Schema.Number),
  status: InstanceStatus,
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
});
export type Instance = typeof Instance.Type;

export class InstanceRepository extends Context.Tag("@ferry/domain/InstanceRepository")<
  InstanceRepository,
  {
    /**
     * Records an instance. Idempotent on the container: when a row for
     * `containerId` exists (a workflow step that ran twice), it is returned
     * unchanged and nothing is written.
     */
    readonly create: (instance: Instance) => Effect.Effect<Instance>;
    /** Ordered by region, then creation. */
    readonly listByDeployment: (
      deploymentId: DeploymentId,
    ) => Effect.Effect<ReadonlyArray<Instance>>;
    /**
     * Sets the status of the deployment's instances (only `ids` when given,
     * only those currently in `from` when given); returns how many changed.
     */
    readonly updateStatus: (change: {
      readonly deploymentId: DeploymentId;
      readonly to: InstanceStatus;
      readonly at: number;
      readonly ids?: ReadonlyArray<InstanceId>;
      readonly from?: ReadonlyArray<InstanceStatus>;
    }) => Effect.Effect<number>;
  }
>() {}
