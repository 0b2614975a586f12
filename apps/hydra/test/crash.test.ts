/**
 * Crashes mid-deploy, on real parts: hydra runs as a child process (`node src/main.ts`,
 * configured only through its environment), connected to the test's PGlite over its socket.
 * - kill -9 of hydra while instances are started but not yet healthy, then a restart: Restate
 *   replays the journal, the deploy reaches READY, and no container is started twice;
 * - kill -9 of restate-server at the same point, then a restart: the same;
 * - kill -9 of hydra mid-build, then a restart: the build job (a detached process) goes on, the
 *   deploy reaches READY, one build ran and each of its log lines is stored once;
 * - a build longer than FERRY_BUILD_TIMEOUT_MS: FAILED naming the limit and the setting, and
 *   nothing of the build is left (processes, image tag, containers).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ferryImageTag, readBuildJob } from "@ferry/builder";
import { type DeploymentId, DeploymentRepository } from "@ferry/domain";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUSYBOX_BASE,
  buildContainersSince,
  containersOf,
  createTenant,
  deploy,
  deployContext,
  eventually,
  findDeployment,
  httpGet,
  instancesOf,
  logLinesOf,
  REGIONS,
  type Stack,
  settled,
  slowWebImage,
  startStack,
  TEST_RUN_LABEL,
  type Tenant,
  uploadContext,
} from "./support/stack.ts";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

let stack: Stack;
let port: number;
let child: ChildProcess | undefined;
const output: string[] = [];

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const picked = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(picked));
    });
  });

/** Starts `node src/main.ts` and resolves once it registered with Restate. */
const startChild = async (extraEnv: Record<string, string> = {}): Promise<ChildProcess> => {
  const config = stack.hydraConfig();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    FERRY_DATABASE_URL: stack.db.url,
    FERRY_DATABASE_POOL_SIZE: "1",
    FERRY_CONTAINER_ENGINE_URL: stack.podman.service.url,
    FERRY_CONTAINER_STOP_TIMEOUT_SECONDS: "1",
    FERRY_INSTANCE_LABELS: `${TEST_RUN_LABEL}=${stack.podman.runId}`,
    FERRY_SECRET_KEYS: stack.secretKeys,
    FERRY_APEX_DOMAIN: "ferry.test",
    FERRY_REGIONS: REGIONS.join(","),
    FERRY_HYDRA_PORT: String(port),
    FERRY_RESTATE_ADMIN_URL: stack.restate.adminUrl,
    FERRY_RECONCILE_INTERVAL_SECONDS: "0",
    FERRY_LOG_LEVEL: "info",
    // The stack's data directory: builds, downloaded contexts, and the uploads it serves.
    FERRY_DATA_DIR: dirname(config.workDir),
    FERRY_BUILD_JOBS_DIR: config.buildJobsDir,
    FERRY_BUILD_STORAGE_DIR: stack.buildStorageDir,
    FERRY_RESTATE_INGRESS_URL: stack.restate.ingressUrl,
    FERRY_RETENTION_INTERVAL_SECONDS: "0",
    ...extraEnv,
  };
  const started = spawn(process.execPath, [MAIN], { env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      lines.push(line);
      output.push(line);
      if (process.env.HYDRA_TEST_LOG === "1")
        process.stdout.write(`[child ${started.pid}] ${line}\n`);
    }
  };
  started.stdout?.on("data", collect);
  started.stderr?.on("data", collect);
  await eventually(
    "the hydra child process to register with Restate",
    async () => {
      if (started.exitCode !== null)
        throw new Error(`hydra exited with ${started.exitCode}:\n${lines.join("\n")}`);
      return lines.some((l) => l.includes('"registered with restate"')) ? true : undefined;
    },
    60_000,
    100,
  );
  return started;
};

const kill9 = async (process: ChildProcess) => {
  const exited = new Promise((resolve) => process.once("exit", resolve));
  process.kill("SIGKILL");
  await exited;
};

/** Stops the child hydra (SIGTERM) and starts another with `extraEnv`. */
const restartChild = async (extraEnv: Record<string, string> = {}) => {
  if (child !== undefined && child.exitCode === null) {
    const running = child;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGTERM");
    await exited;
  }
  child = await startChild(extraEnv);
};

beforeAll(async () => {
  stack = await startStack({ startHydra: false });
  port = await freePort();
  child = await startChild();
});

afterAll(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  await stack?.close();
});

