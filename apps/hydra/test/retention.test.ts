/**
 * Retention on real parts: restate-server (replaying the journal at every await), PGlite over
 * its socket (or PostgreSQL), Podman, local build storage, hydra in-process with a 1 s period.
 * Builds that failed, or that a newer READY superseded (once their instances are stopped), lose
 * their stored context, hydra's downloaded copy, their build job and their image; the live
 * deployment (a pinned rollback target) and the latest READY of the environment keep theirs.
 * Uploads no deployment references are removed once older than the upload URL TTL + period.
 */
import { access, mkdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ferryImageTag } from "@ferry/builder";
import {
  type DeploymentId,
  InstanceRepository,
  RetentionRepository,
  WorkflowEngine,
} from "@ferry/domain";
import { listInvocations } from "@ferry/restate/server";
import { Effect, Option } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askForSweep } from "../src/retention/trigger.ts";
import {
  BUSYBOX_BASE,
  containersOf,
  createTenant,
  deploy,
  deployContext,
  eventually,
  exitingImage,
  httpGet,
  instancesOf,
  type Stack,
  settled,
  startStack,
  type Tenant,
  uploadContext,
} from "./support/stack.ts";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    alwaysReplay: true,
    // One deployment (one stored object) per page: a sweep must go through many pages.
    hydra: {
      // Uploads count as abandoned 61 s after they were written (TTL + period).
      retention: { periodMs: 1_000, intervalSeconds: 0, batchSize: 1, uploadUrlTtlSeconds: 60 },
    },
  });
});

