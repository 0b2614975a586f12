/**
 * The WorkflowEngine over a real restate-server and a test implementation of the `project`
 * object. The server runs with Restate's test switches: no retries (a handler error fails at
 * once) and always replay (every await suspends and resumes from the journal).
 */
import { NotFound, PreconditionFailed, WorkflowUnavailable } from "@ferry/domain";
import { Exit } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkflowEngine, RestateWorkflowDefect } from "../src/engine.ts";
import { listInvocations, waitForInvocation } from "../src/server.ts";
import {
  defectOf,
  exitOf,
  failureOf,
  fixture,
  type Harness,
  newDeploymentId,
  newProjectId,
  newWorkspaceId,
  runsOf,
  startHarness,
} from "./support.ts";

let harness: Harness;
let engine: ReturnType<typeof makeWorkflowEngine>;

beforeAll(async () => {
  harness = await startHarness({ noRetries: true, alwaysReplay: true });
  engine = makeWorkflowEngine({
    ingressUrl: harness.server.ingressUrl,
    adminUrl: harness.server.adminUrl,
    requestTimeoutMs: 10_000,
  });
});

afterAll(async () => {
  await harness?.dispose();
});

const operation = () => ({ workspaceId: newWorkspaceId(), projectId: newProjectId() });

describe("startDeploy", () => {
  it("sends one-way and is idempotent by deployment id", async () => {
    const deploymentId = newDeploymentId();
    fixture.deploySleepMs.set(deploymentId, 2_000);
    const op = { ...operation(), deploymentId };

    const first = await exitOf(engine.startDeploy(op));
    const second = await exitOf(engine.startDeploy(op));
    expect(Exit.isSuccess(first) && Exit.isSuccess(second)).toBe(true);
    if (!Exit.isSuccess(first) || !Exit.isSuccess(second)) return;
    expect(first.value.invocationId).toMatch(/^inv_/);
    expect(second.value.invocationId).toBe(first.value.invocationId);

    // One-way: both calls returned while the handler is still in its 2 s sleep.
    const [during] = await listInvocations(
      harness.server.adminUrl,
      `id = '${first.value.invocationId}'`,
    );
    expect(during?.status).not.toBe("completed");

    const done = await waitForInvocation(harness.server.adminUrl, first.value.invocationId);
    expect(done.completion_result).toBe("success");
    expect(done.idempotency_key).toBe(deploymentId);
    expect(runsOf("deploy", deploymentId)).toBe(1);
    const all = await listInvocations(
      harness.server.adminUrl,
      `target_service_key = '${op.projectId}'`,
    );
    expect(all).toHaveLength(1);
  });
});

