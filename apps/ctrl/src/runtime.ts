/**
 * The one ManagedRuntime every RPC runs its use case on. Its layers (repositories on Prisma,
 * the SecretBox, the Platform from the configuration, Ids, build storage and its limits, and
 * the WorkflowEngine: Restate in production, the in-memory fake in tests) are the shared
 * composition of @ferry/deployment-service, which the embedded library runs too.
 */
export {
  type BaseLayerInput,
  type BaseServices,
  baseLayer,
  type LiveLayerInput,
  liveLayer,
  type RestateEndpoints,
  unavailableWorkflowEngine,
  type WorkflowEngineFactory,
} from "@ferry/deployment-service";

import type { DeploymentServices } from "@ferry/deployment-service";
import type { DomainError } from "@ferry/domain";
import { Effect, Exit, Layer, Logger, ManagedRuntime } from "effect";
import type { RequestMeta } from "./context.ts";
import { toConnectError } from "./errors.ts";
import { effectLogger, type Log } from "./log.ts";

/** Every service a ctrl use case may need: the shared composition's (@ferry/deployment-service). */
export type CtrlServices = DeploymentServices;

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
