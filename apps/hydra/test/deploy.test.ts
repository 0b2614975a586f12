/**
 * The deploy workflow on real parts: restate-server (replaying the journal at every await),
 * PGlite over its socket (or PostgreSQL), Podman, hydra in-process. Deployments are created
 * with the domain's CreateDeployment, which sends them through the Restate adapter like ctrl.
 */

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { readBuildJob } from "@ferry/builder";
import {
  CONTAINER_LABELS,
  cancelDeployment,
  type DeploymentId,
  DeploymentRepository,
  ProjectRepository,
  RouteRepository,
  setEnvironmentVariables,
  WorkflowEngine,
} from "@ferry/domain";
import { listInvocations } from "@ferry/restate/server";
import { Effect, Either, Option } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APEX,
  BUSYBOX_BASE,
  containersOf,
  createTenant,
  deploy,
  deployContext,
  envEchoImage,
  eventually,
  exitingImage,
  findDeployment,
  httpGet,
  instancesOf,
  logLinesOf,
  type Stack,
  settled,
  slowWebImage,
  startStack,
  TEST_RUN_LABEL,
  uploadContext,
  webServerImage,
} from "./support/stack.ts";

let stack: Stack;
let envImage: string;

beforeAll(async () => {
  stack = await startStack({ alwaysReplay: true });
  envImage = await envEchoImage(stack.engine, "hello from v1");
});

afterAll(async () => {
  await stack?.close();
});

const stepsOf = (id: DeploymentId) =>
  stack.run(Effect.flatMap(DeploymentRepository, (d) => d.listSteps(id)));
const routesOf = (id: DeploymentId) =>
  stack.run(Effect.flatMap(RouteRepository, (r) => r.listByDeployment(id)));