/** Whether the job's runner process (recorded in its state.json) still lives. */
const runnerAlive = async (jobsRoot: string, id: string) => {
  const state = JSON.parse(await readFile(join(jobsRoot, id, "state.json"), "utf8")) as {
    readonly runner: { readonly pid: number };
  };
  try {
    // The runner leads its own process group: signal 0 to the group finds any member left.
    process.kill(-state.runner.pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Pids of the processes on this host whose command line contains `text`. */
const processesMentioning = async (text: string) => {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(text)) pids.push(Number(entry));
  }
  return pids;
};

/** Deploys an image that answers only after a while, and waits until both instances run. */
const deployAndWaitForInstances = async (tenant: Tenant, content: string) => {
  const image = await slowWebImage(stack.engine, content, 6);
  const id = await deploy(stack, tenant, image);
  await eventually("both instances to be started and recorded", async () => {
    const instances = await instancesOf(stack, id);
    return instances.length === 2 ? instances : undefined;
  });
  expect((await findDeployment(stack, tenant.workspace.id, id)).status).toBe("DEPLOYING");
  return id;
};

const expectReadyWithoutDuplicates = async (tenant: Tenant, id: DeploymentId, content: string) => {
  const deployment = await settled(stack, tenant, id, 150_000);
  expect(deployment.errorMessage).toBeUndefined();
  expect(deployment.status).toBe("READY");
  const containers = await containersOf(stack, id);
  expect(containers).toHaveLength(2);
  const instances = await instancesOf(stack, id);
  expect(instances.map((i) => [i.region, i.status])).toStrictEqual([
    ["local-1", "RUNNING"],
    ["local-2", "RUNNING"],
  ]);
  expect(new Set(instances.map((i) => i.containerId))).toStrictEqual(
    new Set(containers.map((c) => c.Id)),
  );
  for (const instance of instances) expect((await httpGet(instance.port ?? 0)).body).toBe(content);
};

describe("crash recovery", () => {
  it("kill -9 of hydra mid-deploy, restart: READY, no duplicate containers", async () => {
    const tenant = await createTenant(stack);
    const id = await deployAndWaitForInstances(tenant, "survived a hydra crash");
    if (child === undefined) throw new Error("hydra is not running");
    await kill9(child);
    child = await startChild();
    await expectReadyWithoutDuplicates(tenant, id, "survived a hydra crash");
  });

  it("kill -9 of restate-server mid-deploy, restart: READY, no duplicate containers", async () => {
    const tenant = await createTenant(stack);
    const id = await deployAndWaitForInstances(tenant, "survived a restate crash");
    await stack.restate.kill();
    await stack.restate.restart();
    await expectReadyWithoutDuplicates(tenant, id, "survived a restate crash");
  });

  it("kill -9 of hydra mid-build, restart: READY, one build ran, each log line stored once", async () => {
    const tenant = await createTenant(stack);
    const marker = `BUILD-RAN-${stack.podman.runId}`;
    const since = Date.now();
    const key = await uploadContext(stack, tenant, {
      // The RUN prints a line that differs on every execution (time and pid), then takes a
      // while, so that hydra is killed while it runs.
      Dockerfile: `${BUSYBOX_BASE}COPY www /www\nRUN echo "${marker}-$(date +%s)-$$" && /bin/busybox sleep 6 && echo "slept ${marker}"\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "built across a hydra crash",
    });
    const id = await deployContext(stack, tenant, key, { regions: ["local-1"] });
    const ran = new RegExp(`^${marker}-\\d+-\\d+$`);
    await eventually("the build's RUN to be logged", async () =>
      (await logLinesOf(stack, id)).some((l) => ran.test(l.text)) ? true : undefined,
    );
    const jobsRoot = stack.hydraConfig().buildJobsDir;
    expect((await Effect.runPromise(readBuildJob(jobsRoot, id))).status).toBe("running");
    if (child === undefined) throw new Error("hydra is not running");
    await kill9(child);
    child = await startChild();

    const deployment = await settled(stack, tenant, id, 240_000);
    expect(deployment.errorMessage).toBeUndefined();
    expect(deployment.status).toBe("READY");
    const tag = ferryImageTag(tenant.projectId, id);
    expect(deployment.image).toBe(tag);

    // Exactly what the one job wrote, in order, each line once; its RUN ran once.
    const stored = (await logLinesOf(stack, id)).map((l) => l.text);
    const written = (await readFile(join(jobsRoot, id, "build.log"), "utf8")).split("\n");
    expect(written.pop()).toBe("");
    expect(stored).toStrictEqual(written);
    expect(stored.filter((text) => ran.test(text))).toHaveLength(1);
    expect(stored.filter((text) => text === `slept ${marker}`)).toHaveLength(1);
    // One job, finished, its runner gone; the image tagged; the context download removed.
    expect((await readdir(jobsRoot)).filter((name) => name.includes(id))).toStrictEqual([id]);
    const job = await Effect.runPromise(readBuildJob(jobsRoot, id));
    expect(job.status).toBe("succeeded");
    // The runner records its state, then exits: it may still be on its way out.
    await eventually(
      "the job's runner to exit",
      async () => ((await runnerAlive(jobsRoot, id)) ? undefined : true),
      10_000,
      100,
    );
    expect(await Effect.runPromise(stack.engine.imageExists(tag))).toBe(true);
    expect(
      await readdir(join(dirname(stack.hydraConfig().workDir), "hydra", "contexts")),
    ).toStrictEqual([]);
    // One instance, serving what was built; no other container of the deployment.
    const instances = await instancesOf(stack, id);
    expect(instances.map((i) => [i.region, i.status])).toStrictEqual([["local-1", "RUNNING"]]);
    expect((await containersOf(stack, id)).map((c) => c.Id)).toStrictEqual(
      instances.map((i) => i.containerId),
    );
    expect((await httpGet(instances[0]?.port ?? 0)).body).toBe("built across a hydra crash");
    expect(await buildContainersSince(stack, since)).toStrictEqual([]);
  });

  it("a build longer than FERRY_BUILD_TIMEOUT_MS: FAILED naming the limit and the setting, nothing left", async () => {
    await restartChild({ FERRY_BUILD_TIMEOUT_MS: "8000" });
    try {
      const tenant = await createTenant(stack);
      const marker = `SLOW-BUILD-${stack.podman.runId}`;
      const since = Date.now();
      const key = await uploadContext(stack, tenant, {
        Dockerfile: `${BUSYBOX_BASE}RUN echo "${marker}" && /bin/busybox sleep 16 && echo "${marker} woke"\nCMD ["/bin/busybox", "true"]\n`,
      });
      const id = await deployContext(stack, tenant, key, { regions: ["local-1"] });
      const deployment = await settled(stack, tenant, id, 120_000);
      expect(deployment.status).toBe("FAILED");
      expect(deployment.errorMessage).toBe(
        "the build did not finish within 8 s and was stopped; hydra's build timeout FERRY_BUILD_TIMEOUT_MS (now 8000) allows longer builds",
      );
      // Stopped before its RUN ended (usually while the RUN sleeps; on a loaded machine it may
      // not have begun yet): nothing the RUN printed after the stop reached the log.
      const logged = (await logLinesOf(stack, id)).map((l) => l.text);
      expect(logged).not.toContain(`${marker} woke`);
      const steps = await stack.run(Effect.flatMap(DeploymentRepository, (d) => d.listSteps(id)));
      expect(steps.map((s) => [s.name, s.status])).toStrictEqual([["BUILDING", "FAILED"]]);

      const jobsRoot = stack.hydraConfig().buildJobsDir;
      const job = await Effect.runPromise(readBuildJob(jobsRoot, id));
      expect(job.status).toBe("failed");
      await eventually(
        "the job's runner to exit",
        async () => ((await runnerAlive(jobsRoot, id)) ? undefined : true),
        10_000,
        100,
      );
      // Podman lets a RUN under way finish after the build is dropped (packages/builder
      // README), and on a loaded machine the RUN may only begin after the drop: wait until no
      // process of it has been seen for 5 s in a row, then nothing of the build may be left.
      let quietSince = Date.now();
      await eventually(
        "the RUN's processes to end for good",
        async () => {
          if ((await processesMentioning(marker)).length > 0) quietSince = Date.now();
          return Date.now() - quietSince >= 5_000 ? true : undefined;
        },
        90_000,
        250,
      );
      expect(
        await Effect.runPromise(stack.engine.imageExists(ferryImageTag(tenant.projectId, id))),
      ).toBe(false);
      expect(await containersOf(stack, id)).toStrictEqual([]);
      expect(await buildContainersSince(stack, since)).toStrictEqual([]);
      expect(await instancesOf(stack, id)).toStrictEqual([]);
    } finally {
      await restartChild();
    }
  });

  it("the child logged structured JSON only, and never a secret key", () => {
    expect(output.length).toBeGreaterThan(0);
    for (const line of output) {
      expect(() => JSON.parse(line), line).not.toThrow();
      expect(line).not.toContain(stack.secretKeys.split(":")[1] ?? "<none>");
    }
  });
});
