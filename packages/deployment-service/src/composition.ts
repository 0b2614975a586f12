/**
 * THE composition of Ferry's deployment service: the domain's use cases need these services, and
 * this module is the one place that builds them from adapters (Prisma repositories, the
 * SecretBox, build storage and its limits, the Platform, Ids, the event feed and the
 * WorkflowEngine). ctrl serves it over Connect; createDeploymentService runs it in-process.
 */
import type { PrismaClient } from "@ferry/db";
import { Db, RepositoriesLive } from "@ferry/db";
import {
  type ApiKeyRepository,
  BuildContextLimits,
  type BuildStorage,
  type DeploymentEventFeed,
  type DeploymentRepository,
  type EnvironmentRepository,
  type EnvironmentVariableRepository,
  type EventLog,
  Ids,
  Platform,
  type ProjectRepository,
  pollingDeploymentEventFeed,
  type RouteRepository,
  type SecretBox,
  WorkflowEngine,
  WorkflowUnavailable,
  type WorkspaceRepository,
} from "@ferry/domain";
import { layer as secretBoxLayer } from "@ferry/secret-box";
import { Effect, Layer } from "effect";

/** Every service a use case of the deployment service may need. */
export type DeploymentServices =
  | WorkspaceRepository
  | ApiKeyRepository
  | ProjectRepository
  | EnvironmentRepository
  | EnvironmentVariableRepository
  | DeploymentRepository
  | RouteRepository
  | EventLog
  | DeploymentEventFeed
  | BuildStorage
  | BuildContextLimits
  | SecretBox
  | Platform
  | Ids
  | WorkflowEngine;

/** Where the Restate ingress and admin APIs are, and how long a call may take. */
export interface RestateEndpoints {
  readonly ingressUrl: string;
  readonly adminUrl: string;
  /**
   * Deadline of one call to Restate, retries included. Promote and Rollback wait this long at
   * most for their turn in the project's queue (behind a running deploy) and their answer.
   */
  readonly requestTimeoutMs: number;
}

/** Makes the WorkflowEngine from the Restate endpoints (the adapter is chosen by the caller). */
export type WorkflowEngineFactory = (endpoints: RestateEndpoints) => Layer.Layer<WorkflowEngine>;

/**
 * A WorkflowEngine that refuses every call: what runs when no Restate adapter is wired.
 * CreateDeployment then answers WorkflowUnavailable and records the deployment FAILED, as it
 * does when Restate is down.
 */
export const unavailableWorkflowEngine = (reason: string): Layer.Layer<WorkflowEngine> =>
  Layer.succeed(WorkflowEngine, {
    startDeploy: () => Effect.fail(new WorkflowUnavailable({ reason })),
    promote: () => Effect.fail(new WorkflowUnavailable({ reason })),
    rollback: () => Effect.fail(new WorkflowUnavailable({ reason })),
    cancel: () => Effect.fail(new WorkflowUnavailable({ reason })),
  });

/** Everything but the workflow engine. */
export type BaseServices = Exclude<DeploymentServices, WorkflowEngine>;

export interface BaseLayerInput {
  readonly prisma: PrismaClient;
  readonly platform: Platform["Type"];
  /** Key-ring text for the SecretBox. */
  readonly secretKeys: string;
  /** The configured adapter (see wireBuildStorage). */
  readonly buildStorage: Layer.Layer<BuildStorage>;
  readonly buildContextLimits: BuildContextLimits["Type"];
  /**
   * Wakes deployment watchers: the notification-based feed (@ferry/db startDeploymentEventFeed);
   * without it, watchers poll the event log every second.
   */
  readonly eventFeed?: Layer.Layer<DeploymentEventFeed>;
}

/** Prisma repositories and the configured adapters: every service except the workflow engine. */
export const baseLayer = (input: BaseLayerInput): Layer.Layer<BaseServices> =>
  Layer.mergeAll(
    RepositoriesLive,
    secretBoxLayer(input.secretKeys),
    input.buildStorage,
    Layer.succeed(BuildContextLimits, input.buildContextLimits),
    Layer.succeed(Platform, input.platform),
    input.eventFeed ?? pollingDeploymentEventFeed(1_000),
  ).pipe(Layer.provideMerge(Layer.mergeAll(Layer.succeed(Db, input.prisma), Ids.layer)));

export interface LiveLayerInput extends BaseLayerInput {
  readonly workflowEngine: Layer.Layer<WorkflowEngine>;
}

/** The production layer: the base layer and the configured workflow engine. */
export const liveLayer = (input: LiveLayerInput): Layer.Layer<DeploymentServices> =>
  Layer.merge(baseLayer(input), input.workflowEngine);
