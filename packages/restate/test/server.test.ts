/**
 * The restate-server harness itself, and the engine when the server goes away: restart keeps
 * state and in-flight invocations, a crash (SIGKILL) loses nothing committed, registration
 * retries until the endpoint is up, and a stopped server makes every engine call
 * WorkflowUnavailable with a message naming where it looked.
 */
import { WorkflowUnavailable } from "@ferry/domain";
import { type Effect, Exit } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkflowEngine } from "../src/engine.ts";
import {
  listInvocations,
  queryAdmin,
  registerDeployment,
  waitForInvocation,
} from "../src/server.ts";
import {
  exitOf,
  failureOf,
  fixture,
  type Harness,
  newDeploymentId,
  newProjectId,
  newWorkspaceId,
  serveTestEndpoint,
  startHarness,
} from "./support.ts";

let harness: Harness;
let engine: ReturnType<typeof makeWorkflowEngine>;

beforeAll(async () => {
  harness = await startHarness();
  engine = makeWorkflowEngine({
    ingressUrl: harness.server.ingressUrl,
    adminUrl: harness.server.adminUrl,
    requestTimeoutMs: 5_000,
  });
});

afterAll(async () => {
  await harness?.dispose();
});

const operation = () => ({ workspaceId: newWorkspaceId(), projectId: newProjectId() });

describe("restate-server harness", () => {
  it("listens on its own ports, not Restate's defaults", () => {
    const { ingress, admin, node } = harness.server.ports;
    expect(new Set([ingress, admin, node]).size).toBe(3);
    for (const port of [ingress, admin, node]) expect([8080, 9070, 5122]).not.toContain(port);
    expect(harness.server.pid()).toBeTypeOf("number");
  });

  it("restart() keeps state: an invocation started before completes after", async () => {
    const deploymentId = newDeploymentId();
    fixture.deploySleepMs.set(deploymentId, 2_000);
    const op = { ...operation(), deploymentId };
    const started = await exitOf(engine.startDeploy(op));
    if (!Exit.isSuccess(started)) throw new Error("startDeploy failed");
    const { invocationId } = started.value;
    await waitForInvocation(harness.server.adminUrl, invocationId, {
      status: ["running", "suspended"],
    });

    const before = harness.server.pid();
    await harness.server.restart();
    expect(harness.server.pid()).not.toBe(before);

    const done = await waitForInvocation(harness.server.adminUrl, invocationId);
    expect(done.completion_result).toBe("success");
    const state = await queryAdmin(
      harness.server.adminUrl,
      `SELECT value_utf8 FROM state WHERE service_name = 'deploys' AND service_key = '${op.projectId}' AND key = 'lastDeploy'`,
    );
    expect(state).toEqual([{ value_utf8: JSON.stringify(deploymentId) }]);
  });

  it("kill() is a crash: after restart() the journal and registrations are still there", async () => {
    const deploymentId = newDeploymentId();
    const op = { ...operation(), deploymentId };
    const started = await exitOf(engine.startDeploy(op));
    if (!Exit.isSuccess(started)) throw new Error("startDeploy failed");
    await waitForInvocation(harness.server.adminUrl, started.value.invocationId);

    await harness.server.kill();
    expect(harness.server.pid()).toBeUndefined();
    await harness.server.restart();

    const rows = await listInvocations(
      harness.server.adminUrl,
      `target_service_key = '${op.projectId}'`,
    );
    expect(rows.map((row) => [row.id, row.status])).toEqual([
      [started.value.invocationId, "completed"],
    ]);
    const promoted = await exitOf(
      engine.promote({ ...operation(), targetDeploymentId: newDeploymentId() }),
    );
    expect(Exit.isSuccess(promoted)).toBe(true);
  });

  it("registerDeployment retries until the endpoint is up", async () => {
    // Reserve a port, then serve on it only after registration has started.
    const probe = await serveTestEndpoint();
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const late = new Promise<Awaited<ReturnType<typeof serveTestEndpoint>>>((resolve, reject) =>
      setTimeout(() => serveTestEndpoint(port).then(resolve, reject), 700),
    );
    const registered = await registerDeployment(harness.server.adminUrl, probe.url, {
      timeoutMs: 10_000,
    });
    expect([...registered.services].sort()).toEqual(["deploys", "project"]);
    await (await late).close();
  });

  it("registerDeployment gives up after its timeout with a clear error", async () => {
    const probe = await serveTestEndpoint();
    await probe.close();
    await expect(
      registerDeployment(harness.server.adminUrl, probe.url, { timeoutMs: 1_000 }),
    ).rejects.toThrow(
      `could not register the deployment ${probe.url} with the Restate admin API at ${harness.server.adminUrl} within 1000 ms`,
    );
  });
});

describe("with Restate down", () => {
  it("every engine call is WorkflowUnavailable, naming the URL it tried", async () => {
    await harness.server.stop();
    const { ingressUrl, adminUrl } = harness.server;
    const op = operation();
    const calls: Record<string, Effect.Effect<unknown, unknown>> = {
      startDeploy: engine.startDeploy({ ...op, deploymentId: newDeploymentId() }),
      promote: engine.promote({ ...op, targetDeploymentId: newDeploymentId() }),
      promoteWithKey: engine.promote({
        ...op,
        idempotencyKey: "k",
        targetDeploymentId: newDeploymentId(),
      }),
      rollback: engine.rollback({
        ...op,
        sourceDeploymentId: newDeploymentId(),
        targetDeploymentId: newDeploymentId(),
      }),
      cancel: engine.cancel("inv_1fmRNvSNVxNp5PTqHI4HLJ17HpxzhB3MEV"),
    };
    for (const [name, call] of Object.entries(calls)) {
      const started = Date.now();
      const failure = failureOf(await exitOf(call));
      expect(failure, name).toBeInstanceOf(WorkflowUnavailable);
      const url = name === "cancel" ? adminUrl : ingressUrl;
      const api = name === "cancel" ? "admin API" : "ingress";
      expect((failure as WorkflowUnavailable).reason, name).toBe(
        `Restate ${api} at ${url} is unreachable (ECONNREFUSED)`,
      );
      // Keyed calls retry (3 attempts, short backoff); none waits for the request timeout.
      expect(Date.now() - started, name).toBeLessThan(3_000);
    }
  });
});
