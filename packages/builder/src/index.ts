/**
 * @ferry/builder: turns an uploaded source archive into an image, in steps a durable workflow can
 * drive safely: inspect the archive (typed errors a user can act on), choose the build arguments
 * (plain variables the Dockerfile declares; never secrets), and run the build as a job in a
 * detached process that survives the workflow's crashes and is never started twice.
 */
export {
  type ArchiveInspection,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  type InspectArchiveOptions,
  inspectArchive,
  MAX_DOCKERFILE_BYTES,
} from "./archive.ts";
export {
  ArchiveEntryUnsafe,
  type ArchiveError,
  ArchiveExpandsTooLarge,
  ArchiveNotFound,
  ArchiveNotTarGz,
  ArchiveReadFailed,
  ArchiveTooLarge,
  DockerfileNotFound,
  DockerfileUnusable,
  isRetryableArchiveError,
  type NotTarGzProblem,
  type UnsafeEntryProblem,
} from "./archive-errors.ts";
export {
  type BuildVariables,
  type DockerfileArg,
  parseDockerfileArgs,
  type SelectedBuildArgs,
  selectBuildArgs,
} from "./build-args.ts";
export { classifyBuildFailure } from "./classify.ts";
export { ferryImageTag, imageTagProblem } from "./image-tag.ts";
export {
  type ReadBuildLogOptions,
  readBuildJob,
  readBuildLog,
  removeBuildJob,
  type StartBuildJobInput,
  type StartedBuildJob,
  type StopBuildJobOptions,
  startBuildJob,
  stopBuildJob,
} from "./job.ts";
export {
  type BuildJobError,
  BuildJobInvalid,
  BuildJobIoError,
  BuildJobNotFound,
  BuildJobRunning,
} from "./job-errors.ts";
export type { BuildFailure, FailureKind } from "./job-files.ts";
export { type LogChunk, MIN_LOG_BYTES } from "./job-log.ts";
export { type BuildJobState, RUNNER_EXITED } from "./job-state.ts";
export { makeRedactor, REDACTED } from "./redact.ts";
export { formatBytes, formatDuration } from "./sizes.ts";
