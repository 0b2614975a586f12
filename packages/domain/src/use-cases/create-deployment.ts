/**
 * CreateDeployment: validate → project (in the caller's workspace) →
 * environment exists → a build context is stored and within the size limit →
 * store PENDING with the variable snapshot (one transaction, in the
 * repository) → queue the deploy in the project's workflow → record the
 * invocation id.
 *
 * Never leaves a PENDING deployment that no workflow will pick up: if the
 * engine cannot be reached the deployment becomes FAILED and the caller gets
 * WorkflowUnavailable. With an idempotency key, a repeat (even a concurrent
 * one) returns the first deployment and starts nothing.
 */
import { Cause, Clock, Effect, Option } from "effect";
import { NotFound, ValidationError, WorkflowUnavailable } from "../errors.ts";
import { Ids, type WorkspaceId } from "../ids.ts";
import type { Deployment, DeploymentStatus } from "../model/deployment.ts";
import { BuildContextLimits, BuildStorage } from "../ports/build-storage.ts";
import { DeploymentRepository } from "../ports/deployments.ts";
import { Platform } from "../ports/platform.ts";
import type { EnvironmentRepository, ProjectRepository } from "../ports/projects.ts";
import { WorkflowEngine } from "../ports/workflow-engine.ts";
import {
  type CreateDeploymentInput,
  validateCreateDeployment,
} from "../validation/create-deployment.ts";
import { requireEnvironmentBySlug, requireProject } from "./lookups.ts";

/** Why a build context path the project owns can be missing: the upload never happened or failed. */
export const NOT_UPLOADED_HINT =
  "nothing was uploaded to it, or the upload did not finish: PUT the archive to the URL CreateUploadUrl returned, then create the deployment";
export interface CreateDeploymentResult {
  readonly deploymentId: Deployment["id"];
  readonly status: DeploymentStatus;
  /** False when an idempotency key matched an earlier deployment. */
  readonly created: boolean;
}

/**
 * A key names one request: reusing it for a different project, environment or
 * source is a client bug, reported instead of silently returning the first.
 */
const sameRequestOrFail = (existing: Deployment, input: CreateDeploymentInput) => {
  const a = existing.source;
  const b = input.source;
  const sameSource =
    a._tag === "DockerImage"
      ? b._tag === "DockerImage" && a.image === b.image
      : b._tag === "BuildContext" &&
        a.buildContextPath === b.buildContextPath &&
        a.dockerfilePath === b.dockerfilePath;
  return existing.projectId === input.projectId &&
    existing.environmentSlug === input.environmentSlug &&
    sameSource
    ? Effect.void
    : Effect.fail(
        ValidationError.single(
          "idempotency_key",
          `was already used for deployment ${existing.id} with a different project, environment or source; use a new key`,
        ),
      );
};

export const createDeployment = (
  workspaceId: WorkspaceId,
  request: unknown,
): Effect.Effect<
  CreateDeploymentResult,
  ValidationError | NotFound | WorkflowUnavailable,
  | Platform
  | Ids
  | DeploymentRepository
  | WorkflowEngine
  | ProjectRepository
  | EnvironmentRepository
  | BuildStorage
  | BuildContextLimits
> =>
  Effect.gen(function* () {
    const platform = yield* Platform;
    const now = yield* Clock.currentTimeMillis;
    const input = yield* validateCreateDeployment(request, {
      now,
      availableRegions: platform.availableRegions,
    });
    const deployments = yield* DeploymentRepository;

    /** The deployment an earlier request with this key made, if it is the same request. */
    const earlier = (key: string) =>
      deployments.findByIdempotencyKey(workspaceId, key).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.succeedNone,
            onSome: (deployment) =>
              sameRequestOrFail(deployment, input).pipe(
                Effect.as(
                  Option.some<CreateDeploymentResult>({
                    deploymentId: deployment.id,
                    status: deployment.status,
                    created: false,
                  }),
                ),
              ),
          }),
        ),
      );

    if (input.idempotencyKey !== undefined) {
      const existing = yield* earlier(input.idempotencyKey);
      if (Option.isSome(existing)) return existing.value;
    }

    const project = yield* requireProject(workspaceId, input.projectId);
    const environment = yield* requireEnvironmentBySlug(project.id, input.environmentSlug);
    if (input.source._tag === "BuildContext") {
      const key = input.source.buildContextPath;
      const stored = yield* (yield* BuildStorage)
        .stat(key)
        .pipe(
          Effect.catchTag("BuildStorageError", (error) =>
            Effect.fail(
              new WorkflowUnavailable({ reason: `build storage is unavailable: ${error.reason}` }),
            ),
          ),
        );
      if (Option.isNone(stored))
        return yield* Effect.fail(
          new NotFound({ resource: "build context", id: key, hint: NOT_UPLOADED_HINT }),
        );
      // An upload URL bounds the size only when it can (a presigned S3 PUT without a declared
      // size cannot): the limit holds here for every storage.
      const { maxSizeBytes } = yield* BuildContextLimits;
      if (stored.value.sizeBytes > maxSizeBytes)
        return yield* Effect.fail(
          ValidationError.single(
            "source.build_context_path",
            `the archive is ${stored.value.sizeBytes} bytes, more than the maximum build context size of ${maxSizeBytes} bytes`,
          ),
        );
    }
    const id = yield* (yield* Ids).next("deployment");
    const stored = yield* deployments
      .create({
        id,
        workspaceId,
        projectId: project.id,
        environmentId: environment.id,
        environmentSlug: environment.slug,
        status: "PENDING",
        source: input.source,
        ...(input.gitCommit === undefined ? {} : { gitCommit: input.gitCommit }),
        regions: input.regions,
        ...(input.source._tag === "DockerImage" ? { image: input.source.image } : {}),
        ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
        createdAt: now,
        updatedAt: now,
      })
      .pipe(
        Effect.map(Option.some),
        Effect.catchTag("IdempotencyKeyTaken", () => Effect.succeedNone),
      );

    // A concurrent duplicate won the race for the idempotency key: answer with its deployment.
    if (Option.isNone(stored)) {
      const key = input.idempotencyKey ?? "";
      const winner = yield* earlier(key);
      if (Option.isSome(winner)) return winner.value;
      // The winner failed to start its workflow and released the key while this duplicate
      // waited: the client of the winner was told to retry, and so is this one.
      return yield* Effect.fail(
        new WorkflowUnavailable({
          reason: `a concurrent request with idempotency key "${key}" could not start its workflow; retry`,
        }),
      );
    }

    const engine = yield* WorkflowEngine;
    const started = yield* engine
      .startDeploy({ workspaceId, projectId: project.id, deploymentId: id })
      .pipe(
        // Any way the send can end without an invocation (a typed failure, a defect, an
        // interruption) fails the deployment: never a PENDING deployment no workflow will run.
        Effect.tapErrorCause((cause) =>
          Effect.gen(function* () {
            const at = yield* Clock.currentTimeMillis;
            const reason = Option.match(Cause.failureOption(cause), {
              onNone: () => "unexpected error",
              onSome: (error) => error.reason,
            });
            yield* deployments.updateStatus(id, {
              from: ["PENDING"],
              to: "FAILED",
              at,
              errorMessage: `the deploy workflow could not be started: ${reason}`,
              releaseIdempotencyKey: true,
            });
          }),
        ),
      );
    yield* deployments.setInvocationId(id, started.invocationId);
    return { deploymentId: id, status: stored.value.status, created: true };
  });