describe("deploy", () => {
  it("runs a prebuilt image in two regions: READY, containers answer, steps and routes recorded", async () => {
    const tenant = await createTenant(stack);
    const secretValue = "s3cr3t-token-value-4711";
    await stack.run(
      setEnvironmentVariables(tenant.workspace.id, {
        projectId: tenant.projectId,
        environmentSlug: "production",
        variables: [
          { key: "GREETING", value: "hi" },
          { key: "TOKEN", value: secretValue, secret: true },
        ],
      }),
    );
    const id = await deploy(stack, tenant, envImage, { branch: "main" });
    const deployment = await settled(stack, tenant, id);
    expect(deployment.errorMessage).toBeUndefined();
    expect(deployment.status).toBe("READY");

    // One instance per region, RUNNING, each container answering with the content.
    const instances = await instancesOf(stack, id);
    expect(instances.map((i) => [i.region, i.status])).toStrictEqual([
      ["local-1", "RUNNING"],
      ["local-2", "RUNNING"],
    ]);
    for (const instance of instances) {
      expect(instance.port).toBeGreaterThan(0);
      expect(await httpGet(instance.port ?? 0)).toStrictEqual({
        status: 200,
        body: "hello from v1",
      });
      // The variable snapshot reached the container, the secret opened.
      expect((await httpGet(instance.port ?? 0, "/cgi-bin/env")).body.trim()).toBe(
        `greeting=hi token=${secretValue}`,
      );
    }
    const containers = await containersOf(stack, id);
    expect(containers).toHaveLength(2);
    for (const container of containers) {
      expect(container.Labels).toMatchObject({
        [CONTAINER_LABELS.workspace]: tenant.workspace.id,
        [CONTAINER_LABELS.project]: tenant.projectId,
        [CONTAINER_LABELS.deployment]: id,
      });
    }
    expect(containers.map((c) => c.Labels?.[CONTAINER_LABELS.region]).sort()).toStrictEqual([
      "local-1",
      "local-2",
    ]);

    // Steps in order, each with a start and an end.
    const steps = await stepsOf(id);
    expect(steps.map((s) => [s.name, s.status])).toStrictEqual([
      ["DEPLOYING", "SUCCEEDED"],
      ["NETWORK", "SUCCEEDED"],
      ["READY", "SUCCEEDED"],
    ]);
    for (const [index, step] of steps.entries()) {
      expect(step.endedAt).toBeGreaterThanOrEqual(step.startedAt);
      const next = steps[index + 1];
      if (next !== undefined) expect(next.startedAt).toBeGreaterThanOrEqual(step.endedAt ?? 0);
    }
    expect(steps[0]?.message).toBe("2 instances healthy in local-1, local-2");

    // Routes: its own, its branch's, the environment's and (production) the live one.
    const routes = await routesOf(id);
    const slug = tenant.projectSlug;
    const ws = tenant.workspace.slug;
    expect(routes.map((r) => [r.kind, r.hostname])).toStrictEqual([
      ["DEPLOYMENT", `${slug}-${id.slice(4)}.${APEX}`],
      ["BRANCH", `${slug}--git--main--${ws}.${APEX}`],
      ["ENVIRONMENT", `${slug}--production--${ws}.${APEX}`],
      ["LIVE", `${slug}--${ws}.${APEX}`],
    ]);
    const project = await stack.run(
      Effect.flatMap(ProjectRepository, (p) =>
        p.findById(tenant.workspace.id, tenant.projectId as never),
      ).pipe(Effect.map(Option.getOrThrow)),
    );
    expect(project.liveDeploymentId).toBe(id);
    expect(project.rolledBack).toBe(false);

    // The deploy and its activation (the route switch, in the project's routing queue)
    // completed; no log line ever carried the secret.
    const invocations = await listInvocations(
      stack.restate.adminUrl,
      `target_service_key = '${tenant.projectId}'`,
    );
    expect(
      invocations
        .map((i) => [i.target.replace(`/${tenant.projectId}/`, "/"), i.status, i.completion_result])
        .sort(),
    ).toStrictEqual([
      ["deploys/deploy", "completed", "success"],
      ["project/activate", "completed", "success"],
    ]);
    expect(stack.logs.some((line) => line.includes(secretValue))).toBe(false);
  });

  it("an image that exits at once: FAILED with the exit code, no container left", async () => {
    const tenant = await createTenant(stack);
    const image = await exitingImage(stack.engine, { exitCode: 3 });
    const id = await deploy(stack, tenant, image);
    const deployment = await settled(stack, tenant, id);
    expect(deployment.status).toBe("FAILED");
    expect(deployment.errorMessage).toBe("container exited with code 3 during start");
    expect(await containersOf(stack, id)).toStrictEqual([]);
    const instances = await instancesOf(stack, id);
    expect(instances).toHaveLength(2);
    expect(instances.every((i) => i.status === "STOPPED")).toBe(true);
    const steps = await stepsOf(id);
    expect(steps.map((s) => [s.name, s.status, s.message])).toStrictEqual([
      ["DEPLOYING", "FAILED", "container exited with code 3 during start"],
    ]);
    expect(await routesOf(id)).toStrictEqual([]);
  });

  it("a missing image: FAILED naming the image, nothing started", async () => {
    const tenant = await createTenant(stack);
    const id = await deploy(stack, tenant, "localhost/ferry-test-missing:1");
    const deployment = await settled(stack, tenant, id);
    expect(deployment.status).toBe("FAILED");
    expect(deployment.errorMessage).toBe("image not found: localhost/ferry-test-missing:1");
    expect(await containersOf(stack, id)).toStrictEqual([]);
    expect(await instancesOf(stack, id)).toStrictEqual([]);
  });

  it("a health check that never passes: FAILED after the project's timeout, containers removed", async () => {
    // The image serves on 8080; the project says 9999: nothing ever answers.
    const tenant = await createTenant(stack, { containerPort: 9999, healthCheckTimeoutSeconds: 3 });
    const image = await webServerImage(stack.engine, { content: "never seen" });
    const id = await deploy(stack, tenant, image, { regions: ["local-1"] });
    const deployment = await settled(stack, tenant, id);
    expect(deployment.status).toBe("FAILED");
    expect(deployment.errorMessage).toMatch(
      /^health check GET \/ on port 9999 timed out after 3 s \(last answer: .+\)$/,
    );
    expect(await containersOf(stack, id)).toStrictEqual([]);
    expect((await instancesOf(stack, id)).map((i) => i.status)).toStrictEqual(["STOPPED"]);
  });

  it("cancel mid-deploy: CANCELLED, containers removed, the next deployment proceeds", async () => {
    // A health check that would wait a minute: the deploy is cancelled while it waits.
    const tenant = await createTenant(stack, {
      containerPort: 9999,
      healthCheckTimeoutSeconds: 120,
    });
    const image = await webServerImage(stack.engine, { content: "cancel me" });
    const id = await deploy(stack, tenant, image);
    await eventually("both instances to start", async () => {
      const containers = await containersOf(stack, id);
      return containers.length === 2 ? containers : undefined;
    });
    const cancelled = await stack.run(cancelDeployment(tenant.workspace.id, { deploymentId: id }));
    expect(cancelled.status).toBe("CANCELLED");
    const deployment = await settled(stack, tenant, id);
    expect(deployment.status).toBe("CANCELLED");
    expect(deployment.errorMessage).toBe("cancelled during DEPLOYING");
    expect(await containersOf(stack, id)).toStrictEqual([]);
    expect((await instancesOf(stack, id)).map((i) => i.status)).toStrictEqual([
      "STOPPED",
      "STOPPED",
    ]);
    expect((await stepsOf(id)).map((s) => [s.name, s.status])).toStrictEqual([
      ["DEPLOYING", "CANCELLED"],
    ]);
    const invocation = (
      await listInvocations(stack.restate.adminUrl, `id = '${deployment.restateInvocationId}'`)
    )[0];
    expect(invocation?.completion_failure).toBe("[409] Cancelled");

    // The key is released: the next deployment of the project runs to READY.
    await stack.run(
      Effect.flatMap(ProjectRepository, (p) =>
        p.updateSettings(
          tenant.workspace.id,
          tenant.projectId as never,
          { containerPort: 8080 },
          Date.now(),
        ),
      ),
    );
    const next = await deploy(stack, tenant, image, { regions: ["local-1"] });
    expect((await settled(stack, tenant, next)).status).toBe("READY");
  });

  it("cancel right as instances start: whatever step it interrupts, nothing is left behind", async () => {
    const tenant = await createTenant(stack);
    const image = await slowWebImage(stack.engine, "too slow", 60);
    const id = await deploy(stack, tenant, image);
    await eventually("the deploy to start", async () =>
      (await findDeployment(stack, tenant.workspace.id, id)).status === "DEPLOYING"
        ? true
        : undefined,
    );
    await stack.run(cancelDeployment(tenant.workspace.id, { deploymentId: id }));
    const deployment = await settled(stack, tenant, id);
    expect(deployment.status).toBe("CANCELLED");
    expect(await containersOf(stack, id)).toStrictEqual([]);
    // A start that the cancellation interrupted finished before compensation looked: still none.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await containersOf(stack, id)).toStrictEqual([]);
    expect((await instancesOf(stack, id)).every((i) => i.status === "STOPPED")).toBe(true);
  });

  it("leaves no test container behind that is not a READY deployment's", async () => {
    const all = await Effect.runPromise(
      stack.engine.listContainers({ [TEST_RUN_LABEL]: stack.podman.runId }),
    );
    for (const container of all) {
      const deploymentId = container.Labels?.[CONTAINER_LABELS.deployment] as DeploymentId;
      const workspaceId = container.Labels?.[CONTAINER_LABELS.workspace] as never;
      expect((await findDeployment(stack, workspaceId, deploymentId)).status).toBe("READY");
    }
  });
});

