/**
 * The deploy workflow's side effects, as Effect programs on the domain's
 * ports. Each one runs inside ONE named `ctx.run` of the project's deploy
 * handler (objects/project.ts), so each must be safe to run again after a
 * crash between its writes and the journal entry: every write here is
 * idempotent (compare-and-set statuses, steps unique per name, instances
 * unique per container, deterministic container names that a repeated start
 * adopts, routes created or moved by hostname).
 *
 * Results are plain JSON: they are journaled.
 */
import {
  CONTAINER_LABELS,
  ContainerRuntime,
  type DeploymentId,
  DeploymentRepository,
  type DeploymentStatus,
  type EnvironmentKind,
  EnvironmentRepository,
  type InstanceId,
  InstanceRepository,
  idSuffix,
  Platform,
  ProjectRepository,
  type ProjectSettings,
  RouteRepository,
  routesForReadyDeployment,
  SecretBox,
  type StepId,
  type StepName,
  type WorkspaceId,
  WorkspaceRepository,
} from "@ferry/domain";
import { Clock, Effect, Option } from "effect";
import { Permanent } from "../objects/durable.ts";
import { probeHttp } from "./probe.ts";

/** Everything the workflow needs to know about the deployment, read once at its start. */
export interface DeployPlan {
  readonly deploymentId: DeploymentId;
  readonly workspaceId: WorkspaceId;
  readonly projectId: string;
  readonly environmentId: string;
  readonly environmentSlug: string;
  readonly environmentKind: EnvironmentKind;
  readonly branch: string | null;
  readonly status: DeploymentStatus;
  /** The image to run; null for a build context that was not built. */
  readonly image: string | null;
  /** The build context to build when there is no image yet (storage key, Dockerfile path). */
  readonly buildContext: { readonly key: string; readonly dockerfilePath: string } | null;
  readonly regions: ReadonlyArray<string>;
  readonly settings: ProjectSettings;
}

export type Loaded =
  | { readonly found: false }
  | { readonly found: true; readonly plan: DeployPlan };

const NOT_TERMINAL: ReadonlyArray<DeploymentStatus> = [
  "PENDING",
  "BUILDING",
  "DEPLOYING",
  "NETWORK",
];

export const currentStatus = (workspaceId: WorkspaceId, id: DeploymentId) =>
  Effect.flatMap(DeploymentRepository, (deployments) => deployments.findById(workspaceId, id)).pipe(
    Effect.map(
      Option.match({
        onNone: (): DeploymentStatus | "MISSING" => "MISSING",
        onSome: (d) => d.status,
      }),
    ),
  );

export const loadDeployment = (workspaceId: WorkspaceId, deploymentId: DeploymentId) =>
  Effect.gen(function* () {
    const found = yield* (yield* DeploymentRepository).findById(workspaceId, deploymentId);
    if (Option.isNone(found)) return { found: false } as Loaded;
    const deployment = found.value;
    const project = yield* (yield* ProjectRepository).findById(workspaceId, deployment.projectId);
    const environment = yield* (yield* EnvironmentRepository).findById(
      workspaceId,
      deployment.environmentId,
    );
    if (Option.isNone(project) || Option.isNone(environment)) return { found: false } as Loaded;
    const plan: DeployPlan = {
      deploymentId: deployment.id,
      workspaceId,
      projectId: deployment.projectId,
      environmentId: deployment.environmentId,
      environmentSlug: environment.value.slug,
      environmentKind: environment.value.kind,
      branch: deployment.gitCommit?.branch ?? null,
      status: deployment.status,
      image:
        deployment.image ??
        (deployment.source._tag === "DockerImage" ? deployment.source.image : null),
      buildContext:
        deployment.source._tag === "BuildContext"
          ? {
              key: deployment.source.buildContextPath,
              dockerfilePath: deployment.source.dockerfilePath,
            }
          : null,
      regions: deployment.regions,
      settings: project.value.settings,
    };
    return { found: true, plan } as Loaded;
  });

/** How many PENDING deployments of the project's environment are looked at for a newer one. */
const NEWER_SCAN_LIMIT = 100;

/**
 * Newest wins, for deployments of the same project, environment and branch
 * that are still PENDING. Restate runs the project's invocations in the order
 * they arrived, so when this deploy starts, the deployments queued behind it
 * are NEWER: if one of them (with its workflow queued, i.e. an invocation id)
 * exists, this deployment and every older pending one are SUPERSEDED and only
 * the newest runs. Otherwise older pending ones (queued out of order) are
 * superseded by this one.
 */
