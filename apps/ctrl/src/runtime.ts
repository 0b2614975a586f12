/**
 * The one ManagedRuntime every RPC runs its use case on, and the layers it is
 * built from: repositories on Prisma, the SecretBox, the Platform from the
 * configuration, Ids, build storage and its limits, and the WorkflowEngine (Restate in
 * production, the in-memory fake in tests: the server never knows which).
 */
import type { PrismaClient } from "@ferry/db";
import { Db, RepositoriesLive } from "@ferry/db";
import {
  type ApiKeyRepository,
  BuildContextLimits,
  type BuildStorage,
  type DeploymentEventFeed,
  type DeploymentRepository,
  type DomainError,
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
import { Effect, Exit, Layer, Logger, ManagedRuntime } from "effect";
import type { RequestMeta } from "./context.ts";
import { toConnectError } from "./errors.ts";
import { effectLogger, type Log } from "./log.ts";

/** Every service a ctrl use case may need. */
export type CtrlServices =
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

export type CtrlRuntime = ManagedRuntime.ManagedRuntime<CtrlServices, never>;

/**
 * A runtime on `layer`, with Effect's own logs (`Effect.log*`) written as JSON
 * lines to `log`. The layer may provide more than ctrl needs (tests keep the
 * in-memory store and the workflow engine's controls on the same runtime).
 */
export const makeRuntime = <R = never>(
  layer: Layer.Layer<CtrlServices | R>,
  log: Log,
): ManagedRuntime.ManagedRuntime<CtrlServices | R, never> =>
  ManagedRuntime.make(Layer.merge(layer, Logger.replace(Logger.defaultLogger, effectLogger(log))));

/** Where the Restate ingress and admin APIs are, and how long a call may take. */
export interface RestateEndpoints {
  readonly ingressUrl: string;
  readonly adminUrl: string;
  readonly requestTimeoutMs: number;
}

/** Makes the WorkflowEngine from the Restate endpoints (the adapter is chosen by main.ts). */
export type WorkflowEngineFactory = (endpoints: RestateEndpoints) => Layer.Layer<WorkflowEngine>;

/**
 * A WorkflowEngine that refuses every call: what ctrl runs with when no
 * Restate adapter is wired. CreateDeployment then answers Unavailable and
 * records the deployment FAILED, as it does when Restate is down.
 */
export const unavailableWorkflowEngine = (reason: string): Layer.Layer<WorkflowEngine> =>
  Layer.succeed(WorkflowEngine, {
    startDeploy: () => Effect.fail(new WorkflowUnavailable({ reason })),
    promote: () => Effect.fail(new WorkflowUnavailable({ reason })),
    rollback: () => Effect.fail(new WorkflowUnavailable({ reason })),
    cancel: () => Effect.fail(new WorkflowUnavailable({ reason })),
  });

/** Everything but the workflow engine. */
export type BaseServices = Exclude<CtrlServices, WorkflowEngine>;

export interface BaseLayerInput {
  readonly prisma: PrismaClient;
  readonly platform: Platform["Type"];
  /** Key-ring text for the SecretBox. */
  readonly secretKeys: string;
  /** The configured adapter (build-storage.ts). */
  readonly buildStorage: Layer.Layer<BuildStorage>;
  readonly buildContextLimits: BuildContextLimits["Type"];
  /**
   * Wakes WatchDeployment streams: main.ts gives the notification-based feed
   * (@ferry/db startDeploymentEventFeed); without it, streams poll the event log every second.
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
export const liveLayer = (input: LiveLayerInput): Layer.Layer<CtrlServices> =>
  Layer.merge(baseLayer(input), input.workflowEngine);

/**
 * Runs a use case on the runtime: its value, or a ConnectError decided by
 * `toConnectError`. The run is NOT tied to the client's connection: a use
 * case that has stored something finishes its work (CreateDeployment starts
 * the workflow of the deployment it stored) even if the client goes away.
 */
export type EffectRunner = <A>(
  effect: Effect.Effect<A, DomainError, CtrlServices>,
  meta: RequestMeta,
) => Promise<A>;

export const makeRunner =
  (runtime: CtrlRuntime, log: Log): EffectRunner =>
  async (effect, meta) => {
    const exit = await runtime.runPromiseExit(
      effect.pipe(Effect.annotateLogs({ requestId: meta.requestId, procedure: meta.procedure })),
    );
    if (Exit.isSuccess(exit)) return exit.value;
    throw toConnectError(exit.cause, { ...meta, log });
  };
