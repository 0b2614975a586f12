/** Helpers for build-job tests: busybox contexts, polling, reading a whole job. */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Effect } from "effect";
import { type BuildJobState, readBuildJob, readBuildLog } from "../../src/index.ts";

export { BUSYBOX_BASE, busyboxContext } from "../../src/testing.ts";

export const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect);

/** Polls until `check` accepts the job's state; fails with the last state after `timeoutMs`. */
export const waitForState = async (
  jobsRoot: string,
  jobId: string,
  check: (state: BuildJobState) => boolean,
  timeoutMs = 60_000,
): Promise<BuildJobState> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await run(readBuildJob(jobsRoot, jobId));
    if (check(state)) return state;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} did not reach the state in time: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

export const ended = (state: BuildJobState) =>
  state.status === "succeeded" || state.status === "failed";

/** The whole log, read the way a poller does (chunk by chunk from offset 0). */
export const wholeLog = async (jobsRoot: string, jobId: string): Promise<string[]> => {
  const lines: string[] = [];
  let offset = 0;
  for (;;) {
    const chunk = await run(readBuildLog(jobsRoot, jobId, offset, { maxBytes: 65536 }));
    lines.push(...chunk.lines);
    if (chunk.nextOffset === offset) return lines;
    offset = chunk.nextOffset;
  }
};

/** Polls the log until a line matches. */
export const waitForLogLine = async (
  jobsRoot: string,
  jobId: string,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await wholeLog(jobsRoot, jobId)).some((line) => pattern.test(line))) {
    if (Date.now() > deadline) throw new Error(`no log line matched ${pattern}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** Every file of the job directory, as text (to look for what must not be there). */
export const jobFilesText = async (jobsRoot: string, jobId: string): Promise<string> => {
  const dir = join(jobsRoot, jobId);
  const names = await readdir(dir);
  const texts = await Promise.all(names.map((name) => readFile(join(dir, name), "utf8")));
  return texts.join("\n");
};

/** Pids of processes whose command line contains `marker` (RUN steps run as host processes). */
export const processesMentioning = async (marker: string): Promise<number[]> => {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, "utf8")).replaceAll("\0", " ");
      if (cmdline.includes(marker)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
};