export const supersedeOlder = (plan: DeployPlan) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    const at = yield* Clock.currentTimeMillis;
    const pending = yield* deployments.list({
      workspaceId: plan.workspaceId,
      projectId: plan.projectId as never,
      environmentId: plan.environmentId as never,
      statuses: ["PENDING"],
      limit: NEWER_SCAN_LIMIT,
    });
    const newest = pending.find(
      (d) =>
        d.id > plan.deploymentId &&
        d.restateInvocationId !== undefined &&
        (d.gitCommit?.branch ?? null) === plan.branch,
    );
    const newerThan = newest?.id ?? plan.deploymentId;
    const superseded = yield* deployments.supersedeOlderPending({
      projectId: plan.projectId as never,
      environmentId: plan.environmentId as never,
      branch: plan.branch ?? undefined,
      newerThan,
      at,
    });
    return { superseded, by: newest?.id ?? null };
  });

export type Began = { readonly ok: true } | { readonly ok: false; readonly status: string };

/**
 * Compare-and-set of the deployment's status (`from` → `to`, optionally recording the image);
 * when the deployment moved elsewhere meanwhile (cancelled by the API), the status it has now.
 */
export const moveStatus = (
  plan: DeployPlan,
  change: {
    readonly from: ReadonlyArray<DeploymentStatus>;
    readonly to: DeploymentStatus;
    readonly at: number;
    readonly image?: string;
  },
) =>
  Effect.gen(function* () {
    const updated = yield* (yield* DeploymentRepository).updateStatus(plan.deploymentId, change);
    if (Option.isSome(updated)) return { ok: true } as Began;
    return {
      ok: false,
      status: yield* currentStatus(plan.workspaceId, plan.deploymentId),
    } as Began;
  });

/**
 * Moves the deployment to `to` (compare-and-set from `from`, or already `to`
 * on a repeat) and records `step` as started. When the deployment moved
 * elsewhere meanwhile (cancelled by the API), nothing is written.
 */
export const beginStep = (
  plan: DeployPlan,
  step: { readonly id: StepId; readonly name: StepName },
  from: ReadonlyArray<DeploymentStatus>,
  to: DeploymentStatus,
) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    const at = yield* Clock.currentTimeMillis;
    const moved = yield* moveStatus(plan, { from: [...from, to], to, at });
    if (!moved.ok) return moved;
    yield* deployments.startStep({
      id: step.id,
      deploymentId: plan.deploymentId,
      name: step.name,
      at,
    });
    return { ok: true } as Began;
  });

export const finishStep = (plan: DeployPlan, name: StepName, message: string) =>
  Effect.gen(function* () {
    const at = yield* Clock.currentTimeMillis;
    yield* (yield* DeploymentRepository).finishStep({
      deploymentId: plan.deploymentId,
      name,
      status: "SUCCEEDED",
      at,
      message,
    });
  });

/** `ferry-{deployment ulid}-{region}-{replica}`: the same on every attempt, so a repeated start adopts. */
export const containerName = (deploymentId: string, region: string, replica: number): string =>
  `ferry-${idSuffix(deploymentId)}-${region}-${replica}`;

export interface Slot {
  readonly region: string;
  readonly replica: number;
  readonly instanceId: InstanceId;
  readonly name: string;
}

export interface StartedInstance {
  readonly instanceId: string;
  readonly containerId: string;
  readonly name: string;
  readonly region: string;
  readonly host: string;
  readonly port: number;
}

/**
 * Opens the variable snapshot (secrets only here, never returned or logged),
 * starts the container and records the instance.
 */
export const startInstance = (
  plan: DeployPlan,
  image: string,
  slot: Slot,
  extraLabels: Readonly<Record<string, string>>,
) =>
  Effect.gen(function* () {
    const snapshot = yield* (yield* DeploymentRepository).snapshot(plan.deploymentId);
    const box = yield* SecretBox;
    const env: Record<string, string> = {};
    for (const variable of snapshot) {
      env[variable.key] =
        variable._tag === "Plain"
          ? variable.value
          : yield* box.open(variable.sealed).pipe(
              Effect.mapError(
                (error) =>
                  new Permanent({
                    message: `secret variable ${variable.key} could not be opened: ${error.reason}`,
                  }),
              ),
            );
    }
    const running = yield* (yield* ContainerRuntime).start({
      name: slot.name,
      image,
      region: slot.region,
      containerPort: plan.settings.containerPort,
      env,
      labels: {
        ...extraLabels,
        [CONTAINER_LABELS.workspace]: plan.workspaceId,
        [CONTAINER_LABELS.project]: plan.projectId,
        [CONTAINER_LABELS.deployment]: plan.deploymentId,
      },
    });
    const at = yield* Clock.currentTimeMillis;
    const instance = yield* (yield* InstanceRepository).create({
      id: slot.instanceId,
      deploymentId: plan.deploymentId,
      region: slot.region,
      containerId: running.containerId,
      host: running.host,
      ...(running.port > 0 ? { port: running.port } : {}),
      status: "STARTING",
      createdAt: at,
      updatedAt: at,
    });
    return {
      instanceId: instance.id,
      containerId: running.containerId,
      name: slot.name,
      region: slot.region,
      host: running.host,
      port: running.port,
    } satisfies StartedInstance;
  });

