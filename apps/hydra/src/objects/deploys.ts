/**
 * The `deploys` virtual object (contract: @ferry/restate/contract), keyed by
 * project id: a project's deploys run one at a time, in arrival order.
 *
 * deploy is a saga:
 *
 *   load ─ supersede older PENDING ─ (BUILDING: fetch context, build job, poll) ─ DEPLOYING: start instances ─ health ─ NETWORK: project.activate ─ READY
 *                                      (undo: stop the build job)                   (undo: remove)                       (the pivot)
 *
 * BUILDING runs only for a build context that has no image yet (deploy/build.ts).
 *
 * The route switch is not done here: it is a call to the `project` object's
 * exclusive `activate`, which re-reads the project's pin inside the queue that
 * promote and rollback use. So a rollback never waits for a deploy's health
 * checks (or build), and a deploy never undoes a rollback that happened while
 * it was starting.
 *
 * Before the route switch, a permanent failure or a cancellation runs the
 * compensations in reverse (remove every container the deployment started,
 * instances STOPPED, the running step and the status FAILED or CANCELLED),
 * then the invocation ends with the error, releasing the project's key.
 * Once the routes are switched the deployment serves traffic: it is too late
 * to undo, and the handler only finishes recording READY.
 */
import type { StepName } from "@ferry/domain";
import type { DeployOutcome, DeployRequest } from "@ferry/restate/contract";
import { DEPLOYS_OBJECT, PROJECT_OBJECT } from "@ferry/restate/contract";
import * as restate from "@restatedev/restate-sdk";
import { Effect } from "effect";
import {
  buildTimeoutMessage,
  checkContext,
  downloadContext,
  pollBuild,
  recordBuilt,
  removeContext,
  startBuild,
  stopBuild,
} from "../deploy/build.ts";
import {
  beginStep,
  containerName,
  containersOf,
  type DeployPlan,
  enterNetwork,
  loadDeployment,
  probeRound,
  recordEnd,
  recordReady,
  removeContainer,
  routesSwitched,
  type StartedInstance,
  startInstance,
  supersedeOlder,
} from "../deploy/steps.ts";
import { type Durable, InFlight, makeDurable, POLICIES, restateIds } from "./durable.ts";
import type { ProjectObject } from "./project.ts";
import {
  badRequest,
  isSuspended,
  type ObjectDeps,
  parseDeploymentId,
  parseWorkspaceId,
} from "./requests.ts";

/** How long compensation waits for closures that a cancellation left running. */
const SETTLE_TIMEOUT_MS = 30_000;
/** Backoff between health-check rounds. */
const HEALTH_BACKOFF = { initialMs: 250, maxMs: 5_000 } as const;
/** Backoff between build polls. */
const BUILD_BACKOFF = { initialMs: 500, maxMs: 5_000 } as const;

// ---------------------------------------------------------------------------
// deploy

interface Saga {
  /** The step that is running (to end it FAILED or CANCELLED). */
  step: StepName | null;
  /** Containers started, in start order (undone in reverse). */
  readonly started: StartedInstance[];
  /** The route switch has been asked for (it may have committed). */
  switching: boolean;
  /** A build job may have been started (compensation stops it). */
  building: boolean;
  /**
   * The build context may have been downloaded, whole or in part (compensation removes
   * `<contexts>/<id>.tar.gz` and its `.partial` files: a failed check or a cancel mid-download
   * would otherwise leave up to FERRY_UPLOAD_MAX_BYTES behind).
   */
  downloaded: boolean;
}

const failureMessage = (error: unknown): string => {
  if (error instanceof restate.TerminalError) return error.message;
  return `internal error in the deploy workflow: ${error instanceof Error ? error.message : String(error)}`;
};

const describeInstances = (
  instances: ReadonlyArray<StartedInstance>,
  regions: ReadonlyArray<string>,
) =>
  `${instances.length} instance${instances.length === 1 ? "" : "s"} healthy in ${regions.join(", ")}`;

/**
 * Polls every instance until it answers its health check (2xx or 3xx), with
 * durable sleeps between short probe rounds, until the project's timeout
 * (measured with ctx.date, so a replay measures the same). Throws a
 * TerminalError with the message a user acts on.
 */
