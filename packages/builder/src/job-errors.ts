/** Failures of the build-job functions themselves (a failed build is a job state, not an error). */
import { Schema } from "effect";

/** The job cannot be started as asked: fix the input; retrying the same call cannot help. */
export class BuildJobInvalid extends Schema.TaggedError<BuildJobInvalid>()("BuildJobInvalid", {
  jobId: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `build job ${this.jobId}: ${this.reason}`;
  }
}

export class BuildJobNotFound extends Schema.TaggedError<BuildJobNotFound>()("BuildJobNotFound", {
  jobId: Schema.String,
}) {
  override get message(): string {
    return `build job ${this.jobId} does not exist`;
  }
}

/** removeBuildJob of a job whose runner still runs: stop it first. */
export class BuildJobRunning extends Schema.TaggedError<BuildJobRunning>()("BuildJobRunning", {
  jobId: Schema.String,
}) {
  override get message(): string {
    return `build job ${this.jobId} is still running; stop it before removing it`;
  }
}

/** The jobs directory could not be read or written (disk full, permissions): worth retrying. */
export class BuildJobIoError extends Schema.TaggedError<BuildJobIoError>()("BuildJobIoError", {
  jobId: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `build job ${this.jobId}: ${this.reason}`;
  }
}

export type BuildJobError = BuildJobInvalid | BuildJobNotFound | BuildJobRunning | BuildJobIoError;
