/** The append-only event log: what happened to a deployment, in order, with a resume cursor. */
import { Context, type Effect, Schema } from "effect";
import { DeploymentId, EventId, ProjectId, WorkspaceId } from "../ids.ts";

export const DeploymentEvent = Schema.Struct({
  /** Position in the log: strictly increasing; clients resume after the last one they saw. */
  seq: Schema.BigIntFromSelf,
  id: EventId,
  workspaceId: WorkspaceId,
  projectId: ProjectId,
  deploymentId: Schema.optional(DeploymentId),
  /** e.g. `deployment.accepted`, `deployment.status`, `step.started`, `build.log`. */
  type: Schema.String,
  payload: Schema.Unknown,
  createdAt: Schema.Number,
});
export type DeploymentEvent = typeof DeploymentEvent.Type;

export class EventLog extends Context.Tag("@ferry/domain/EventLog")<
  EventLog,
  {
    /** Appends and returns the event with its sequence number. */
    readonly append: (event: Omit<DeploymentEvent, "seq">) => Effect.Effect<DeploymentEvent>;
    /** Events of a deployment with seq > `afterSeq`, oldest first. */
    readonly listForDeployment: (
      deploymentId: DeploymentId,
      afterSeq: bigint,
      limit: number,
    ) => Effect.Effect<ReadonlyArray<DeploymentEvent>>;
  }
>() {}