export type ProbeResult =
  | { readonly instanceId: string; readonly state: "healthy"; readonly answer: string }
  | { readonly instanceId: string; readonly state: "waiting"; readonly answer: string }
  | { readonly instanceId: string; readonly state: "exited"; readonly exitCode: number | null }
  | { readonly instanceId: string; readonly state: "gone" };

/** Deadline of one HTTP probe. */
export const PROBE_TIMEOUT_MS = 2_000;

/** One round: each instance is inspected (did it exit?) and, when running, probed over HTTP. */
export const probeRound = (instances: ReadonlyArray<StartedInstance>, path: string) =>
  Effect.gen(function* () {
    const runtime = yield* ContainerRuntime;
    return yield* Effect.forEach(
      instances,
      (instance) =>
        Effect.gen(function* () {
          const inspected = yield* Effect.either(runtime.inspect(instance.containerId));
          if (inspected._tag === "Left") {
            if (inspected.left.retryable) return yield* Effect.fail(inspected.left);
            return { instanceId: instance.instanceId, state: "gone" } as ProbeResult;
          }
          const info = inspected.right;
          if (info.state === "exited")
            return {
              instanceId: instance.instanceId,
              state: "exited",
              exitCode: info.exitCode ?? null,
            } as ProbeResult;
          const port = info.port > 0 ? info.port : instance.port;
          const answer = yield* Effect.promise(() =>
            probeHttp(instance.host, port, path, PROBE_TIMEOUT_MS),
          );
          return {
            instanceId: instance.instanceId,
            state: answer.healthy ? "healthy" : "waiting",
            answer: answer.answer,
          } as ProbeResult;
        }),
      { concurrency: "unbounded" },
    );
  });

/** Healthy: status NETWORK (compare-and-set), DEPLOYING ended and NETWORK started at the same instant, instances RUNNING. */
export const enterNetwork = (plan: DeployPlan, stepId: StepId, summary: string) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    const at = yield* Clock.currentTimeMillis;
    const moved = yield* moveStatus(plan, { from: ["DEPLOYING", "NETWORK"], to: "NETWORK", at });
    if (!moved.ok) return moved;
    yield* deployments.finishStep({
      deploymentId: plan.deploymentId,
      name: "DEPLOYING",
      status: "SUCCEEDED",
      at,
      message: summary,
    });
    yield* deployments.startStep({
      id: stepId,
      deploymentId: plan.deploymentId,
      name: "NETWORK",
      at,
    });
    yield* (yield* InstanceRepository).updateStatus({
      deploymentId: plan.deploymentId,
      to: "RUNNING",
      at,
      from: ["STARTING"],
    });
    return { ok: true } as Began;
  });

export interface PointedRoutes {
  readonly hostnames: ReadonlyArray<{ readonly hostname: string; readonly kind: string }>;
  readonly takesLiveTraffic: boolean;
  readonly pinned: boolean;
}

/**
 * The switch: the routes the deployment takes, decided on the project's pin
 * as it is NOW (read here, inside the project's serialized handler, so a
 * rollback that happened while this deploy was building is respected), all
 * written in one transaction with the project's live deployment.
 */
