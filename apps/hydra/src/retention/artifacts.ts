/**
 * Removing one deployment's build artifacts, as one Effect that runs inside ONE named `ctx.run`
 * of the retention sweep (object.ts). Every part is idempotent, so a repeat after a crash, or
 * the next sweep after a failure, finishes the job:
 *
 * 1. the facts are read again and decideRetention asked again (a rollback or a new route may
 *    have come since the candidates were listed);
 * 2. hydra's downloaded copy `<contexts>/<id>.tar.gz` (and any partial download a crash left
 *    beside it, `<id>.tar.gz.*`);
 * 3. the build job directory (a job still running is refused: retried next sweep);
 * 4. the image the build tagged, `ferryImageTag(project, deployment)` (never another reference:
 *    a prebuilt image is not Ferry's); an image a container still uses is refused, never forced;
 * 5. the stored build context, unless another deployment that keeps its artifacts uses the same
 *    key (the last one to go removes it);
 * 6. the mark (compare-and-set): a later sweep skips the deployment.
 *
 * A part that fails leaves the deployment unmarked; the parts before it are done and stay done.
 * Failures are returned (journaled, logged), never thrown: only a database defect is retried here.
 */
import { ferryImageTag, removeBuildJob } from "@ferry/builder";
import {
  BuildStorage,
  ContainerRuntime,
  type DeploymentId,
  decideRetention,
  type KeepReason,
  RetentionRepository,
} from "@ferry/domain";
import { Effect, Either, Option } from "effect";
import { removeDownloads } from "../deploy/build.ts";

export interface ArtifactPaths {
  /** hydra's downloaded build contexts, `<deploymentId>.tar.gz`. */
  readonly contextsDir: string;
  /** Build jobs, one directory per deployment. */
  readonly jobsRoot: string;
}

export type RemovalResult =
  | {
      readonly outcome: "removed";
      /** The stored build context was kept because another deployment still uses it. */
      readonly storedContextShared: boolean;
      /** "gone": there was no image (the build never tagged one, or it was removed before). */
      readonly image: "removed" | "gone";
    }
  | { readonly outcome: "kept"; readonly reason: KeepReason | "unknown-deployment" }
  | { readonly outcome: "failed"; readonly errors: ReadonlyArray<string> };

const message = (error: unknown): string =>
  error instanceof Error
    ? error.message
    : typeof error === "object" && error !== null && "reason" in error
      ? String(error.reason)
      : String(error);

/** Runs one part; its failure becomes a line of the result, prefixed with what was removed. */
const attempt = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  Effect.map(
    Effect.either(effect),
    Either.mapLeft((error) => `${what}: ${message(error)}`),
  );

export const removeArtifacts = (
  deploymentId: DeploymentId,
  paths: ArtifactPaths,
  policy: { readonly now: number; readonly periodMs: number },
) =>
  Effect.gen(function* () {
    const retention = yield* RetentionRepository;
    const found = yield* retention.findFacts(deploymentId);
    if (Option.isNone(found))
      return { outcome: "kept", reason: "unknown-deployment" } satisfies RemovalResult;
    const facts = found.value;
    const decision = decideRetention(facts, policy);
    if (decision._tag === "Keep")
      return { outcome: "kept", reason: decision.reason } satisfies RemovalResult;

    const errors: string[] = [];
    const local = yield* attempt(
      "downloaded build context",
      Effect.tryPromise(() => removeDownloads(paths.contextsDir, deploymentId)),
    );
    if (Either.isLeft(local)) errors.push(local.left);

    const job = yield* attempt("build job", removeBuildJob(paths.jobsRoot, deploymentId));
    if (Either.isLeft(job)) errors.push(job.left);

    const tag = ferryImageTag(facts.projectId, facts.id);
    let image: "removed" | "gone" = "gone";
    // The image of a deployment is the tag its build made; anything else was never Ferry's.
    if (facts.image === undefined || facts.image === tag) {
      const removed = yield* attempt(
        "built image",
        Effect.flatMap(ContainerRuntime, (runtime) => runtime.removeImage(tag)),
      );
      if (Either.isLeft(removed)) errors.push(removed.left);
      else image = removed.right;
    }

    let storedContextShared = false;
    if (facts.buildContextPath !== undefined) {
      const key = facts.buildContextPath;
      const holders = yield* retention.countContextHolders(key, deploymentId);
      storedContextShared = holders > 0;
      if (!storedContextShared) {
        const stored = yield* attempt(
          "stored build context",
          Effect.flatMap(BuildStorage, (storage) => storage.remove(key)),
        );
        if (Either.isLeft(stored)) errors.push(stored.left);
      }
    }

    if (errors.length > 0) return { outcome: "failed", errors } satisfies RemovalResult;
    yield* retention.markArtifactsRemoved(deploymentId, policy.now);
    return { outcome: "removed", storedContextShared, image } satisfies RemovalResult;
  });