describe("promote and rollback", () => {
  it("map an ok outcome to the TrafficResult", async () => {
    const target = newDeploymentId();
    const exit = await exitOf(engine.promote({ ...operation(), targetDeploymentId: target }));
    expect(exit).toEqual(
      Exit.succeed({ liveDeploymentId: target, rolledBack: false, changed: true }),
    );

    const source = newDeploymentId();
    const rollbackTarget = newDeploymentId();
    const rolledBack = await exitOf(
      engine.rollback({
        ...operation(),
        sourceDeploymentId: source,
        targetDeploymentId: rollbackTarget,
      }),
    );
    expect(rolledBack).toEqual(
      Exit.succeed({ liveDeploymentId: rollbackTarget, rolledBack: true, changed: true }),
    );
  });

  it("map a null live deployment to undefined", async () => {
    const target = newDeploymentId();
    fixture.traffic.set(target, {
      ok: true,
      result: { liveDeploymentId: null, rolledBack: false, changed: false },
    });
    const exit = await exitOf(engine.promote({ ...operation(), targetDeploymentId: target }));
    expect(exit).toEqual(
      Exit.succeed({ liveDeploymentId: undefined, rolledBack: false, changed: false }),
    );
  });

  it("map a PreconditionFailed refusal to PreconditionFailed", async () => {
    const target = newDeploymentId();
    const reason = `deployment ${target} is not READY`;
    fixture.traffic.set(target, { ok: false, refusal: { _tag: "PreconditionFailed", reason } });
    const exit = await exitOf(engine.promote({ ...operation(), targetDeploymentId: target }));
    expect(failureOf(exit)).toEqual(new PreconditionFailed({ reason }));
  });

  it("map a NotFound refusal to NotFound, an unknown resource kind to deployment", async () => {
    const target = newDeploymentId();
    fixture.traffic.set(target, {
      ok: false,
      refusal: { _tag: "NotFound", resource: "environment", id: "env_x" },
    });
    const exit = await exitOf(
      engine.rollback({
        ...operation(),
        sourceDeploymentId: newDeploymentId(),
        targetDeploymentId: target,
      }),
    );
    expect(failureOf(exit)).toEqual(new NotFound({ resource: "environment", id: "env_x" }));

    const other = newDeploymentId();
    fixture.traffic.set(other, {
      ok: false,
      refusal: { _tag: "NotFound", resource: "widget", id: other },
    });
    const unknownKind = await exitOf(engine.promote({ ...operation(), targetDeploymentId: other }));
    expect(failureOf(unknownKind)).toEqual(new NotFound({ resource: "deployment", id: other }));
  });

  it("pass the idempotency key, prefixed by workspace and operation", async () => {
    const target = newDeploymentId();
    const op = { ...operation(), idempotencyKey: "req-1", targetDeploymentId: target };
    const first = await exitOf(engine.promote(op));
    const repeat = await exitOf(engine.promote(op));
    expect(Exit.isSuccess(first)).toBe(true);
    expect(repeat).toEqual(first);
    expect(runsOf("promote", target)).toBe(1);

    // The same client key in another workspace is another operation.
    const elsewhere = await exitOf(engine.promote({ ...op, workspaceId: newWorkspaceId() }));
    expect(Exit.isSuccess(elsewhere)).toBe(true);
    expect(runsOf("promote", target)).toBe(2);

    const rows = await listInvocations(
      harness.server.adminUrl,
      `target_service_key = '${op.projectId}'`,
    );
    expect(rows.map((row) => row.idempotency_key)).toContain(`${op.workspaceId}:promote:req-1`);
  });

  it("surface a handler's terminal failure as a defect (Internal), not Unavailable", async () => {
    const target = newDeploymentId();
    fixture.traffic.set(target, { terminal: "routes table is corrupt" });
    const op = { ...operation(), targetDeploymentId: target };
    const exit = await exitOf(engine.promote(op));
    const defect = defectOf(exit);
    expect(defect).toBeInstanceOf(RestateWorkflowDefect);
    expect(String((defect as Error).message)).toBe(
      `the Restate handler project/${op.projectId}/promote failed (code 500): routes table is corrupt`,
    );
  });

  it("answer WorkflowUnavailable when the handler does not answer in time", async () => {
    const target = newDeploymentId();
    fixture.traffic.set(target, { sleepMs: 3_000 });
    const impatient = makeWorkflowEngine({
      ingressUrl: harness.server.ingressUrl,
      adminUrl: harness.server.adminUrl,
      requestTimeoutMs: 500,
    });
    const op = { ...operation(), idempotencyKey: "slow", targetDeploymentId: target };
    const exit = await exitOf(impatient.promote(op));
    const failure = failureOf(exit);
    expect(failure).toBeInstanceOf(WorkflowUnavailable);
    expect(failure?.message).toContain(
      `Restate ingress at ${harness.server.ingressUrl} did not answer project/${op.projectId}/promote within 500 ms`,
    );
    // The invocation kept running; the same key attaches to it and gets its result.
    const attached = await exitOf(engine.promote(op));
    expect(attached).toEqual(
      Exit.succeed({ liveDeploymentId: target, rolledBack: false, changed: true }),
    );
    expect(runsOf("promote", target)).toBe(1);
  });
});

describe("cancel", () => {
  it("cancels a running invocation: it ends cancelled", async () => {
    const deploymentId = newDeploymentId();
    fixture.deploySleepMs.set(deploymentId, 60_000);
    const started = await exitOf(engine.startDeploy({ ...operation(), deploymentId }));
    if (!Exit.isSuccess(started)) throw new Error("startDeploy failed");
    const { invocationId } = started.value;
    await waitForInvocation(harness.server.adminUrl, invocationId, {
      status: ["running", "suspended"],
    });

    expect(await exitOf(engine.cancel(invocationId))).toEqual(Exit.succeed("cancelling"));
    const done = await waitForInvocation(harness.server.adminUrl, invocationId);
    expect(done.completion_result).toBe("failure");
    expect(done.completion_failure).toContain("Cancelled");

    // Cancelling it again (completed now) still succeeds, and says there was nothing to cancel.
    expect(await exitOf(engine.cancel(invocationId))).toEqual(Exit.succeed("gone"));
  });

  it("succeeds for a finished and for an unknown invocation, answering gone", async () => {
    const deploymentId = newDeploymentId();
    const started = await exitOf(engine.startDeploy({ ...operation(), deploymentId }));
    if (!Exit.isSuccess(started)) throw new Error("startDeploy failed");
    await waitForInvocation(harness.server.adminUrl, started.value.invocationId);
    expect(await exitOf(engine.cancel(started.value.invocationId))).toEqual(Exit.succeed("gone"));

    // A well-formed id that Restate never issued.
    const unknown = await exitOf(engine.cancel("inv_1fmRNvSNVxNp5PTqHI4HLJ17HpxzhB3MEV"));
    expect(unknown).toEqual(Exit.succeed("gone"));
  });
});
