/**
 * Runs instances of a deployment: a Docker Engine API (Docker or Podman) on
 * one machine, one engine or cluster per region at scale.
 */
import { Context, type Effect, Schema } from "effect";

/** Labels on every container Ferry starts; operators filter on them. */
export const CONTAINER_LABELS = {
  workspace: "ferry.workspace",
  project: "ferry.project",
  deployment: "ferry.deployment",
  region: "ferry.region",
} as const;

export class ContainerRuntimeError extends Schema.TaggedError<ContainerRuntimeError>()(
  "ContainerRuntimeError",
  {
    reason: Schema.String,
    /** False for failures that will not heal by retrying (image not found, invalid spec). */
    retryable: Schema.Boolean,
  },
) {
  override get message(): string {
    return this.reason;
  }
}

export interface InstanceSpec {
  readonly name: string;
  readonly image: string;
  readonly region: string;
  readonly containerPort: number;
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

export interface RunningInstance {
  readonly containerId: string;
  readonly host: string;
  readonly port: number;
  readonly state: "created" | "running" | "exited" | "unknown";
  readonly exitCode?: number;
}

export class ContainerRuntime extends Context.Tag("@ferry/domain/ContainerRuntime")<
  ContainerRuntime,
  {
    /** Creates and starts the container, publishing the port on an engine-chosen host port. */
    readonly start: (spec: InstanceSpec) => Effect.Effect<RunningInstance, ContainerRuntimeError>;
    readonly inspect: (
      containerId: string,
    ) => Effect.Effect<RunningInstance, ContainerRuntimeError>;
    /** Stops and removes; removing a container that is gone succeeds. */
    readonly remove: (containerId: string) => Effect.Effect<void, ContainerRuntimeError>;
    /**
     * Removes one image reference (a tag: other tags of the same image stay). An image that is
     * gone is "gone"; one a container still uses is refused, never forced.
     */
    readonly removeImage: (ref: string) => Effect.Effect<"removed" | "gone", ContainerRuntimeError>;
    readonly listByLabels: (
      labels: Readonly<Record<string, string>>,
    ) => Effect.Effect<
      ReadonlyArray<RunningInstance & { readonly labels: Readonly<Record<string, string>> }>,
      ContainerRuntimeError
    >;
  }
>() {}