async function waitUntilHealthy(
  ctx: restate.ObjectContext,
  durable: Durable,
  plan: DeployPlan,
  instances: ReadonlyArray<StartedInstance>,
): Promise<void> {
  const { healthCheckPath: path, healthCheckTimeoutSeconds, containerPort } = plan.settings;
  const timeoutMs = healthCheckTimeoutSeconds * 1000;
  const startedAt = await ctx.date.now();
  let pending = [...instances];
  let delay: number = HEALTH_BACKOFF.initialMs;
  let lastAnswer = "none";
  for (let round = 1; ; round++) {
    const results = await durable.run(
      `health check round ${round}`,
      probeRound(pending, path),
      POLICIES.probe,
    );
    for (const result of results) {
      if (result.state === "exited")
        throw new restate.TerminalError(
          result.exitCode === null
            ? "container exited during start"
            : `container exited with code ${result.exitCode} during start`,
        );
      if (result.state === "gone") {
        const name = instances.find((i) => i.instanceId === result.instanceId)?.name ?? "?";
        throw new restate.TerminalError(`container ${name} was removed during start`);
      }
    }
    const waiting = new Set(results.filter((r) => r.state === "waiting").map((r) => r.instanceId));
    const first = results.find((r) => r.state === "waiting");
    if (first !== undefined && first.state === "waiting") lastAnswer = first.answer;
    pending = pending.filter((instance) => waiting.has(instance.instanceId));
    if (pending.length === 0) return;
    const elapsed = (await ctx.date.now()) - startedAt;
    if (elapsed >= timeoutMs)
      throw new restate.TerminalError(
        `health check GET ${path} on port ${containerPort} timed out after ${healthCheckTimeoutSeconds} s (last answer: ${lastAnswer})`,
      );
    await ctx.sleep(Math.max(1, Math.min(delay, timeoutMs - elapsed)), "health check backoff");
    delay = Math.min(delay * 2, HEALTH_BACKOFF.maxMs);
  }
}

/**
 * BUILDING: download and check the build context, start the build job (idempotent by
 * deployment id), then poll it with durable sleeps between polls, moving its log into the
 * deployment's log, until it ends or the build timeout (measured with ctx.date) passes.
 * Returns the built image's tag, recorded on the deployment; throws a TerminalError with the
 * message a user acts on.
 */
async function build(
  ctx: restate.ObjectContext,
  durable: Durable,
  deps: ObjectDeps,
  plan: DeployPlan,
  saga: Saga,
): Promise<string> {
  const settings = deps.build;
  // Set before the run: a cancellation may leave the closure writing the file.
  saga.downloaded = true;
  await durable.run("download build context", downloadContext(plan, settings), POLICIES.download);
  const context = await durable.run(
    "check build context",
    checkContext(plan, settings),
    POLICIES.buildContext,
  );
  // Set before the run: a cancellation may leave the closure starting the job.
  saga.building = true;
  const started = await durable.run(
    "start build",
    startBuild(plan, settings, context),
    POLICIES.db,
  );
  if (started.secretArgs.length > 0)
    ctx.console.info(
      `build arguments named like secret variables are not passed: ${started.secretArgs.join(", ")}`,
    );
  const startedAt = await ctx.date.now();
  let offset = 0;
  let delay: number = BUILD_BACKOFF.initialMs;
  for (let poll = 1; ; poll++) {
    const elapsed = (await ctx.date.now()) - startedAt;
    if (elapsed >= settings.timeoutMs) {
      const message = buildTimeoutMessage(settings.timeoutMs);
      await durable.run(
        "stop build (timeout)",
        stopBuild(settings, plan.deploymentId, message),
        POLICIES.compensation,
      );
      throw new restate.TerminalError(message);
    }
    await ctx.sleep(Math.max(1, Math.min(delay, settings.timeoutMs - elapsed)), "build backoff");
    delay = Math.min(delay * 2, BUILD_BACKOFF.maxMs);
    const polled = await durable.run(
      `poll build ${poll}`,
      pollBuild(plan, settings, offset),
      POLICIES.db,
    );
    offset = polled.nextOffset;
    if (polled.lines > 0) delay = BUILD_BACKOFF.initialMs;
    if (polled.state === "failed")
      throw new restate.TerminalError(
        polled.timedOut ? buildTimeoutMessage(settings.timeoutMs) : polled.message,
      );
    if (polled.state === "unknown")
      throw new restate.TerminalError("the build job disappeared before it ended");
    if (polled.state === "succeeded") {
      const recorded = await durable.run(
        "record built image",
        recordBuilt(
          plan,
          started.tag,
          `built ${started.tag}${polled.imageId === null ? "" : ` (${polled.imageId.slice(0, 19)})`}`,
        ).pipe(
          // Best effort: retention removes a copy left behind.
          Effect.tap(() => Effect.ignore(removeContext(settings, plan.deploymentId))),
        ),
        POLICIES.db,
      );
      if (!recorded.ok)
        throw new restate.TerminalError(`deployment became ${recorded.status} while building`);
      return started.tag;
    }
  }
}

