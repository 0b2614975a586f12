/**
 * Crashes mid-deploy, on real parts: hydra runs as a child process (`node src/main.ts`,
 * configured only through its environment), connected to the test's PGlite over its socket.
 * - kill -9 of hydra while instances are started but not yet healthy, then a restart: Restate
 *   replays the journal, the deploy reaches READY, and no container is started twice;
 * - kill -9 of restate-server at the same point, then a restart: the same.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { DeploymentId } from "@ferry/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  containersOf,
  createTenant,
  deploy,
  eventually,
  findDeployment,
  httpGet,
  instancesOf,
  REGIONS,
  type Stack,
  settled,
  slowWebImage,
  startStack,
  TEST_RUN_LABEL,
  type Tenant,
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
const startChild = async (): Promise<ChildProcess> => {
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

  it("the child logged structured JSON only, and never a secret key", () => {
    expect(output.length).toBeGreaterThan(0);
    for (const line of output) {
      expect(() => JSON.parse(line), line).not.toThrow();
      expect(line).not.toContain(stack.secretKeys.split(":")[1] ?? "<none>");
    }
  });
});
