/**
 * End to end, on real parts: the stack as `pnpm start` runs it (restate-server,
 * ctrl with its embedded PGlite, hydra, Podman), driven through the public API
 * with a client generated from the proto.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DeploymentStatus, ProjectService } from "@ferry/api";
import { exitingImage, webServerImage } from "@ferry/containers/testing";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChild } from "../src/processes.ts";
import {
  clientsOf,
  engineOf,
  freePort,
  viaFrontline as frontlineGet,
  ownHostname,
  serves as servesVia,
  startTestStack,
  type TestStack,
  untilTerminal as terminal,
} from "../src/testing.ts";

let stack: TestStack;

const clients = () => clientsOf(stack);

const engine = () => engineOf(stack);

const untilTerminal = (id: string, timeoutMs?: number) => terminal(clients(), id, timeoutMs);

beforeAll(async () => {
  stack = await startTestStack({ name: "ferry-e2e" });
  expect(stack.engineUrl).toBeDefined();
});

afterAll(async () => {
  await stack?.dispose();
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

const viaFrontline = (host: string) => frontlineGet(stack.frontlineUrl, host);
const serves = (host: string, content: string) => servesVia(stack.frontlineUrl, host, content);

describe("traffic through frontline", () => {
  it("deploy, rollback, deploy while pinned, promote: live and per-deployment hostnames serve the right version", async () => {
    const { projects, deployments } = clients();
    const { project } = await projects.createProject({ name: "Shop", slug: "shop" });
    const projectId = project?.id ?? "";
    const deployVersion = async (content: string) => {
      const image = await webServerImage(engine(), { content });
      const created = await deployments.createDeployment({
        projectId,
        environmentSlug: "production",
        source: { case: "dockerImage", value: image },
        regions: ["local-1"],
      });
      const deployment = await untilTerminal(created.deploymentId);
      expect(deployment.status).toBe(DeploymentStatus.READY);
      return deployment;
    };
    const live = "shop--default.ferry.localhost";
    const environment = "shop--production--default.ferry.localhost";

    const v1 = await deployVersion("shop v1");
    await serves(live, "shop v1");
    const v2 = await deployVersion("shop v2");
    await serves(live, "shop v2");
    await serves(environment, "shop v2");

    const rolledBack = await deployments.rollback({
      sourceDeploymentId: v2.id,
      targetDeploymentId: v1.id,
    });
    expect(rolledBack).toMatchObject({ liveDeploymentId: v1.id, rolledBack: true, changed: true });
    await serves(live, "shop v1");
    await serves(environment, "shop v1");
    // Each deployment's own hostname keeps serving its own version.
    await serves(ownHostname(v1), "shop v1");
    await serves(ownHostname(v2), "shop v2");

    // Pinned: v3 gets its own hostname, not the live one.
    const v3 = await deployVersion("shop v3");
    await serves(ownHostname(v3), "shop v3");
    expect(await viaFrontline(live)).toStrictEqual({ status: 200, body: "shop v1" });

    const promoted = await deployments.promote({ targetDeploymentId: v3.id });
    expect(promoted).toMatchObject({ liveDeploymentId: v3.id, rolledBack: false, changed: true });
    await serves(live, "shop v3");
    const again = await deployments.promote({ targetDeploymentId: v3.id });
    expect(again).toMatchObject({ liveDeploymentId: v3.id, rolledBack: false, changed: false });
    expect(await viaFrontline(live)).toStrictEqual({ status: 200, body: "shop v3" });

    // 50 promotes and rollbacks at once: afterwards the project, its routes and what frontline
    // serves agree, and no route points at a stopped deployment.
    const calls = Array.from({ length: 50 }, (_, i) =>
      (i % 2 === 0
        ? deployments.rollback({ sourceDeploymentId: v3.id, targetDeploymentId: v1.id })
        : deployments.promote({ targetDeploymentId: v3.id })
      ).then(
        (r) => ({ ok: true as const, live: r.liveDeploymentId }),
        (e: unknown) => ({ ok: false as const, code: ConnectError.from(e).code }),
      ),
    );
    const outcomes = await Promise.all(calls);
    // A rollback that finds v1 already live (and pinned) is a success; one that finds v3 no
    // longer live is FailedPrecondition. Nothing else may happen.
    for (const outcome of outcomes)
      if (!outcome.ok) expect(outcome.code).toBe(Code.FailedPrecondition);
    const { project: after } = await projects.getProject({
      key: { case: "projectId", value: projectId },
    });
    const liveId = after?.liveDeploymentId ?? "";
    expect([v1.id, v3.id]).toContain(liveId);
    const liveContent = liveId === v1.id ? "shop v1" : "shop v3";
    await serves(live, liveContent);
    await serves(environment, liveContent);
    expect(after?.rolledBack).toBe(liveId === v1.id);
    for (const d of [v1, v2, v3]) {
      const { deployment } = await deployments.getDeployment({ deploymentId: d.id });
      expect(deployment?.status).toBe(DeploymentStatus.READY);
    }
  });

  it("a second frontline process receives the same pushed changes", async () => {
    const port = await freePort();
    const secondOutput: Array<string> = [];
    const second = startChild({
      name: "frontline-2",
      entry: path.resolve(import.meta.dirname, "../../frontline/src/main.ts"),
      cwd: path.resolve(import.meta.dirname, "../../frontline"),
      env: {
        PATH: process.env.PATH,
        FERRY_FRONTLINE_PORT: String(port),
        FERRY_CTRL_URL: stack.apiUrl,
        FERRY_INTERNAL_TOKEN: readFileSync(
          path.join(stack.dataDir, "internal-token"),
          "utf8",
        ).trim(),
      },
      onLine: (line) => secondOutput.push(line),
    });
    try {
      const { projects, deployments } = clients();
      const { project } = await projects.getProject({ key: { case: "slug", value: "shop" } });
      const live = "shop--default.ferry.localhost";
      const { deployments: listed } = await deployments.listDeployments({
        projectId: project?.id ?? "",
      });
      const ready = listed.filter((d) => d.status === DeploymentStatus.READY);
      const newest = ready[0];
      const oldest = ready.at(-1);
      if (newest === undefined || oldest === undefined) throw new Error("no READY deployments");
      await deployments.promote({ targetDeploymentId: newest.id });
      const secondServes = async (content: string) => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const answer = await frontlineGet(`http://127.0.0.1:${port}`, live).then(
            (a) => a.body,
            () => "",
          );
          if (answer === content) return;
          if (Date.now() > deadline)
            throw new Error(
              `second frontline served "${answer}"\n${secondOutput.slice(-20).join("\n")}`,
            );
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await secondServes("shop v3");
      await deployments.rollback({ sourceDeploymentId: newest.id, targetDeploymentId: oldest.id });
      await serves(live, "shop v1");
      await secondServes("shop v1");
    } finally {
      await second.stop();
    }
  });

  it("answers 404 for an unknown hostname without leaking addresses", async () => {
    const answer = await viaFrontline("nothing-here.ferry.localhost");
    expect(answer.status).toBe(404);
    expect(answer.body).not.toMatch(/127\.0\.0\.1|:\d{4,5}/);
  });
});