async function deploy(
  ctx: restate.ObjectContext,
  deps: ObjectDeps,
  inFlight: InFlight,
  request: DeployRequest,
): Promise<DeployOutcome> {
  const deploymentId = parseDeploymentId(request?.deploymentId);
  const workspaceId = parseWorkspaceId(request?.workspaceId);
  if (deploymentId === undefined || workspaceId === undefined)
    throw badRequest("deploy needs a well-formed workspaceId and deploymentId");
  const log = deps.logger.with({
    handler: "project/deploy",
    projectId: ctx.key,
    deploymentId,
    invocationId: ctx.request().id,
  });
  // Steps are tracked per deployment so that compensation can wait for closures a
  // cancellation interrupted; compensation itself is not tracked (it would wait for itself).
  const durable = makeDurable(ctx, deps.runtime, inFlight, deploymentId);
  const undo = makeDurable(ctx, deps.runtime, inFlight, undefined);

  const loaded = await durable.run(
    "load deployment",
    loadDeployment(workspaceId, deploymentId),
    POLICIES.db,
  );
  if (!loaded.found)
    throw new restate.TerminalError(
      `deployment ${deploymentId} not found in workspace ${workspaceId}`,
      { errorCode: 404 },
    );
  const plan = loaded.plan;
  if (plan.projectId !== ctx.key)
    throw badRequest(
      `deployment ${deploymentId} belongs to project ${plan.projectId}, not to ${ctx.key}`,
    );
  if (plan.status !== "PENDING") {
    ctx.console.info(`deployment is ${plan.status}, nothing to do`);
    return { deploymentId, status: plan.status, errorMessage: null };
  }

  const newest = await durable.run(
    "supersede older pending deployments",
    supersedeOlder(plan),
    POLICIES.db,
  );
  if (newest.by !== null) {
    log.info("deploy ended", { status: "SUPERSEDED", by: newest.by });
    return { deploymentId, status: "SUPERSEDED", errorMessage: null };
  }
  if (newest.superseded.length > 0) ctx.console.info(`superseded ${newest.superseded.join(", ")}`);

  // Ids made here, outside ctx.run, from the Restate context: the same on every replay.
  const ids = restateIds(ctx, await ctx.date.now());
  const newId = <K extends "step" | "instance">(kind: K) => Effect.runSync(ids.next(kind));

  const saga: Saga = {
    step: null,
    started: [],
    switching: false,
    building: false,
    downloaded: false,
  };
  let switched: { readonly hostnames: ReadonlyArray<{ readonly hostname: string }> } | undefined;
  try {
    let image = plan.image;
    if (image === null) {
      if (plan.buildContext === null)
        throw new restate.TerminalError("this deployment has neither an image nor a build context");
      // Set before the run: a cancel rejects the await while the closure may still commit the
      // step, and compensation must then end it (ending a step never started changes nothing).
      saga.step = "BUILDING";
      const building = await durable.run(
        "start step BUILDING",
        beginStep(plan, { id: newId("step"), name: "BUILDING" }, ["PENDING"], "BUILDING"),
        POLICIES.db,
      );
      if (!building.ok) {
        ctx.console.info(`deployment became ${building.status} before it started; nothing to do`);
        return { deploymentId, status: building.status, errorMessage: null };
      }
      image = await build(ctx, durable, deps, plan, saga);
    }

    saga.step = "DEPLOYING";
    const began = await durable.run(
      "start step DEPLOYING",
      beginStep(
        plan,
        { id: newId("step"), name: "DEPLOYING" },
        ["PENDING", "BUILDING"],
        "DEPLOYING",
      ),
      POLICIES.db,
    );
    if (!began.ok) {
      ctx.console.info(`deployment became ${began.status} before it started; nothing to do`);
      return { deploymentId, status: began.status, errorMessage: null };
    }

    for (const region of plan.regions) {
      for (let replica = 0; replica < plan.settings.replicasPerRegion; replica++) {
        const name = containerName(deploymentId, region, replica);
        const slot = { region, replica, instanceId: newId("instance"), name };
        const instance = await durable.run(
          `start instance ${name}`,
          startInstance(plan, image, slot, deps.instanceLabels),
          POLICIES.engine,
        );
        saga.started.push(instance);
      }
    }

    await waitUntilHealthy(ctx, durable, plan, saga.started);

    const network = await durable.run(
      "start step NETWORK",
      enterNetwork(plan, newId("step"), describeInstances(saga.started, plan.regions)),
      POLICIES.db,
    );
    if (!network.ok)
      throw new restate.TerminalError(`deployment became ${network.status} while deploying`);
    saga.step = "NETWORK";

    // The pivot: after this, the deployment serves traffic. The project's own queue decides
    // which routes it takes (the pin as it is now).
    saga.switching = true;
    const activated = await ctx
      .objectClient<ProjectObject>({ name: PROJECT_OBJECT }, plan.projectId)
      .activate({ workspaceId, deploymentId });
    if (!activated.ok) {
      saga.switching = false;
      throw new restate.TerminalError(activated.reason);
    }
    switched = activated;
  } catch (error) {
    if (isSuspended(error)) throw error;
    const cancelled = error instanceof restate.CancelledError;
    // An interrupted switch may have committed: then the deployment is live, and finishing is
    // the only safe way forward (a cancellation arriving now is too late).
    if (saga.switching) {
      const committed = await undo.run(
        "check whether the route switch committed",
        Effect.promise(() => inFlight.settle(deploymentId, SETTLE_TIMEOUT_MS)).pipe(
          Effect.zipRight(routesSwitched(deploymentId)),
        ),
        POLICIES.compensation,
      );
      if (committed) {
        ctx.console.warn(
          `${cancelled ? "cancellation" : "failure"} after the route switch committed; finishing the deploy`,
        );
        switched = { hostnames: [] };
      }
    }
    if (switched === undefined) {
      const end = cancelled ? "CANCELLED" : "FAILED";
      const message = cancelled
        ? `cancelled during ${saga.step ?? "PENDING"}`
        : failureMessage(error);
      await compensate(undo, inFlight, deps, plan, saga, { status: end, message });
      log.info("deploy ended", { status: end, errorMessage: message });
      if (error instanceof restate.TerminalError) throw error;
      throw new restate.TerminalError(message);
    }
  }

  // Routes are switched: record READY, patiently; a cancellation now is too late and ignored.
  const networkMessage =
    switched.hostnames.length === 0
      ? "routes switched"
      : `routes: ${switched.hostnames.map((h) => h.hostname).join(", ")}`;
  const readyStepId = newId("step");
  for (let attempt = 1; ; attempt++) {
    try {
      const ready = await durable.run(
        attempt === 1 ? "record READY" : `record READY (attempt ${attempt})`,
        recordReady(plan, readyStepId, networkMessage),
        POLICIES.afterSwitch,
      );
      log.info("deploy ended", { status: ready.status });
      return { deploymentId, status: ready.status, errorMessage: null };
    } catch (error) {
      if (error instanceof restate.CancelledError && attempt < 5) {
        ctx.console.warn("cancellation after the route switch is too late; finishing the deploy");
        continue;
      }
      throw error;
    }
  }
}

