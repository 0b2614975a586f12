/**
 * Build jobs against the real Podman of this machine (a private service for this file): real
 * tar.gz contexts, real detached runner processes. Without Podman these tests fail (never skip)
 * with the apt-get line that installs it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startTestPodman, TEST_RUN_LABEL, type TestPodman } from "@ferry/containers/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ferryImageTag,
  inspectArchive,
  RUNNER_EXITED,
  readBuildJob,
  type StartBuildJobInput,
  selectBuildArgs,
  startBuildJob,
  stopBuildJob,
} from "../src/index.ts";
import { archiveDir } from "./support/archives.ts";
import {
  BUSYBOX_BASE,
  busyboxContext,
  ended,
  jobFilesText,
  processesMentioning,
  run,
  waitForLogLine,
  waitForState,
  wholeLog,
} from "./support/jobs.ts";

let podman: TestPodman;
let files: Awaited<ReturnType<typeof archiveDir>>;
let jobsRoot: string;

beforeAll(async () => {
  podman = await startTestPodman();
  files = await archiveDir();
  jobsRoot = await mkdtemp(join(tmpdir(), "ferry-jobs-"));
});

afterAll(async () => {
  await podman?.stop();
  await files?.cleanup();
  if (jobsRoot !== undefined) await rm(jobsRoot, { recursive: true, force: true });
});

let counter = 0;

/**
 * The Dockerfile with a shell comment unique to this run after every RUN: Podman's layer cache
 * (shared by every service on the machine) would otherwise replay a RUN without its output.
 */
const uncached = (dockerfile: string): string =>
  dockerfile.replace(/^(RUN .*)$/gm, `$1 # ${podman.runId}-${++counter}`);

/** A fresh job for `dockerfile`; the tag is fixed per test name so reruns replace the image. */
const jobFor = async (
  dockerfile: string,
  overrides: Partial<StartBuildJobInput> & { readonly name: string },
): Promise<StartBuildJobInput> => ({
  jobsRoot,
  jobId: `job-${podman.runId}-${++counter}`,
  archivePath: await files.tarGz(busyboxContext(uncached(dockerfile))),
  tag: `localhost/ferry-builder-test/${overrides.name}:latest`,
  buildArgs: {},
  redact: {},
  engineUrl: podman.service.url,
  timeoutMs: 120_000,
  maxLogBytes: 1024 * 1024,
  ...overrides,
});

const SUCCESS_DOCKERFILE = `${BUSYBOX_BASE}ARG GREETING
ARG UNSET_DEFAULT=fallback
RUN echo "greeting=$GREETING other=$OTHER default=$UNSET_DEFAULT" && echo "$GREETING" > /greeting
CMD ["/bin/busybox", "cat", "/greeting"]
`;

/** Runs the image once and returns what it printed. */
const runImage = async (image: string): Promise<string> => {
  const { engine } = podman;
  const created = await run(
    engine.createContainer(`ferry-builder-test-${podman.runId}-${++counter}`, {
      Image: image,
      Labels: { [TEST_RUN_LABEL]: podman.runId },
    }),
  );
  if (created._tag !== "Created") throw new Error("container name taken");
  await run(engine.startContainer(created.id));
  for (let i = 0; i < 100; i++) {
    const info = await run(engine.inspectContainer(created.id));
    if (info._tag === "Some" && info.value.State.Status === "exited") break;
    await sleep(100);
  }
  const lines = await run(engine.containerLogs(created.id, 10));
  await run(engine.removeContainer(created.id));
  return lines.join("\n");
};