afterAll(async () => {
  await stack?.close();
});

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );
const imageExists = (ref: string) => Effect.runPromise(stack.engine.imageExists(ref));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const WEB = (content: string) => ({
  Dockerfile: `${BUSYBOX_BASE}COPY www /www\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
  "www/index.html": content,
});

/** Where each artifact of a build deployment lives, and whether it is there. */
const artifactsOf = async (tenant: Tenant, id: DeploymentId, key: string) => {
  const config = stack.hydraConfig();
  return {
    storedContext: await exists(join(stack.buildStorageDir, key)),
    downloadedContext: await exists(join(config.workDir, "contexts", `${id}.tar.gz`)),
    buildJob: await exists(join(config.buildJobsDir, id)),
    image: await imageExists(ferryImageTag(tenant.projectId, id)),
  };
};

describe("retention", () => {
  it("removes old failed and superseded builds' artifacts; the live and the latest READY keep theirs", async () => {
    const hydra = stack.hydra;
    if (hydra === undefined) throw new Error("hydra is not running");
    const tenant = await createTenant(stack);
    const build = async (files: Record<string, string>, status: "READY" | "FAILED") => {
      const key = await uploadContext(stack, tenant, files);
      const id = await deployContext(stack, tenant, key, { regions: ["local-1"] });
      const deployment = await settled(stack, tenant, id, 240_000);
      expect(deployment.status, deployment.errorMessage).toBe(status);
      return { id, key };
    };
    // One after the other: deployments queued together would supersede each other.
    const v1 = await build(WEB("v1"), "READY");
    const v2 = await build(WEB("v2"), "READY");
    const v3 = await build(WEB("v3"), "READY");
    const brokenBuild = await build({ Dockerfile: `${BUSYBOX_BASE}RUN exit 3\n` }, "FAILED");
    const crashing = await build(
      { Dockerfile: `${BUSYBOX_BASE}CMD ["/bin/busybox", "false"]\n` },
      "FAILED",
    );
    const prebuilt = await exitingImage(stack.engine, { exitCode: 4 });
    const prebuiltId = await deploy(stack, tenant, prebuilt, { regions: ["local-1"] });
    expect((await settled(stack, tenant, prebuiltId)).status).toBe("FAILED");

    // Roll production back to v2: v2 is live (pinned), v3 stays the environment's latest READY.
    const rolledBack = await stack.run(
      Effect.flatMap(WorkflowEngine, (engine) =>
        engine.rollback({
          workspaceId: tenant.workspace.id,
          projectId: tenant.projectId as never,
          sourceDeploymentId: v3.id,
          targetDeploymentId: v2.id,
        }),
      ),
    );
    expect(rolledBack).toMatchObject({ liveDeploymentId: v2.id, rolledBack: true });

    // v1, superseded, is scaled down (as an operator would): without running instances no
    // rollback can use it, so its artifacts may go.
    for (const container of await containersOf(stack, v1.id))
      await Effect.runPromise(stack.engine.removeContainer(container.Id));
    await stack.run(
      Effect.flatMap(InstanceRepository, (instances) =>
        instances.updateStatus({
          deploymentId: v1.id,
          to: "STOPPED",
          at: Date.now(),
          from: ["STARTING", "RUNNING"],
        }),
      ),
    );

    // Everything is there before the sweep (the test can fail).
    expect(await artifactsOf(tenant, v1.id, v1.key)).toStrictEqual({
      storedContext: true,
      downloadedContext: false, // removed once the build succeeded
      buildJob: true,
      image: true,
    });
    // What a hydra killed mid-download leaves behind.
    const contextsDir = join(stack.hydraConfig().workDir, "contexts");
    await mkdir(contextsDir, { recursive: true });
    const leftover = join(contextsDir, `${brokenBuild.id}.tar.gz.0a1b2c.partial`);
    await writeFile(leftover, "half an archive");
    expect(await artifactsOf(tenant, brokenBuild.id, brokenBuild.key)).toMatchObject({
      storedContext: true,
      buildJob: true,
      image: false,
    });
    expect(await artifactsOf(tenant, crashing.id, crashing.key)).toMatchObject({
      storedContext: true,
      buildJob: true,
      image: true,
    });

    // Uploads: one abandoned long ago (its CreateDeployment refused or never made), one just
    // uploaded, and one of a kept deployment written as long ago: only the first goes.
    const storedAt = (key: string) => join(stack.buildStorageDir, key);
    const longAgo = new Date(Date.now() - 600_000);
    const abandoned = await uploadContext(stack, tenant, WEB("never deployed"));
    await utimes(storedAt(abandoned), longAgo, longAgo);
    const fresh = await uploadContext(stack, tenant, WEB("about to be deployed"));
    await utimes(storedAt(v2.key), longAgo, longAgo);

    await sleep(1_100); // past the period
    const report = await hydra.sweepRetention();
    expect(report.skipped).toBeNull();
    expect(report.failed).toStrictEqual([]);
    expect([...report.removed].sort()).toStrictEqual([v1.id, brokenBuild.id, crashing.id].sort());
    // The query leaves out what the rule keeps (live v2, latest READY v3): not even listed.
    expect(report.kept).toStrictEqual([]);
    expect(report.orphansRemoved).toStrictEqual([abandoned]);
    expect(await exists(storedAt(abandoned))).toBe(false);
    expect(await exists(storedAt(fresh))).toBe(true);

    const gone = { storedContext: false, downloadedContext: false, buildJob: false, image: false };
    for (const removed of [v1, brokenBuild, crashing])
      expect(await artifactsOf(tenant, removed.id, removed.key)).toStrictEqual(gone);
    expect(await exists(leftover)).toBe(false);
    for (const kept of [v2, v3])
      expect(await artifactsOf(tenant, kept.id, kept.key)).toMatchObject({
        storedContext: true,
        buildJob: true,
        image: true,
      });
    // A prebuilt image is never Ferry's to remove.
    expect(await imageExists(prebuilt)).toBe(true);
    // The live and the latest READY deployment still serve.
    for (const [id, content] of [
      [v2.id, "v2"],
      [v3.id, "v3"],
    ] as const) {
      const [instance] = await instancesOf(stack, id);
      expect(await httpGet(instance?.port ?? 0)).toStrictEqual({ status: 200, body: content });
    }

    // Marked once: the next sweep does nothing to them.
    const marked = await stack.run(
      Effect.flatMap(RetentionRepository, (retention) => retention.findFacts(v1.id)),
    );
    expect(Option.getOrThrow(marked).artifactsRemovedAt).toBeGreaterThanOrEqual(report.startedAt);
    const again = await hydra.sweepRetention();
    expect(again.removed).toStrictEqual([]);
    expect(again.failed).toStrictEqual([]);
    expect(again.examined).toBe(0); // v2 and v3 are not candidates at all
    expect(again.orphansRemoved).toStrictEqual([]);
  });

  it("the asks of every replica in one interval are one sweep; a timer's ask right after a sweep is skipped", async () => {
    const ingressUrl = stack.restate.ingressUrl;
    const interval = 3_600;
    const now = Date.now();
    // Three replicas (or one restarted twice) ask in the same slot.
    await Promise.all([1, 2, 3].map(() => askForSweep(ingressUrl, interval, now)));
    const key = `retention-${interval}-${Math.floor(now / (interval * 1_000))}`;
    const sweeps = await eventually("the asked sweep to complete", async () => {
      const rows = await listInvocations(stack.restate.adminUrl, `idempotency_key = '${key}'`);
      return rows.length > 0 && rows.every((r) => r.status === "completed") ? rows : undefined;
    });
    expect(sweeps.map((r) => [r.target, r.completion_result])).toStrictEqual([
      ["retention/retention/sweep", "success"],
    ]);

    // What a timer sends (a minimum gap of half its interval), answered: skipped.
    const response = await fetch(`${ingressUrl}/retention/retention/sweep`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ minGapMs: (interval * 1_000) / 2 }),
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as { skipped: string | null; examined: number };
    expect(report.skipped).toMatch(/^the last sweep started \d+ ms ago$/);
    expect(report.examined).toBe(0);
  });
});