export const pointRoutes = (plan: DeployPlan) =>
  Effect.gen(function* () {
    const project = yield* (yield* ProjectRepository).findById(
      plan.workspaceId,
      plan.projectId as never,
    );
    if (Option.isNone(project))
      return yield* new Permanent({ message: `project ${plan.projectId} no longer exists` });
    const workspace = yield* (yield* WorkspaceRepository).findById(plan.workspaceId);
    if (Option.isNone(workspace))
      return yield* new Permanent({ message: `workspace ${plan.workspaceId} no longer exists` });
    const platform = yield* Platform;
    const decision = routesForReadyDeployment(
      {
        apexDomain: platform.apexDomain,
        workspaceSlug: workspace.value.slug,
        projectSlug: project.value.slug,
      },
      {
        id: plan.deploymentId,
        environmentSlug: plan.environmentSlug,
        environmentKind: plan.environmentKind,
        branch: plan.branch ?? undefined,
      },
      project.value,
    );
    const at = yield* Clock.currentTimeMillis;
    const written = yield* (yield* RouteRepository).point({
      workspaceId: plan.workspaceId,
      projectId: project.value.id,
      environmentId: plan.environmentId as never,
      deploymentId: plan.deploymentId,
      routes: decision.routes,
      ...(decision.takesLiveTraffic ? { liveTraffic: { rolledBack: false } } : {}),
      at,
    });
    return {
      hostnames: written.map((route) => ({ hostname: route.hostname, kind: route.kind })),
      takesLiveTraffic: decision.takesLiveTraffic,
      pinned: project.value.rolledBack,
    } satisfies PointedRoutes;
  });

/** True when routes point at the deployment: the switch happened (used when it was interrupted). */
export const routesSwitched = (deploymentId: DeploymentId) =>
  Effect.map(
    Effect.flatMap(RouteRepository, (routes) => routes.listByDeployment(deploymentId)),
    (routes) => routes.length > 0,
  );

/** NETWORK done, READY recorded (as a step that starts and ends at once, and as the status). */
export const recordReady = (plan: DeployPlan, stepId: StepId, networkMessage: string) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    const at = yield* Clock.currentTimeMillis;
    yield* deployments.finishStep({
      deploymentId: plan.deploymentId,
      name: "NETWORK",
      status: "SUCCEEDED",
      at,
      message: networkMessage,
    });
    const status = yield* currentStatus(plan.workspaceId, plan.deploymentId);
    if (status !== "NETWORK" && status !== "READY") return { status };
    // The READY step is written before the READY status: a client that sees the status READY
    // must also see every step (steps are idempotent on replay).
    yield* deployments.startStep({
      id: stepId,
      deploymentId: plan.deploymentId,
      name: "READY",
      at,
    });
    yield* deployments.finishStep({
      deploymentId: plan.deploymentId,
      name: "READY",
      status: "SUCCEEDED",
      at,
    });
    const updated = yield* deployments.updateStatus(plan.deploymentId, {
      from: ["NETWORK", "READY"],
      to: "READY",
      at,
    });
    if (Option.isNone(updated))
      return { status: yield* currentStatus(plan.workspaceId, plan.deploymentId) };
    return { status: "READY" };
  });

// ---------------------------------------------------------------------------
// Compensation

export interface FoundContainer {
  readonly containerId: string;
  readonly name: string;
}

/** Every container labelled with the deployment (and this installation's extra labels). */
export const containersOf = (
  deploymentId: DeploymentId,
  extraLabels: Readonly<Record<string, string>>,
) =>
  Effect.map(
    Effect.flatMap(ContainerRuntime, (runtime) =>
      runtime.listByLabels({ ...extraLabels, [CONTAINER_LABELS.deployment]: deploymentId }),
    ),
    (list) =>
      list.map(
        (c): FoundContainer => ({ containerId: c.containerId, name: c.containerId.slice(0, 12) }),
      ),
  );

export const removeContainer = (containerId: string) =>
  Effect.flatMap(ContainerRuntime, (runtime) => runtime.remove(containerId));

/**
 * The end of a failed or cancelled deploy: instances STOPPED, the running
 * step ended, the status FAILED or CANCELLED with `message`, unless the
 * deployment already reached a terminal status (compare-and-set).
 */
export const recordEnd = (
  plan: DeployPlan,
  end: {
    readonly status: "FAILED" | "CANCELLED";
    readonly step: StepName | null;
    readonly message: string;
  },
) =>
  Effect.gen(function* () {
    const deployments = yield* DeploymentRepository;
    const at = yield* Clock.currentTimeMillis;
    yield* (yield* InstanceRepository).updateStatus({
      deploymentId: plan.deploymentId,
      to: "STOPPED",
      at,
    });
    if (end.step !== null)
      yield* deployments.finishStep({
        deploymentId: plan.deploymentId,
        name: end.step,
        status: end.status,
        at,
        message: end.message,
      });
    const updated = yield* deployments.updateStatus(plan.deploymentId, {
      from: NOT_TERMINAL,
      to: end.status,
      at,
      errorMessage: end.message,
    });
    return Option.isSome(updated)
      ? { status: end.status as string, errorMessage: end.message as string | null }
      : {
          status: (yield* currentStatus(plan.workspaceId, plan.deploymentId)) as string,
          errorMessage: null as string | null,
        };
  });