/**
 * Undo in reverse: wait for closures a cancellation left running, find every
 * container of the deployment (those this invocation journaled, and any other
 * one labelled with it), remove them newest first, then record the end.
 */
async function compensate(
  undo: Durable,
  inFlight: InFlight,
  deps: ObjectDeps,
  plan: DeployPlan,
  saga: Saga,
  end: { readonly status: "FAILED" | "CANCELLED"; readonly message: string },
): Promise<void> {
  const found = await undo.run(
    "find containers to remove",
    Effect.promise(() => inFlight.settle(plan.deploymentId, SETTLE_TIMEOUT_MS)).pipe(
      Effect.zipRight(containersOf(plan.deploymentId, deps.instanceLabels)),
    ),
    POLICIES.compensation,
  );
  if (saga.building) {
    await undo.run(
      "stop build",
      stopBuild(
        deps.build,
        plan.deploymentId,
        end.status === "CANCELLED" ? "the deployment was cancelled" : end.message,
      ),
      POLICIES.compensation,
    );
  }
  if (saga.downloaded)
    await undo.run(
      "remove build context",
      // A copy that cannot be removed must not stop the undo: retention removes it later.
      Effect.ignore(removeContext(deps.build, plan.deploymentId)),
      POLICIES.compensation,
    );
  const toRemove: Array<{ readonly containerId: string; readonly name: string }> = [
    ...saga.started.map((i) => ({ containerId: i.containerId, name: i.name })),
  ];
  for (const container of found)
    if (!toRemove.some((c) => c.containerId === container.containerId)) toRemove.push(container);
  for (const container of toRemove.reverse())
    await undo.run(
      `remove container ${container.name}`,
      removeContainer(container.containerId),
      POLICIES.compensation,
    );
  await undo.run(
    `record ${end.status}`,
    recordEnd(plan, { status: end.status, step: saga.step, message: end.message }),
    POLICIES.compensation,
  );
}

/** The `deploys` virtual object, bound to hydra's runtime. */
export const makeDeploysObject = (deps: ObjectDeps, inFlight: InFlight = new InFlight()) =>
  restate.object({
    name: DEPLOYS_OBJECT,
    description: "One project's deploys, one at a time, newest wins.",
    handlers: {
      deploy: async (ctx: restate.ObjectContext, request: DeployRequest): Promise<DeployOutcome> =>
        deploy(ctx, deps, inFlight, request),
    },
  });