describe("build context", () => {
  let unique = 0;
  /** A RUN unique to this run: Podman's layer cache would otherwise replay it without output. */
  const marker = () => `${stack.podman.runId}-${++unique}`;
  const BASE = BUSYBOX_BASE;
  const logsOf = (id: DeploymentId) => logLinesOf(stack, id);

  it("builds the context, runs the image: READY, steps BUILDING to READY, build log stored", async () => {
    const tenant = await createTenant(stack);
    await stack.run(
      setEnvironmentVariables(tenant.workspace.id, {
        projectId: tenant.projectId,
        environmentSlug: "production",
        variables: [
          { key: "GREETING", value: "built-hello" },
          { key: "TOKEN", value: "build-secret-value-9931", secret: true },
        ],
      }),
    );
    const tag = marker();
    const key = await uploadContext(stack, tenant, {
      Dockerfile: `${BASE}ARG GREETING\nARG TOKEN\nCOPY www /www\nRUN echo "marker ${tag} greeting=$GREETING token=$TOKEN" && echo "$GREETING" > /www/greeting.txt\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "hello from a build",
    });
    const id = await deployContext(stack, tenant, key, { regions: ["local-1"] });
    const deployment = await settled(stack, tenant, id, 240_000);
    expect(deployment.errorMessage).toBeUndefined();
    expect(deployment.status).toBe("READY");
    expect(deployment.image).toBe(`localhost/ferry/${tenant.projectId}:${id}`.toLowerCase());

    const steps = await stepsOf(id);
    expect(steps.map((s) => [s.name, s.status])).toStrictEqual([
      ["BUILDING", "SUCCEEDED"],
      ["DEPLOYING", "SUCCEEDED"],
      ["NETWORK", "SUCCEEDED"],
      ["READY", "SUCCEEDED"],
    ]);

    const [instance] = await instancesOf(stack, id);
    expect(await httpGet(instance?.port ?? 0)).toStrictEqual({
      status: 200,
      body: "hello from a build",
    });
    // The plain variable was a build argument; the secret was not passed.
    expect((await httpGet(instance?.port ?? 0, "/greeting.txt")).body.trim()).toBe("built-hello");

    const lines = await logsOf(id);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.step === "BUILDING" && l.stream === "STDOUT")).toBe(true);
    const text = lines.map((l) => l.text).join("\n");
    expect(text).toContain(`marker ${tag} greeting=built-hello token=`);
    expect(text).not.toContain("build-secret-value-9931");
  });

  it("a failing RUN: FAILED with the output tail, no container left", async () => {
    const tenant = await createTenant(stack);
    const tag = marker();
    const key = await uploadContext(stack, tenant, {
      Dockerfile: `${BASE}RUN echo "about to fail ${tag}" && exit 7\nCMD ["/bin/busybox", "true"]\n`,
    });
    const id = await deployContext(stack, tenant, key);
    const deployment = await settled(stack, tenant, id, 240_000);
    expect(deployment.status).toBe("FAILED");
    expect(deployment.errorMessage).toContain("failed with exit code 7");
    expect(deployment.errorMessage).toContain(`about to fail ${tag}`);
    expect(await containersOf(stack, id)).toStrictEqual([]);
    expect(await instancesOf(stack, id)).toStrictEqual([]);
    expect((await stepsOf(id)).map((s) => [s.name, s.status])).toStrictEqual([
      ["BUILDING", "FAILED"],
    ]);
    expect((await logsOf(id)).some((l) => l.text.includes(`about to fail ${tag}`))).toBe(true);
  });

  it("an archive without its Dockerfile: FAILED with the builder's message", async () => {
    const tenant = await createTenant(stack);
    const key = await uploadContext(stack, tenant, { "app/Dockerfile": `${BASE}` });
    const id = await deployContext(stack, tenant, key);
    const deployment = await settled(stack, tenant, id);
    expect(deployment.status).toBe("FAILED");
    expect(deployment.errorMessage).toMatch(/Dockerfile/);
    expect((await stepsOf(id)).map((s) => [s.name, s.status])).toStrictEqual([
      ["BUILDING", "FAILED"],
    ]);
    // The downloaded copy (and any partial download) is removed by compensation, not kept
    // until retention: a failed check is the most common user error, and archives are large.
    const contextsDir = join(stack.hydraConfig().workDir, "contexts");
    const left = (await readdir(contextsDir).catch(() => [] as string[])).filter((name) =>
      name.startsWith(id),
    );
    expect(left).toStrictEqual([]);
  });

  it("a Dockerfile syntax error: FAILED saying the Dockerfile is invalid and where", async () => {
    const tenant = await createTenant(stack);
    const key = await uploadContext(stack, tenant, {
      Dockerfile: `${BASE}FROBNICATE the-build\nCMD ["/bin/busybox", "true"]\n`,
    });
    const id = await deployContext(stack, tenant, key);
    const deployment = await settled(stack, tenant, id, 240_000);
    expect(deployment.status).toBe("FAILED");
    expect(deployment.errorMessage).toMatch(/^the Dockerfile is invalid at "FROBNICATE/);
    expect(deployment.errorMessage).toContain('Unknown instruction: "FROBNICATE"');
    expect((await stepsOf(id)).map((s) => [s.name, s.status])).toStrictEqual([
      ["BUILDING", "FAILED"],
    ]);
    expect(await containersOf(stack, id)).toStrictEqual([]);
  });

  it("cancel during BUILDING: CANCELLED and the build job stopped", async () => {
    const tenant = await createTenant(stack);
    const tag = marker();
    const key = await uploadContext(stack, tenant, {
      Dockerfile: `${BASE}RUN echo "slow ${tag}" && /bin/busybox sleep 20\nCMD ["/bin/busybox", "true"]\n`,
    });
    const id = await deployContext(stack, tenant, key);
    await eventually("the build to log its RUN", async () =>
      (await logsOf(id)).some((l) => l.text.includes(`slow ${tag}`)) ? true : undefined,
    );
    const cancelled = await stack.run(cancelDeployment(tenant.workspace.id, { deploymentId: id }));
    expect(cancelled.status).toBe("CANCELLED");
    const deployment = await settled(stack, tenant, id);
    expect(deployment.status).toBe("CANCELLED");
    expect((await stepsOf(id)).map((s) => [s.name, s.status])).toStrictEqual([
      ["BUILDING", "CANCELLED"],
    ]);
    const jobsRoot = stack.hydraConfig().buildJobsDir;
    const job = await eventually("the build job to end", async () => {
      const state = await Effect.runPromise(readBuildJob(jobsRoot, id));
      return state.status === "failed" || state.status === "succeeded" ? state : undefined;
    });
    expect(job.status).toBe("failed");
    expect(await containersOf(stack, id)).toStrictEqual([]);
  });
});

describe("promote and rollback", () => {
  const engineCall = <A, E>(
    f: (engine: WorkflowEngine["Type"]) => Effect.Effect<A, E>,
  ): Promise<Either.Either<A, E>> => stack.run(Effect.either(Effect.flatMap(WorkflowEngine, f)));

  const trafficOf = async (tenant: Awaited<ReturnType<typeof createTenant>>) => {
    const project = await stack.run(
      Effect.flatMap(ProjectRepository, (p) =>
        p.findById(tenant.workspace.id, tenant.projectId as never),
      ).pipe(Effect.map(Option.getOrThrow)),
    );
    const routes = await stack.run(
      Effect.flatMap(RouteRepository, (r) => r.listByProject(tenant.projectId as never)),
    );
    const target = (kind: string) => routes.find((r) => r.kind === kind)?.deploymentId;
    return {
      live: project.liveDeploymentId,
      pinned: project.rolledBack,
      liveRoute: target("LIVE"),
      environmentRoute: target("ENVIRONMENT"),
    };
  };

  /** The content served by the deployment's (single) instance. */
  const served = async (id: DeploymentId) => {
    const [instance] = await instancesOf(stack, id);
    return (await httpGet(instance?.port ?? 0)).body;
  };

  it("moves live traffic, pins on rollback, respects the pin on deploy, clears it on promote", async () => {
    const tenant = await createTenant(stack);
    const image = (content: string) => webServerImage(stack.engine, { content });
    const ready = async (content: string) => {
      const id = await deploy(stack, tenant, await image(content), { regions: ["local-1"] });
      expect((await settled(stack, tenant, id)).status).toBe("READY");
      return id;
    };
    const v1 = await ready("v1");
    const v2 = await ready("v2");
    expect(await trafficOf(tenant)).toStrictEqual({
      live: v2,
      pinned: false,
      liveRoute: v2,
      environmentRoute: v2,
    });

    const workspaceId = tenant.workspace.id;
    const projectId = tenant.projectId as never;
    const rollback = (source: DeploymentId, target: DeploymentId) =>
      engineCall((e) =>
        e.rollback({
          workspaceId,
          projectId,
          sourceDeploymentId: source,
          targetDeploymentId: target,
        }),
      );
    const promote = (target: DeploymentId) =>
      engineCall((e) => e.promote({ workspaceId, projectId, targetDeploymentId: target }));

    expect(await rollback(v2, v1)).toStrictEqual(
      Either.right({ liveDeploymentId: v1, rolledBack: true, changed: true }),
    );
    expect(await trafficOf(tenant)).toStrictEqual({
      live: v1,
      pinned: true,
      liveRoute: v1,
      environmentRoute: v1,
    });
    // Repeating it is a success that changes nothing.
    expect(await rollback(v2, v1)).toStrictEqual(
      Either.right({ liveDeploymentId: v1, rolledBack: true, changed: false }),
    );
    // The previous live deployment keeps running: it is the rollback target's alternative.
    expect(await served(v1)).toBe("v1");
    expect(await served(v2)).toBe("v2");

    // While pinned, a new production deployment gets its own hostname only.
    const v3 = await ready("v3");
    expect(await trafficOf(tenant)).toStrictEqual({
      live: v1,
      pinned: true,
      liveRoute: v1,
      environmentRoute: v1,
    });
    expect((await routesOf(v3)).map((r) => r.kind)).toStrictEqual(["DEPLOYMENT"]);
    expect(await served(v3)).toBe("v3");

    // Promote clears the pin and moves traffic; promoting again is a no-op success.
    expect(await promote(v3)).toStrictEqual(
      Either.right({ liveDeploymentId: v3, rolledBack: false, changed: true }),
    );
    expect(await trafficOf(tenant)).toStrictEqual({
      live: v3,
      pinned: false,
      liveRoute: v3,
      environmentRoute: v3,
    });
    expect(await promote(v3)).toStrictEqual(
      Either.right({ liveDeploymentId: v3, rolledBack: false, changed: false }),
    );

    // Refusals come back as data, mapped to the domain's errors by the engine adapter.
    const notLive = await rollback(v1, v2);
    expect(Either.isLeft(notLive) && notLive.left._tag).toBe("PreconditionFailed");
    expect(Either.isLeft(notLive) && notLive.left.message).toBe(
      `source deployment ${v1} is not live; the live deployment is ${v3}`,
    );
    const newer = await rollback(v3, v3);
    expect(Either.isLeft(newer) && newer.left.message).toBe(
      `source and target are the same deployment (${v3}); pick another target`,
    );
    const failed = await deploy(stack, tenant, "localhost/ferry-test-missing:2", {
      regions: ["local-1"],
    });
    expect((await settled(stack, tenant, failed)).status).toBe("FAILED");
    const notReady = await promote(failed);
    expect(Either.isLeft(notReady) && notReady.left.message).toBe(
      `target deployment ${failed} is FAILED; only a READY deployment can take traffic`,
    );
    const unknown = await promote("dep_01m8f1b8mbk34brwbc61v0vj7d" as DeploymentId);
    expect(Either.isLeft(unknown) && unknown.left._tag).toBe("NotFound");
    expect(await trafficOf(tenant)).toMatchObject({ live: v3, liveRoute: v3 });
  });

  it("a rollback while a production deploy is starting is answered at once and never undone by it", async () => {
    const tenant = await createTenant(stack);
    const ready = async (content: string) => {
      const image = await webServerImage(stack.engine, { content });
      const id = await deploy(stack, tenant, image, { regions: ["local-1"] });
      expect((await settled(stack, tenant, id)).status).toBe("READY");
      return id;
    };
    const v1 = await ready("v1");
    const v2 = await ready("v2");
    // v3's health check passes only after a few seconds: it holds the deploy queue meanwhile.
    const v3 = await deploy(stack, tenant, await slowWebImage(stack.engine, "v3", 4), {
      regions: ["local-1"],
    });
    await eventually("v3 to start its instances", async () =>
      (await findDeployment(stack, tenant.workspace.id, v3)).status === "DEPLOYING"
        ? true
        : undefined,
    );
    const rolledBack = await engineCall((e) =>
      e.rollback({
        workspaceId: tenant.workspace.id,
        projectId: tenant.projectId as never,
        sourceDeploymentId: v2,
        targetDeploymentId: v1,
      }),
    );
    expect(rolledBack).toStrictEqual(
      Either.right({ liveDeploymentId: v1, rolledBack: true, changed: true }),
    );
    // The rollback did not wait for the deploy: v3 is still starting.
    expect((await findDeployment(stack, tenant.workspace.id, v3)).status).toBe("DEPLOYING");

    expect((await settled(stack, tenant, v3)).status).toBe("READY");
    expect(await trafficOf(tenant)).toStrictEqual({
      live: v1,
      pinned: true,
      liveRoute: v1,
      environmentRoute: v1,
    });
    expect((await routesOf(v3)).map((r) => r.kind)).toStrictEqual(["DEPLOYMENT"]);
  });

  it("a preview deployment takes its environment's hostname, never the live one", async () => {
    const tenant = await createTenant(stack);
    const image = await webServerImage(stack.engine, { content: "preview" });
    const id = await deploy(stack, tenant, image, { environment: "preview", regions: ["local-2"] });
    expect((await settled(stack, tenant, id)).status).toBe("READY");
    expect((await routesOf(id)).map((r) => r.kind)).toStrictEqual(["DEPLOYMENT", "ENVIRONMENT"]);
    expect((await trafficOf(tenant)).live).toBeUndefined();
  });
});

describe("newest wins", () => {
  it("deployments of a branch queued behind a running deploy: only the newest runs", async () => {
    const tenant = await createTenant(stack);
    // A deploy that takes a few seconds keeps the project's object busy...
    const slow = await deploy(stack, tenant, await slowWebImage(stack.engine, "slow", 4), {
      regions: ["local-1"],
    });
    await eventually("the slow deploy to start", async () =>
      (await findDeployment(stack, tenant.workspace.id, slow)).status === "DEPLOYING"
        ? true
        : undefined,
    );
    // ...while three deployments of one branch and one of another queue behind it.
    const image = await webServerImage(stack.engine, { content: "queued" });
    const first = await deploy(stack, tenant, image, { regions: ["local-1"], branch: "feat" });
    const second = await deploy(stack, tenant, image, { regions: ["local-1"], branch: "feat" });
    const other = await deploy(stack, tenant, image, { regions: ["local-1"], branch: "main" });
    const third = await deploy(stack, tenant, image, { regions: ["local-1"], branch: "feat" });
    const status = async (id: DeploymentId) => (await settled(stack, tenant, id)).status;
    expect(await status(slow)).toBe("READY");
    expect(await status(first)).toBe("SUPERSEDED");
    expect(await status(second)).toBe("SUPERSEDED");
    expect(await status(other)).toBe("READY");
    expect(await status(third)).toBe("READY");
    expect(await containersOf(stack, first)).toStrictEqual([]);
    expect(await stepsOf(first)).toStrictEqual([]);
  });
});

describe("reconciliation", () => {
  it("removes containers of unknown and failed deployments, keeps READY ones", async () => {
    const hydra = stack.hydra;
    if (hydra === undefined) throw new Error("hydra is not running");
    const image = await webServerImage(stack.engine, { content: "orphan" });
    const orphanId = "dep_01m8f00000000000000000000z";
    const created = await Effect.runPromise(
      stack.engine.createContainer(`ferry-orphan-${stack.podman.runId}`, {
        Image: image,
        Labels: {
          [TEST_RUN_LABEL]: stack.podman.runId,
          [CONTAINER_LABELS.deployment]: orphanId,
          [CONTAINER_LABELS.workspace]: "ws_01m8f00000000000000000000z",
        },
      }),
    );
    expect(created._tag).toBe("Created");
    const report = await hydra.reconcile();
    expect(report.removed.map((r) => [r.deploymentId, r.reason])).toStrictEqual([
      [orphanId, "unknown"],
    ]);
    expect(await containersOf(stack, orphanId)).toStrictEqual([]);
    // Every READY deployment still has its containers.
    const all = await Effect.runPromise(
      stack.engine.listContainers({ [TEST_RUN_LABEL]: stack.podman.runId }),
    );
    expect(all.length).toBeGreaterThan(0);
  });
});
