/**
 * End to end, on real parts: the stack as `pnpm start` runs it (restate-server,
 * ctrl with its embedded PGlite, hydra, Podman), driven through the public API
 * with a client generated from the proto.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DeploymentService, DeploymentStatus, ProjectService } from "@ferry/api";
import { makeDockerEngine } from "@ferry/containers";
import { exitingImage, removeContainersByLabels, webServerImage } from "@ferry/containers/testing";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../src/config.ts";
import { type Stack, startStack } from "../src/stack.ts";

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });

let stack: Stack;
let dataDir: string;
const output: Array<string> = [];

const bearer =
  (token: string): Interceptor =>
  (next) =>
  (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };

const clients = () => {
  const transport = createConnectTransport({
    baseUrl: stack.apiUrl,
    httpVersion: "1.1",
    interceptors: [bearer(stack.apiKey)],
  });
  return {
    projects: createClient(ProjectService, transport),
    deployments: createClient(DeploymentService, transport),
  };
};

const engine = () => makeDockerEngine({ url: stack.engineUrl ?? "" });

const TERMINAL = new Set([
  DeploymentStatus.READY,
  DeploymentStatus.FAILED,
  DeploymentStatus.CANCELLED,
  DeploymentStatus.SUPERSEDED,
]);

const untilTerminal = async (id: string, timeoutMs = 150_000) => {
  const { deployments } = clients();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { deployment } = await deployments.getDeployment({ deploymentId: id });
    if (deployment && TERMINAL.has(deployment.status)) return deployment;
    if (Date.now() > deadline)
      throw new Error(`deployment ${id} not terminal: ${deployment?.status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "ferry-e2e-"));
  const config = loadStackConfig({
    FERRY_DATA_DIR: dataDir,
    FERRY_API_PORT: String(await freePort()),
    FERRY_HYDRA_PORT: String(await freePort()),
    FERRY_RESTATE_INGRESS_PORT: String(await freePort()),
    FERRY_RESTATE_ADMIN_PORT: String(await freePort()),
    FERRY_RESTATE_NODE_PORT: String(await freePort()),
    FERRY_LOG_LEVEL: "info",
  });
  stack = await startStack(config, {
    onLine: (part, line) => output.push(`[${part}] ${line}`),
    say: () => undefined,
  });
  expect(stack.engineUrl).toBeDefined();
});

afterAll(async () => {
  // Containers first: stop() also stops the Podman service the stack started.
  if (stack?.engineUrl)
    await removeContainersByLabels(engine(), { "ferry.installation": stack.installation });
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the stack, end to end", () => {
  it("refuses calls without a valid API key", async () => {
    const transport = createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" });
    const error = await createClient(ProjectService, transport)
      .listProjects({})
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it("deploys a prebuilt image in two regions to READY; every instance answers HTTP", async () => {
    const image = await webServerImage(engine(), { content: "hello from e2e v1" });
    const { projects, deployments } = clients();
    const { project } = await projects.createProject({ name: "Web", slug: "web" });
    expect(project?.environments.map((e) => e.slug).sort()).toEqual(["preview", "production"]);
    const created = await deployments.createDeployment({
      projectId: project?.id ?? "",
      environmentSlug: "production",
      source: { case: "dockerImage", value: image },
      gitCommit: { branch: "main", commitSha: "abc1234", timestamp: BigInt(Date.now()) },
    });
    expect(created.status).toBe(DeploymentStatus.PENDING);

    const deployment = await untilTerminal(created.deploymentId);
    expect(deployment.errorMessage).toBe("");
    expect(deployment.status).toBe(DeploymentStatus.READY);
    expect(deployment.regions).toEqual(["local-1", "local-2"]);
    expect(deployment.steps.map((step) => step.name)).toEqual(["DEPLOYING", "NETWORK", "READY"]);
    expect(deployment.hostnames).toEqual(
      expect.arrayContaining([
        "web--default.ferry.localhost",
        "web--git--main--default.ferry.localhost",
      ]),
    );

    const containers = await Effect.runPromise(
      engine().listContainers({ "ferry.deployment": created.deploymentId }),
    );
    expect(containers.map((c) => c.Labels?.["ferry.region"]).sort()).toEqual([
      "local-1",
      "local-2",
    ]);
    for (const container of containers) {
      const port = container.Ports?.find((p) => p.PrivatePort === 8080)?.PublicPort;
      const answer = await fetch(`http://127.0.0.1:${port}/`);
      expect(await answer.text()).toContain("hello from e2e v1");
    }
  });

  it("an image that exits at once: FAILED with a clear message and no container left", async () => {
    const image = await exitingImage(engine(), { exitCode: 3 });
    const { projects, deployments } = clients();
    const { project } = await projects.getProject({ key: { case: "slug", value: "web" } });
    const created = await deployments.createDeployment({
      projectId: project?.id ?? "",
      environmentSlug: "preview",
      source: { case: "dockerImage", value: image },
    });
    const deployment = await untilTerminal(created.deploymentId);
    expect(deployment.status).toBe(DeploymentStatus.FAILED);
    expect(deployment.errorMessage).toContain("container exited with code 3");
    const left = await Effect.runPromise(
      engine().listContainers({ "ferry.deployment": created.deploymentId }),
    );
    expect(left).toEqual([]);
  });

  it("20 CreateDeployment calls at once run one at a time; each ends; newest wins", async () => {
    const image = await webServerImage(engine(), { content: "concurrent" });
    const { projects, deployments } = clients();
    const { project } = await projects.createProject({ name: "Busy", slug: "busy" });
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        deployments.createDeployment({
          projectId: project?.id ?? "",
          environmentSlug: "preview",
          source: { case: "dockerImage", value: image },
          regions: ["local-1"],
          gitCommit: { branch: "main", commitMessage: `commit ${i}` },
        }),
      ),
    );
    const finished = await Promise.all(created.map((c) => untilTerminal(c.deploymentId, 200_000)));
    const statuses = finished.map((d) => d.status);
    expect(
      statuses.every((s) => s === DeploymentStatus.READY || s === DeploymentStatus.SUPERSEDED),
    ).toBe(true);
    expect(statuses.filter((s) => s === DeploymentStatus.SUPERSEDED).length).toBeGreaterThan(0);
    // The newest (largest id) is never superseded: newest wins.
    const newest = [...finished].sort((a, b) => (a.id < b.id ? 1 : -1))[0];
    expect(newest?.status).toBe(DeploymentStatus.READY);
    // Serialized per project: the READY deployments' step windows never overlap.
    const windows = finished
      .filter((d) => d.status === DeploymentStatus.READY)
      .map((d) => ({
        start: Math.min(...d.steps.map((s) => Number(s.startedAt))),
        end: Math.max(...d.steps.map((s) => Number(s.endedAt))),
      }))
      .sort((a, b) => a.start - b.start);
    for (let i = 1; i < windows.length; i++) {
      expect(windows[i]?.start).toBeGreaterThanOrEqual(windows[i - 1]?.end ?? 0);
    }
  });
});