describe("a build job", () => {
  it("builds an image from an archive, with the declared build argument only", async () => {
    const archivePath = await files.tarGz(busyboxContext(uncached(SUCCESS_DOCKERFILE)));
    const inspected = await run(inspectArchive({ path: archivePath, maxBytes: 10 * 1024 ** 2 }));
    const { buildArgs, undeclared } = selectBuildArgs(inspected.dockerfile.text, {
      plain: { GREETING: "hello-from-ferry", OTHER: "must-not-reach-the-build" },
      secretKeys: [],
    });
    expect(buildArgs).toEqual({ GREETING: "hello-from-ferry" });
    expect(undeclared).toEqual(["OTHER"]);

    const input = await jobFor(SUCCESS_DOCKERFILE, {
      name: "success",
      archivePath,
      buildArgs,
      // The tag a deployment's image gets.
      tag: ferryImageTag("prj_BUILDERTEST", "dep_SUCCESS"),
    });
    const started = await run(startBuildJob(input));
    expect(started.created).toBe(true);
    expect(started.state.status).toBe("running");

    const state = await waitForState(jobsRoot, input.jobId, ended);
    expect(state.status).toBe("succeeded");
    if (state.status !== "succeeded") return;
    expect(state.imageId).toMatch(/^(sha256:)?[0-9a-f]{64}$/);
    expect(await run(podman.engine.imageExists(input.tag))).toBe(true);

    const log = await wholeLog(jobsRoot, input.jobId);
    expect(log).toContain("STEP 1/7: FROM scratch");
    expect(log.some((line) => /^STEP 6\/7: RUN echo/.test(line))).toBe(true);
    expect(log).toContain("greeting=hello-from-ferry other= default=fallback");
    // Podman warns about build args that no ARG consumes: none were passed.
    expect(log.join("\n")).not.toMatch(/not consumed/);
    expect(log.join("\n")).not.toContain("must-not-reach-the-build");

    expect(await runImage(input.tag)).toBe("hello-from-ferry");
  });

  it("fails a Dockerfile with a syntax error, saying so", async () => {
    const input = await jobFor("FROM scratch\nFOO bar\n", { name: "syntax" });
    await run(startBuildJob(input));
    const state = await waitForState(jobsRoot, input.jobId, ended);
    expect(state.status).toBe("failed");
    if (state.status !== "failed") return;
    expect(state.failure.kind).toBe("dockerfile");
    expect(state.failure.message).toBe(
      'the Dockerfile is invalid at "FOO" (step 2/2): Unknown instruction: "FOO"; fix it and deploy again',
    );
  });

  it("fails a failing RUN with the step and its output's tail", async () => {
    const dockerfile = `${BUSYBOX_BASE}RUN for i in $(seq 1 30); do echo "line $i"; done; echo boom; exit 3\n`;
    const input = await jobFor(dockerfile, { name: "run-fails" });
    await run(startBuildJob(input));
    const state = await waitForState(jobsRoot, input.jobId, ended);
    expect(state.status).toBe("failed");
    if (state.status !== "failed") return;
    expect(state.failure.kind).toBe("run-step");
    expect(state.failure.step).toMatch(
      /^RUN for i in \$\(seq 1 30\); do echo "line \$i"; done; echo boom; exit 3 # /,
    );
    expect(state.failure.outputTail).toHaveLength(20);
    expect(state.failure.outputTail?.at(-1)).toBe("boom");
    expect(state.failure.message).toMatch(
      /^the build step "RUN for i in .*exit 3 # [^"]*" \(step 4\/4\) failed with exit code 3; its last output:\nline 12\n/,
    );
    expect(state.failure.message.endsWith("line 30\nboom")).toBe(true);
  });

  it("never lets a secret value into the log or the job's files", async () => {
    const secret = "s3cr3t-token-value-42";
    const dockerfile = `${BUSYBOX_BASE}RUN echo "token is ${secret}" && echo "API_TOKEN=${secret}" && exit 1\n`;
    const input = await jobFor(dockerfile, {
      name: "redaction",
      redact: { API_TOKEN: secret },
    });
    await run(startBuildJob(input));
    const state = await waitForState(jobsRoot, input.jobId, ended);
    expect(state.status).toBe("failed");
    const log = await wholeLog(jobsRoot, input.jobId);
    expect(log).toContain("token is <redacted>");
    expect(log).toContain("API_TOKEN=<redacted>");
    const everything = await jobFilesText(jobsRoot, input.jobId);
    expect(everything).not.toContain(secret);
    if (state.status === "failed") expect(state.failure.message).toContain("token is <redacted>");
  });

  it("starts once however often it is started", async () => {
    const dockerfile = `${BUSYBOX_BASE}RUN echo "building once"; sleep 1\n`;
    const input = await jobFor(dockerfile, { name: "idempotent" });
    const first = await Promise.all([1, 2, 3].map(() => run(startBuildJob(input))));
    expect(first.filter((s) => s.created)).toHaveLength(1);
    const again = await run(startBuildJob(input));
    expect(again.created).toBe(false);
    const state = await waitForState(jobsRoot, input.jobId, ended);
    expect(state.status).toBe("succeeded");
    const afterEnd = await run(startBuildJob(input));
    expect(afterEnd).toEqual({ created: false, state });
    const log = await wholeLog(jobsRoot, input.jobId);
    expect(log.filter((line) => line.startsWith("STEP 1/"))).toHaveLength(1);
    expect(log.filter((line) => line === "building once")).toHaveLength(1);
  });

  it("is failed when its runner dies", async () => {
    const input = await jobFor(`${BUSYBOX_BASE}RUN echo sleeping; sleep 30\n`, {
      name: "killed",
    });
    const started = await run(startBuildJob(input));
    if (started.state.status !== "running" || started.state.pid === null)
      throw new Error("not running");
    await waitForLogLine(jobsRoot, input.jobId, /^sleeping$/);
    process.kill(started.state.pid, "SIGKILL");
    const state = await waitForState(jobsRoot, input.jobId, ended, 10_000);
    expect(state.status === "failed" && state.failure).toEqual({
      kind: "runner-exited",
      message: RUNNER_EXITED,
    });
  });

  it("is ended quickly by stopBuildJob, failed with the reason", async () => {
    const input = await jobFor(`${BUSYBOX_BASE}RUN echo sleeping; sleep 30\n`, {
      name: "stopped",
    });
    const started = await run(startBuildJob(input));
    await waitForLogLine(jobsRoot, input.jobId, /^sleeping$/);
    const before = Date.now();
    const state = await run(stopBuildJob(jobsRoot, input.jobId, "deployment cancelled"));
    expect(Date.now() - before).toBeLessThan(6_000);
    expect(state.status === "failed" && state.failure).toEqual({
      kind: "stopped",
      message: "deployment cancelled",
    });
    expect(await run(readBuildJob(jobsRoot, input.jobId))).toEqual(state);
    // The runner's process group is gone (once this process has reaped the killed runner, which
    // is its child: a zombie still answers kill(0) for a moment).
    const pid = started.state.status === "running" ? started.state.pid : null;
    expect(pid).not.toBeNull();
    const groupAlive = () => {
      try {
        process.kill(-(pid ?? 0), 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 5_000;
    while (groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(groupAlive()).toBe(false);
    // Stopping an ended job changes nothing.
    expect(await run(stopBuildJob(jobsRoot, input.jobId, "again"))).toEqual(state);
  });

  it("never tags the image of a stopped build", async () => {
    // Podman 4.3 lets the current RUN command finish after the client leaves, but drops the
    // build: wait for the command's end, then look for the tag.
    const marker = `stop-marker-${podman.runId}`;
    const input = await jobFor(`${BUSYBOX_BASE}RUN echo sleeping; sleep 3; echo ${marker}\n`, {
      name: "stopped-uncommitted",
      tag: `localhost/ferry-builder-test/stopped-uncommitted:${podman.runId}`,
    });
    await run(startBuildJob(input));
    await waitForLogLine(jobsRoot, input.jobId, /^sleeping$/);
    await run(stopBuildJob(jobsRoot, input.jobId, "deployment cancelled"));
    expect(await processesMentioning(marker)).not.toEqual([]);
    const deadline = Date.now() + 15_000;
    while ((await processesMentioning(marker)).length > 0 && Date.now() < deadline)
      await sleep(200);
    await sleep(1_000);
    expect(await run(podman.engine.imageExists(input.tag))).toBe(false);
  });

  it("times out", async () => {
    const input = await jobFor(`${BUSYBOX_BASE}RUN echo sleeping; sleep 30\n`, {
      name: "timeout",
      timeoutMs: 3_000,
    });
    const before = Date.now();
    await run(startBuildJob(input));
    const state = await waitForState(jobsRoot, input.jobId, ended, 20_000);
    expect(Date.now() - before).toBeLessThan(15_000);
    expect(state.status).toBe("failed");
    if (state.status !== "failed") return;
    expect(state.failure.kind).toBe("timeout");
    expect(state.failure.message).toBe("the build did not finish within 3 s and was stopped");
    // The output so far comes with the failure. How far the build got in 3 s depends on the
    // machine's load (the RUN may not have started), so only its first steps are certain.
    expect((state.failure.outputTail ?? []).join("\n")).toMatch(/STEP \d+\/\d+/);
  });
});
