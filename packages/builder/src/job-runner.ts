/**
 * The build runner: one detached process per build job, started by startBuildJob as
 * `node job-runner.ts <jobDir>`. It waits for the hand-over on stdin (the secret values to
 * redact; sent only after the starter recorded this process in state.json, so an unrecorded
 * runner never builds), runs `POST /build` with the archive streamed from disk, appends each
 * output line (redacted) to build.log, and writes the job's end to state.json.
 *
 * SIGTERM (stopBuildJob): it drops the engine request (Docker cancels the build; Podman 4.3
 * finishes the RUN command under way, then drops the build uncommitted), writes the log's kept
 * tail and exits; the stopper records the failure.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { makeDockerEngine } from "@ferry/containers";
import { Effect, Either, Schema } from "effect";
import { classifyBuildFailure, FAILURE_TAIL_LINES, isStepLine } from "./classify.ts";
import {
  type BuildFailure,
  type JobStateFile,
  LOG_FILE,
  readSpec,
  readStateFile,
  writeState,
} from "./job-files.ts";
import { BuildLogWriter } from "./job-log.ts";
import { failedState } from "./job-state.ts";
import { makeRedactor } from "./redact.ts";
import { formatDuration } from "./sizes.ts";

const Handoff = Schema.Struct({
  redact: Schema.Record({ key: Schema.String, value: Schema.String }),
});

/** Output lines kept for the failure message: the failing step's line and what followed it. */
const RECENT_LINES = 3 * FAILURE_TAIL_LINES;

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString("utf8");
};

const describe = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Writes the end unless someone else already ended the job (a stop that gave up waiting). */
const end = async (dir: string, running: JobStateFile, next: JobStateFile) => {
  const current = await readStateFile(dir);
  if (current?.status !== "running" || current.runner.pid !== running.runner.pid) return;
  await writeState(dir, next);
};

const failWith = (dir: string, running: JobStateFile, failure: BuildFailure) =>
  end(dir, running, failedState(running, failure));

const main = async (dir: string): Promise<number> => {
  const handoff = Either.getOrUndefined(
    Schema.decodeUnknownEither(Schema.parseJson(Handoff))(await readStdin()),
  );
  const running = await readStateFile(dir);
  const ours = running?.status === "running" && running.runner.pid === process.pid;
  if (handoff === undefined || running === undefined || !ours) {
    // The starter died before handing the job over: nothing was built. If it had recorded
    // this process, say so; if not, the claim is stale and the next start takes it over.
    if (running !== undefined && ours)
      await failWith(dir, running, {
        kind: "runner-exited",
        message: "the build's start was interrupted before the build began; start it again",
      });
    return 1;
  }
  const spec = await readSpec(dir);
  if (spec === undefined) throw new Error(`no spec.json in ${dir}`);

  const log = new BuildLogWriter(join(dir, LOG_FILE), spec.maxLogBytes);
  const redact = makeRedactor(handoff.redact);
  let recent: string[] = [];
  const onOutput = (raw: string) => {
    const line = redact(raw);
    log.append(line);
    if (isStepLine(line)) recent = [line];
    else {
      recent.push(line);
      // Keep the step's own line (first) and the latest output.
      if (recent.length > RECENT_LINES) recent.splice(1, 1);
    }
  };

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, spec.timeoutMs);
  const onSignal = () => {
    controller.abort();
    log.finish();
    process.exit(143);
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);

  try {
    await stat(spec.archivePath);
  } catch {
    log.finish();
    await failWith(dir, running, {
      kind: "engine",
      message: `the source archive ${spec.archivePath} is gone; upload it again`,
    });
    return 1;
  }

  const engine = makeDockerEngine({ url: spec.engineUrl });
  const result = await Effect.runPromise(
    Effect.either(
      engine.build({
        tag: spec.tag,
        context: createReadStream(spec.archivePath),
        dockerfile: spec.dockerfile,
        buildArgs: spec.buildArgs,
        labels: spec.labels,
        onOutput,
        // The runner's own deadline decides; the engine client's must not come first.
        timeout: spec.timeoutMs + 60_000,
      }),
    ),
    { signal: controller.signal },
  ).catch((error: unknown) => Either.left(error));
  clearTimeout(timer);
  process.removeListener("SIGTERM", onSignal);
  process.removeListener("SIGINT", onSignal);
  log.finish();
  await Effect.runPromise(engine.close);

  if (timedOut) {
    await failWith(dir, running, {
      kind: "timeout",
      message: `the build did not finish within ${formatDuration(spec.timeoutMs)} and was stopped`,
      outputTail: recent.slice(-FAILURE_TAIL_LINES),
    });
    return 1;
  }
  if (Either.isLeft(result)) {
    const error = result.left;
    await failWith(dir, running, {
      kind: "engine",
      message: redact(
        `the container engine could not build the image: ${
          typeof error === "object" && error !== null && "reason" in error
            ? String((error as { reason: unknown }).reason)
            : describe(error)
        }`,
      ),
    });
    return 1;
  }
  const outcome = result.right;
  if (outcome._tag === "BuildFailed") {
    await failWith(dir, running, classifyBuildFailure(redact(outcome.error), recent));
    return 1;
  }
  await end(dir, running, {
    version: 1,
    jobId: running.jobId,
    tag: running.tag,
    runner: running.runner,
    startedAt: running.startedAt,
    status: "succeeded",
    imageId: outcome.imageId ?? null,
    finishedAt: Date.now(),
  });
  return 0;
};

const dir = process.argv[2];
if (dir === undefined) {
  console.error("usage: job-runner.ts <job directory>");
  process.exit(2);
}
main(dir).then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(`build runner failed: ${error instanceof Error ? error.stack : String(error)}`);
    // The job must not stay "running": readers would only find out from the dead pid.
    const running = await readStateFile(dir).catch(() => undefined);
    if (running?.status === "running" && running.runner.pid === process.pid)
      await failWith(dir, running, {
        kind: "runner-exited",
        message: `the build process failed: ${describe(error)}`,
      }).catch(() => undefined);
    process.exit(1);
  },
);
