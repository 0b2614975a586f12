/**
 * Reconciliation: containers labelled as Ferry's whose deployment is FAILED,
 * CANCELLED, SUPERSEDED or unknown to the database are removed, so that a
 * crash (of hydra, of the engine, of a compensation) leaves no orphans.
 * Runs at start and periodically.
 *
 * Never touched: containers of a deployment that is still in progress or
 * READY, and of any deployment a route still points at (the deployment that
 * serves traffic is never stopped by cleanup). Only containers carrying the
 * installation's extra labels (FERRY_INSTANCE_LABELS) are looked at, so two
 * installations can share an engine.
 */
import {
  CONTAINER_LABELS,
  ContainerRuntime,
  DeploymentId,
  DeploymentRepository,
  type DeploymentStatus,
  InstanceRepository,
  RouteRepository,
  WorkspaceId,
} from "@ferry/domain";
import { Clock, Effect, Either, Option, Schema } from "effect";

const REMOVABLE: ReadonlySet<DeploymentStatus> = new Set(["FAILED", "CANCELLED", "SUPERSEDED"]);

export interface ReconcileReport {
  /** Ferry containers looked at. */
  readonly examined: number;
  readonly removed: ReadonlyArray<{
    readonly containerId: string;
    readonly deploymentId: string;
    /** The deployment's status, or "unknown". */
    readonly reason: string;
  }>;
  /** Containers that should have gone but could not be removed (retried next time). */
  readonly failed: ReadonlyArray<{ readonly containerId: string; readonly error: string }>;
}

const decodeOption =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (value: unknown): Option.Option<A> =>
    Either.getRight(Schema.decodeUnknownEither(schema)(value));

const parseDeploymentId = decodeOption(DeploymentId);
const parseWorkspaceId = decodeOption(WorkspaceId);

export const reconcileOnce = (extraLabels: Readonly<Record<string, string>>) =>
  Effect.gen(function* () {
    const runtime = yield* ContainerRuntime;
    const deployments = yield* DeploymentRepository;
    const routes = yield* RouteRepository;
    const instances = yield* InstanceRepository;

    const containers = (yield* runtime.listByLabels(extraLabels)).filter(
      (c) => c.labels[CONTAINER_LABELS.deployment] !== undefined,
    );
    const byDeployment = new Map<string, typeof containers>();
    for (const container of containers) {
      const key = container.labels[CONTAINER_LABELS.deployment] ?? "";
      byDeployment.set(key, [...(byDeployment.get(key) ?? []), container]);
    }

    const removed: Array<ReconcileReport["removed"][number]> = [];
    const failed: Array<ReconcileReport["failed"][number]> = [];
    for (const [rawId, list] of byDeployment) {
      const deploymentId = parseDeploymentId(rawId);
      const workspaceId = parseWorkspaceId(list[0]?.labels[CONTAINER_LABELS.workspace]);
      let reason = "unknown";
      if (Option.isSome(deploymentId) && Option.isSome(workspaceId)) {
        const found = yield* deployments.findById(workspaceId.value, deploymentId.value);
        if (Option.isSome(found)) {
          if (!REMOVABLE.has(found.value.status)) continue;
          // Defensive: whatever its status, a deployment that routes point at keeps its instances.
          if ((yield* routes.listByDeployment(deploymentId.value)).length > 0) continue;
          reason = found.value.status;
        }
      }
      // A deployment unknown to this database may belong to another installation on a shared
      // engine: only remove it when an installation label scopes what this hydra looks at.
      if (reason === "unknown" && Object.keys(extraLabels).length === 0) continue;
      for (const container of list) {
        const result = yield* Effect.either(runtime.remove(container.containerId));
        if (Either.isLeft(result))
          failed.push({ containerId: container.containerId, error: result.left.reason });
        else removed.push({ containerId: container.containerId, deploymentId: rawId, reason });
      }
      if (Option.isSome(deploymentId) && reason !== "unknown") {
        const at = yield* Clock.currentTimeMillis;
        yield* instances.updateStatus({
          deploymentId: deploymentId.value,
          to: "STOPPED",
          at,
          from: ["STARTING", "RUNNING", "FAILED"],
        });
      }
    }
    return { examined: containers.length, removed, failed } satisfies ReconcileReport;
  });
