/**
 * CreateUploadUrl: the project must be the caller's; a declared size must be
 * within the limit; the key is fresh and scoped to the project
 * (`projects/{project_id}/contexts/{ulid}.tar.gz`, the only shape
 * CreateDeployment accepts), so one upload URL can never overwrite another's
 * archive or another project's.
 */
import { Effect } from "effect";
import { type NotFound, ValidationError, type Violation, WorkflowUnavailable } from "../errors.ts";
import { newUlid, type WorkspaceId } from "../ids.ts";
import { BuildContextLimits, BuildStorage, type UploadUrl } from "../ports/build-storage.ts";
import type { ProjectRepository } from "../ports/projects.ts";
import { buildContextKey } from "../validation/build-context-path.ts";
import { parseProjectId, requireProject } from "./lookups.ts";

export interface CreateUploadUrlInput {
  readonly projectId: string;
  /** The archive's exact size in bytes, when the client knows it. */
  readonly sizeBytes?: number | undefined;
}

export interface CreateUploadUrlResult extends UploadUrl {
  /** The key to pass as the build context path of CreateDeployment. */
  readonly buildContextPath: string;
}

export const createUploadUrl = (
  workspaceId: WorkspaceId,
  input: CreateUploadUrlInput,
): Effect.Effect<
  CreateUploadUrlResult,
  ValidationError | NotFound | WorkflowUnavailable,
  ProjectRepository | BuildStorage | BuildContextLimits
> =>
  Effect.gen(function* () {
    const limits = yield* BuildContextLimits;
    const { sizeBytes } = input;
    const sizeProblem: ReadonlyArray<Violation> =
      sizeBytes === undefined ||
      (Number.isSafeInteger(sizeBytes) && sizeBytes >= 1 && sizeBytes <= limits.maxSizeBytes)
        ? []
        : [
            {
              field: "size_bytes",
              message: `must be from 1 to ${limits.maxSizeBytes} bytes, the maximum build context size (got ${sizeBytes})`,
            },
          ];
    const projectId = yield* parseProjectId("project_id")(input.projectId).pipe(
      // Both problems at once when both fields are wrong.
      Effect.mapError(
        (error) =>
          new ValidationError({
            violations: [error.violations[0], ...error.violations.slice(1), ...sizeProblem],
          }),
      ),
    );
    const [firstSizeProblem] = sizeProblem;
    if (firstSizeProblem !== undefined)
      return yield* Effect.fail(new ValidationError({ violations: [firstSizeProblem] }));

    const project = yield* requireProject(workspaceId, projectId);
    const key = buildContextKey(project.id, `${yield* newUlid}.tar.gz`);
    const url = yield* (yield* BuildStorage)
      .createUploadUrl(key, {
        maxSizeBytes: limits.maxSizeBytes,
        expiresInSeconds: limits.uploadUrlTtlSeconds,
        ...(sizeBytes === undefined ? {} : { sizeBytes }),
      })
      .pipe(
        Effect.catchTag("BuildStorageError", (error) =>
          Effect.fail(
            new WorkflowUnavailable({ reason: `build storage is unavailable: ${error.reason}` }),
          ),
        ),
      );
    return { ...url, buildContextPath: key };
  });
