/**
 * DeploymentService over the in-memory router transport: every RPC, its
 * conversions, and every error path with its code and message.
 */

import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { CreateDeploymentRequestSchema, GitCommitInfoSchema } from "@ferry/api";
import { DeploymentStatus, DeploymentStepStatus, EnvironmentKind, RouteKind } from "@ferry/api";
import {
  type DeploymentId,
  DeploymentRepository,
  NOT_UPLOADED_HINT,
  RouteRepository,
} from "@ferry/domain";
import {
  IN_MEMORY_STORAGE_URL,
  TEST_BUILD_CONTEXT_LIMITS,
  uploadBuildContext,
  WorkflowEngineControl,
} from "@ferry/domain/testing";
import { Effect, Layer } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BadRequestSchema } from "../src/descriptors.ts";
import {
  expectError,
  inMemoryWorld,
  MISSING_DEPLOYMENT,
  MISSING_PROJECT,
  makeWorld,
  type World,
} from "./support.ts";
import { becomeReady, walk } from "./world.ts";

type CreateRequest = MessageInitShape<typeof CreateDeploymentRequestSchema>;
interface Extra {
  readonly projectId?: string;
  readonly environmentSlug?: string;
  readonly gitCommit?: MessageInitShape<typeof GitCommitInfoSchema>;
  readonly regions?: Array<string>;
  readonly idempotencyKey?: string;
}

let world: World;
let client: ReturnType<World["clients"]>;
let projectId: string;

const image = (tag: string, extra: Extra = {}): CreateRequest => ({
  projectId,
  environmentSlug: "production",
  source: { case: "dockerImage", value: `localhost/web:${tag}` },
  ...extra,
});

const deploy = async (tag: string, extra: Extra = {}) =>
  (await client.deployments.createDeployment(image(tag, extra))).deploymentId as DeploymentId;

const workflowCalls = () =>
  world.run(Effect.flatMap(WorkflowEngineControl, (control) => control.calls));

async function setUp(layer = inMemoryWorld()) {
  world = await makeWorld(layer);
  client = world.clients(world.acme.token);
  const { project } = await client.projects.createProject({ name: "Web", slug: "web" });
  projectId = project?.id ?? "";
}

describe("DeploymentService", () => {
  beforeEach(() => setUp());
  afterEach(() => world.dispose());

  describe("CreateDeployment", () => {
    it("stores a PENDING deployment and queues its deploy once", async () => {
      const response = await client.deployments.createDeployment(
        image("1", {
          gitCommit: {
            commitSha: "ABCDEF1",
            branch: "main",
            commitMessage: "fix",
            timestamp: BigInt(Date.now() - 60_000),
          },
          regions: ["local-2"],
        }),
      );
      expect(response.deploymentId).toMatch(/^dep_[0-9a-z]{26}$/);
      expect(response.status).toBe(DeploymentStatus.PENDING);
      expect(await workflowCalls()).toEqual([
        {
          _tag: "startDeploy",
          operation: {
            workspaceId: world.acme.workspace.id,
            projectId,
            deploymentId: response.deploymentId,
          },
        },
      ]);
      const { deployment } = await client.deployments.getDeployment({
        deploymentId: response.deploymentId,
      });
      expect(deployment?.regions).toEqual(["local-2"]);
      expect(deployment?.gitCommit).toMatchObject({
        commitSha: "abcdef1",
        branch: "main",
        commitMessage: "fix",
      });
    });

    it("lists every violation, names the proto fields, and attaches google.rpc.BadRequest", async () => {
      const error = await expectError(
        client.deployments.createDeployment({
          projectId,
          environmentSlug: "Prod!",
          source: { case: "dockerImage", value: "UPPER/Case" },
          gitCommit: { timestamp: 1_700_000_000n, authorHandle: "x".repeat(300) },
          regions: ["mars-1"],
          idempotencyKey: "has space",
        }),
        Code.InvalidArgument,
        /^environment_slug: .+; docker_image: .+; git_commit\.author_handle: .+; git_commit\.timestamp: .+; regions: unknown region "mars-1"; available: local-1, local-2; idempotency_key: .+$/,
      );
      const [details] = error.findDetails(BadRequestSchema);
      expect(details?.fieldViolations.map((v) => v.field)).toEqual([
        "environment_slug",
        "docker_image",
        "git_commit.author_handle",
        "git_commit.timestamp",
        "regions",
        "idempotency_key",
      ]);
      expect(details?.fieldViolations.every((v) => v.description.length > 0)).toBe(true);
      expect(await workflowCalls()).toEqual([]);
    });

    it("requires a source, a project id and an environment", async () => {
      await expectError(
        client.deployments.createDeployment({}),
        Code.InvalidArgument,
        "project_id: is required; environment_slug: is required (e.g. production or preview); source: is required: set docker_image or build_context",
      );
    });

    it("names build context fields as the proto does", async () => {
      const buildContext = (buildContextPath: string, dockerfilePath?: string) =>
        client.deployments.createDeployment({
          projectId,
          environmentSlug: "production",
          source: {
            case: "buildContext",
            value: { buildContextPath, ...(dockerfilePath ? { dockerfilePath } : {}) },
          },
        });
      await expectError(
        buildContext(`projects/${projectId}/contexts/a.tgz`, "/abs"),
        Code.InvalidArgument,
        'build_context.dockerfile_path: must be relative to the build context (got absolute path "/abs")',
      );
      await expectError(
        buildContext(`projects/${MISSING_PROJECT}/contexts/a.tgz`),
        Code.InvalidArgument,
        /^build_context\.build_context_path: /,
      );
    });

    it("answers NotFound for a missing project, environment or build context", async () => {
      await expectError(
        client.deployments.createDeployment(image("1", { projectId: MISSING_PROJECT })),
        Code.NotFound,
        `project "${MISSING_PROJECT}" not found`,
      );
      await expectError(
        client.deployments.createDeployment(image("1", { environmentSlug: "staging" })),
        Code.NotFound,
        'environment "staging" not found',
      );
      const key = `projects/${projectId}/contexts/app.tar.gz`;
      const source = { case: "buildContext", value: { buildContextPath: key } } as const;
      await expectError(
        client.deployments.createDeployment({ projectId, environmentSlug: "production", source }),
        Code.NotFound,
        `build context "${key}" not found: ${NOT_UPLOADED_HINT}`,
      );
      await world.run(uploadBuildContext(key));
      const created = await client.deployments.createDeployment({
        projectId,
        environmentSlug: "production",
        source,
      });
      const { deployment } = await client.deployments.getDeployment({
        deploymentId: created.deploymentId,
      });
      expect(deployment?.source).toEqual({
        case: "buildContext",
        value: expect.objectContaining({ buildContextPath: key, dockerfilePath: "Dockerfile" }),
      });
    });

    it("returns the first deployment for a repeated idempotency key, also under concurrent duplicates", async () => {
      const request = image("1", { idempotencyKey: "deploy-42" });
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => client.deployments.createDeployment(request)),
      );
      const ids = new Set(responses.map((r) => r.deploymentId));
      expect(ids.size).toBe(1);
      expect((await workflowCalls()).filter((c) => c._tag === "startDeploy")).toHaveLength(1);
      const [first] = responses;
      await world.run(walk(first?.deploymentId as DeploymentId, ["DEPLOYING"]));
      // A later repeat answers the current status.
      const again = await client.deployments.createDeployment(request);
      expect(again).toMatchObject({
        deploymentId: first?.deploymentId,
        status: DeploymentStatus.DEPLOYING,
      });
      // Another workspace's identical key is another deployment (keys are per workspace).
      const globex = world.clients(world.globex.token);
      const { project } = await globex.projects.createProject({ name: "Web", slug: "web" });
      const theirs = await globex.deployments.createDeployment({
        ...request,
        projectId: project?.id ?? "",
      });
      expect(theirs.deploymentId).not.toBe(first?.deploymentId);
    });

    it("refuses a reused idempotency key with a different request", async () => {
      const id = await deploy("1", { idempotencyKey: "k1" });
      await expectError(
        client.deployments.createDeployment(image("2", { idempotencyKey: "k1" })),
        Code.InvalidArgument,
        `idempotency_key: was already used for deployment ${id} with a different project, environment or source; use a new key`,
      );
    });

    it("answers Unavailable and records the deployment FAILED when the workflow engine is down", async () => {
      await world.run(
        Effect.flatMap(WorkflowEngineControl, (control) =>
          control.setUnavailable("connect ECONNREFUSED 127.0.0.1:8080", ["startDeploy"]),
        ),
      );
      await expectError(
        client.deployments.createDeployment(image("1", { idempotencyKey: "retry-me" })),
        Code.Unavailable,
        "connect ECONNREFUSED 127.0.0.1:8080",
      );
      const { deployments } = await client.deployments.listDeployments({ projectId });
      expect(deployments).toHaveLength(1);
      expect(deployments[0]).toMatchObject({
        status: DeploymentStatus.FAILED,
        errorMessage:
          "the deploy workflow could not be started: connect ECONNREFUSED 127.0.0.1:8080",
      });
      // The retry the client was told to make creates a new deployment.
      await world.run(
        Effect.flatMap(WorkflowEngineControl, (control) => control.setUnavailable(undefined)),
      );
      const retry = await client.deployments.createDeployment(
        image("1", { idempotencyKey: "retry-me" }),
      );
      expect(retry.deploymentId).not.toBe(deployments[0]?.id);
      expect(retry.status).toBe(DeploymentStatus.PENDING);
    });
  });

  describe("GetDeployment", () => {
    it("maps the deployment: status, source, git, steps, routes, hostnames, live, times", async () => {
      const id = await deploy("1", {
        gitCommit: { branch: "main", commitSha: "abc1234" },
        idempotencyKey: "first",
      });
      await world.run(becomeReady(world.acme, id));
      const { deployment } = await client.deployments.getDeployment({ deploymentId: id });
      expect(deployment).toMatchObject({
        id,
        workspaceId: world.acme.workspace.id,
        projectId,
        environmentSlug: "production",
        environmentKind: EnvironmentKind.PRODUCTION,
        status: DeploymentStatus.READY,
        source: { case: "dockerImage", value: "localhost/web:1" },
        regions: ["local-1", "local-2"],
        routesUnavailable: false,
        errorMessage: "",
        idempotencyKey: "first",
        image: "localhost/web:1",
        isLive: true,
      });
      expect(deployment?.gitCommit).toMatchObject({ branch: "main", commitSha: "abc1234" });
      expect(deployment?.createdAt).toBeGreaterThan(1_700_000_000_000n);
      expect(deployment?.updatedAt).toBeGreaterThanOrEqual(deployment?.createdAt ?? 0n);
      expect(deployment?.steps.map((s) => [s.name, s.status])).toEqual([
        ["DEPLOYING", DeploymentStepStatus.SUCCEEDED],
        ["NETWORK", DeploymentStepStatus.SUCCEEDED],
      ]);
      expect(deployment?.steps[0]?.startedAt).toBeGreaterThan(0n);
      expect(deployment?.steps[0]?.endedAt).toBeGreaterThan(0n);
      const kinds = deployment?.routes.map((r) => r.kind).sort();
      expect(kinds).toEqual(
        [RouteKind.DEPLOYMENT, RouteKind.BRANCH, RouteKind.ENVIRONMENT, RouteKind.LIVE].sort(),
      );
      expect(deployment?.hostnames).toEqual(deployment?.routes.map((r) => r.hostname));
      expect(deployment?.hostnames.every((h) => h.endsWith(".ferry.test"))).toBe(true);
    });

    it("fills the error message and the failed step", async () => {
      const id = await deploy("1");
      await world.run(walk(id, ["DEPLOYING", "FAILED"], "image not found: localhost/web:1"));
      const { deployment } = await client.deployments.getDeployment({ deploymentId: id });
      expect(deployment).toMatchObject({
        status: DeploymentStatus.FAILED,
        errorMessage: "image not found: localhost/web:1",
        isLive: false,
        hostnames: [],
      });
      expect(deployment?.steps).toEqual([
        expect.objectContaining({
          name: "DEPLOYING",
          status: DeploymentStepStatus.FAILED,
          message: "image not found: localhost/web:1",
        }),
      ]);
    });

    it("rejects an empty or malformed id, and answers NotFound for a missing one", async () => {
      await expectError(
        client.deployments.getDeployment({ deploymentId: "" }),
        Code.InvalidArgument,
        "deployment_id: is required",
      );
      await expectError(
        client.deployments.getDeployment({ deploymentId: "nope" }),
        Code.InvalidArgument,
        'deployment_id: "nope" is not a well-formed id for this field',
      );
      await expectError(
        client.deployments.getDeployment({ deploymentId: MISSING_DEPLOYMENT }),
        Code.NotFound,
        `deployment "${MISSING_DEPLOYMENT}" not found`,
      );
    });
  });

  describe("ListDeployments", () => {
    it("pages newest first with the same shape as GetDeployment, and filters", async () => {
      const ids: Array<string> = [];
      for (let i = 0; i < 5; i++) {
        ids.push(await deploy(String(i)));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const preview = await deploy("p", {
        environmentSlug: "preview",
        gitCommit: { commitSha: "abc1234", branch: "feature/login" },
      });
      await world.run(becomeReady(world.acme, ids[0] as DeploymentId));

      const newestFirst = [preview, ...ids].sort().reverse();
      const first = await client.deployments.listDeployments({ projectId, pageSize: 4 });
      expect(first.deployments.map((d) => d.id)).toEqual(newestFirst.slice(0, 4));
      expect(first.nextPageToken).not.toBe("");
      const second = await client.deployments.listDeployments({
        projectId,
        pageSize: 4,
        pageToken: first.nextPageToken,
      });
      expect(second.deployments.map((d) => d.id)).toEqual(newestFirst.slice(4));
      expect(second.nextPageToken).toBe("");

      const ready = second.deployments.find((d) => d.id === ids[0]);
      expect(ready).toMatchObject({ status: DeploymentStatus.READY, isLive: true });
      expect(ready?.steps).toHaveLength(2);
      expect(ready?.hostnames.length).toBeGreaterThan(0);
      expect(first.deployments.find((d) => d.id === preview)?.environmentKind).toBe(
        EnvironmentKind.PREVIEW,
      );

      const previews = await client.deployments.listDeployments({
        projectId,
        environmentSlug: "preview",
      });
      expect(previews.deployments.map((d) => d.id)).toEqual([preview]);
      const onBranch = await client.deployments.listDeployments({
        projectId,
        branch: "feature/login",
      });
      expect(onBranch.deployments.map((d) => d.id)).toEqual([preview]);
      const onOtherBranch = await client.deployments.listDeployments({ projectId, branch: "main" });
      expect(onOtherBranch.deployments).toEqual([]);
      const readyOnes = await client.deployments.listDeployments({
        projectId,
        statuses: [DeploymentStatus.READY, DeploymentStatus.FAILED],
      });
      expect(readyOnes.deployments.map((d) => d.id)).toEqual([ids[0]]);
      // Above the maximum is the maximum, not an error.
      const all = await client.deployments.listDeployments({ projectId, pageSize: 5000 });
      expect(all.deployments).toHaveLength(6);
    });

    it("reports each invalid argument", async () => {
      await expectError(
        client.deployments.listDeployments({ projectId: "" }),
        Code.InvalidArgument,
        "project_id: is required",
      );
      await expectError(
        client.deployments.listDeployments({ projectId, pageSize: -1 }),
        Code.InvalidArgument,
        "page_size: must be an integer from 1 to 200 (0 means 50)",
      );
      await expectError(
        client.deployments.listDeployments({ projectId, pageToken: "garbage" }),
        Code.InvalidArgument,
        "page_token: is not a token returned by ListDeployments",
      );
      await expectError(
        client.deployments.listDeployments({
          projectId,
          statuses: [DeploymentStatus.UNSPECIFIED],
        }),
        Code.InvalidArgument,
        /^statuses\[0\]: "DEPLOYMENT_STATUS_UNSPECIFIED" is not a deployment status; must be one of PENDING, /,
      );
      await expectError(
        client.deployments.listDeployments({ projectId: MISSING_PROJECT }),
        Code.NotFound,
        `project "${MISSING_PROJECT}" not found`,
      );
      await expectError(
        client.deployments.listDeployments({ projectId, environmentSlug: "staging" }),
        Code.NotFound,
        'environment "staging" not found',
      );
      await expectError(
        client.deployments.listDeployments({ projectId, branch: "feature/../x" }),
        Code.InvalidArgument,
        "branch: must not contain '..', '//' or '@{'",
      );
    });
  });

  describe("Promote and Rollback", () => {
    it("rolls back, pins, and promotes back, answering the project's traffic", async () => {
      const v1 = await deploy("1");
      await world.run(becomeReady(world.acme, v1));
      const v2 = await deploy("2");
      await world.run(becomeReady(world.acme, v2));

      const rolledBack = await client.deployments.rollback({
        sourceDeploymentId: v2,
        targetDeploymentId: v1,
      });
      expect(rolledBack).toMatchObject({
        liveDeploymentId: v1,
        rolledBack: true,
        changed: true,
        previousLiveDeploymentId: v2,
      });
      const again = await client.deployments.rollback({
        sourceDeploymentId: v2,
        targetDeploymentId: v1,
      });
      expect(again).toMatchObject({
        liveDeploymentId: v1,
        rolledBack: true,
        changed: false,
        previousLiveDeploymentId: v1,
      });
      const { project } = await client.projects.getProject({
        key: { case: "projectId", value: projectId },
      });
      expect(project).toMatchObject({ liveDeploymentId: v1, rolledBack: true });

      const promoted = await client.deployments.promote({ targetDeploymentId: v2 });
      expect(promoted).toMatchObject({
        liveDeploymentId: v2,
        rolledBack: false,
        changed: true,
        previousLiveDeploymentId: v1,
      });
      const noop = await client.deployments.promote({ targetDeploymentId: v2 });
      expect(noop).toMatchObject({
        liveDeploymentId: v2,
        changed: false,
        previousLiveDeploymentId: v2,
      });
    });

    it("maps each refusal to its code", async () => {
      const v1 = await deploy("1");
      const preview = await deploy("p", { environmentSlug: "preview" });
      await world.run(becomeReady(world.acme, preview));
      await expectError(
        client.deployments.promote({ targetDeploymentId: "" }),
        Code.InvalidArgument,
        "target_deployment_id: is required",
      );
      await expectError(
        client.deployments.promote({ targetDeploymentId: v1, idempotencyKey: "bad key" }),
        Code.InvalidArgument,
        /^idempotency_key: /,
      );
      await expectError(
        client.deployments.promote({ targetDeploymentId: MISSING_DEPLOYMENT }),
        Code.NotFound,
        `deployment "${MISSING_DEPLOYMENT}" not found`,
      );
      await expectError(
        client.deployments.promote({ targetDeploymentId: preview }),
        Code.FailedPrecondition,
        `target deployment ${preview} is not a production deployment; only production deployments can be promoted or rolled back to`,
      );
      await expectError(
        client.deployments.promote({ targetDeploymentId: v1 }),
        Code.FailedPrecondition,
        /PENDING|READY/,
      );
      await expectError(
        client.deployments.rollback({ sourceDeploymentId: v1, targetDeploymentId: v1 }),
        Code.FailedPrecondition,
        `source and target are the same deployment (${v1}); pick another target`,
      );
      await expectError(
        client.deployments.rollback({ sourceDeploymentId: "", targetDeploymentId: "" }),
        Code.InvalidArgument,
        "source_deployment_id: is required",
      );
      await expectError(
        client.deployments.rollback({ sourceDeploymentId: v1, targetDeploymentId: preview }),
        Code.FailedPrecondition,
        `source ${v1} and target ${preview} belong to different environments`,
      );
      await world.run(
        Effect.flatMap(WorkflowEngineControl, (control) =>
          control.setUnavailable("restate ingress unreachable", ["promote"]),
        ),
      );
      const v2 = await deploy("2");
      await world.run(becomeReady(world.acme, v2));
      await expectError(
        client.deployments.promote({ targetDeploymentId: v2 }),
        Code.Unavailable,
        /^restate ingress unreachable; retry with idempotency_key=ferry-[0-9a-z]{26} to attach to the operation if it was queued, instead of queuing a second one$/,
      );
    });

    it("names the key to retry with when a call without one times out in the queue, and the retry attaches", async () => {
      const v1 = await deploy("1");
      await world.run(becomeReady(world.acme, v1));
      const v2 = await deploy("2");
      await world.run(becomeReady(world.acme, v2));
      // The rollback waits in the project's queue past the deadline; Restate still runs it.
      await world.run(
        Effect.flatMap(WorkflowEngineControl, (control) =>
          control.setTimingOut("Restate ingress did not answer within 60000 ms"),
        ),
      );
      const error = await expectError(
        client.deployments.rollback({ sourceDeploymentId: v2, targetDeploymentId: v1 }),
        Code.Unavailable,
        /^Restate ingress did not answer within 60000 ms; retry with idempotency_key=ferry-[0-9a-z]{26} to attach/,
      );
      const key = /idempotency_key=(\S+)/.exec(error.rawMessage)?.[1] ?? "";
      const project = await client.projects.getProject({
        key: { case: "projectId", value: projectId },
      });
      expect(project.project).toMatchObject({ liveDeploymentId: v1, rolledBack: true });

      await world.run(
        Effect.flatMap(WorkflowEngineControl, (control) => control.setTimingOut(undefined)),
      );
      // The retry answers the queued rollback's result (changed: a second run would say false).
      expect(
        await client.deployments.rollback({
          sourceDeploymentId: v2,
          targetDeploymentId: v1,
          idempotencyKey: key,
        }),
      ).toMatchObject({ liveDeploymentId: v1, rolledBack: true, changed: true });
      const rollbacks = (await workflowCalls()).filter((call) => call._tag === "rollback");
      expect(rollbacks.map((call) => "operation" in call && call.operation.idempotencyKey)).toEqual(
        [key, key],
      );
    });
  });

  describe("CancelDeployment", () => {
    it("cancels, repeats as a no-op, and refuses terminal deployments", async () => {
      const id = await deploy("1");
      expect(await client.deployments.cancelDeployment({ deploymentId: id })).toMatchObject({
        status: DeploymentStatus.CANCELLED,
        changed: true,
      });
      expect(await client.deployments.cancelDeployment({ deploymentId: id })).toMatchObject({
        status: DeploymentStatus.CANCELLED,
        changed: false,
      });
      const { deployment } = await client.deployments.getDeployment({ deploymentId: id });
      expect(deployment?.status).toBe(DeploymentStatus.CANCELLED);
      expect(await workflowCalls()).toContainEqual({ _tag: "cancel", invocationId: "inv_1" });

      const ready = await deploy("2");
      await world.run(becomeReady(world.acme, ready));
      await expectError(
        client.deployments.cancelDeployment({ deploymentId: ready }),
        Code.FailedPrecondition,
        `deployment ${ready} is READY and cannot be cancelled; take it out of service by promoting or rolling back to another deployment`,
      );
      await expectError(
        client.deployments.cancelDeployment({ deploymentId: "" }),
        Code.InvalidArgument,
        "deployment_id: is required",
      );
      await expectError(
        client.deployments.cancelDeployment({ deploymentId: MISSING_DEPLOYMENT }),
        Code.NotFound,
        `deployment "${MISSING_DEPLOYMENT}" not found`,
      );
    });

    it("records CANCELLED itself when Restate no longer has the invocation of a stuck deployment", async () => {
      const id = await deploy("1");
      await world.run(walk(id, ["DEPLOYING"]));
      // The workflow died without recording an end: Restate answers 404/409 to the cancel.
      await world.run(
        Effect.flatMap(WorkflowEngineControl, (control) => control.endInvocation("inv_1")),
      );
      expect(await client.deployments.cancelDeployment({ deploymentId: id })).toMatchObject({
        status: DeploymentStatus.CANCELLED,
        changed: true,
      });
      // The answer is true: the deployment is CANCELLED and its running step ended.
      const { deployment } = await client.deployments.getDeployment({ deploymentId: id });
      expect(deployment).toMatchObject({
        status: DeploymentStatus.CANCELLED,
        errorMessage: "the deployment was cancelled",
      });
      expect(deployment?.steps.map((step) => [step.name, step.status])).toEqual([
        ["DEPLOYING", DeploymentStepStatus.CANCELLED],
      ]);
      expect(await client.deployments.cancelDeployment({ deploymentId: id })).toMatchObject({
        status: DeploymentStatus.CANCELLED,
        changed: false,
      });
    });

    it("answers Unavailable when the engine cannot cancel", async () => {
      const id = await deploy("1");
      await world.run(
        Effect.flatMap(WorkflowEngineControl, (control) =>
          control.setUnavailable("admin API down", ["cancel"]),
        ),
      );
      await expectError(
        client.deployments.cancelDeployment({ deploymentId: id }),
        Code.Unavailable,
        "admin API down",
      );
    });
  });

  describe("CreateUploadUrl", () => {
    it("answers a PUT URL for a fresh key of the project, with the limits", async () => {
      const response = await client.deployments.createUploadUrl({ projectId, sizeBytes: 2048n });
      expect(response).toMatchObject({
        method: "PUT",
        requiredHeaders: { "content-length": "2048" },
        maxSizeBytes: BigInt(TEST_BUILD_CONTEXT_LIMITS.maxSizeBytes),
      });
      expect(response.buildContextPath).toMatch(
        new RegExp(`^projects/${projectId}/contexts/[0-9a-z]{26}\\.tar\\.gz$`),
      );
      expect(response.uploadUrl).toBe(`${IN_MEMORY_STORAGE_URL}${response.buildContextPath}`);
      expect(Number(response.expiresAt)).toBeGreaterThan(Date.now());
    });

    it("refuses a size outside 1..max and another workspace's project", async () => {
      const max = TEST_BUILD_CONTEXT_LIMITS.maxSizeBytes;
      await expectError(
        client.deployments.createUploadUrl({ projectId, sizeBytes: BigInt(max + 1) }),
        Code.InvalidArgument,
        `size_bytes: must be from 1 to ${max} bytes, the maximum build context size (got ${max + 1})`,
      );
      await expectError(
        world.clients(world.globex.token).deployments.createUploadUrl({ projectId }),
        Code.NotFound,
        `project "${projectId}" not found`,
      );
    });
  });

  describe("the rest", () => {
    it("lists the available regions, sorted", async () => {
      const { regions } = await client.deployments.listRegions({});
      expect(regions.map((r) => r.name)).toEqual(["local-1", "local-2"]);
    });

    // WatchDeployment and GetBuildLogs: watch-deployment.test.ts and build-logs.test.ts.
  });
});

describe("failures of the system", () => {
  afterEach(() => world.dispose());

  it("still answers GetDeployment when the routes cannot be read, saying so", async () => {
    const brokenRoutes = Layer.effect(
      RouteRepository,
      Effect.map(RouteRepository, (routes) => ({
        ...routes,
        listByDeployment: () => Effect.dieMessage("connection to the routes table lost"),
      })),
    );
    const base = inMemoryWorld();
    await setUp(Layer.merge(base, brokenRoutes.pipe(Layer.provide(base))) as typeof base);
    const id = await deploy("1");
    const { deployment } = await client.deployments.getDeployment({ deploymentId: id });
    expect(deployment).toMatchObject({ id, routesUnavailable: true, hostnames: [], routes: [] });
    expect(world.log.lines()).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "route lookup failed; answering without hostnames",
      }),
    );
  });

  it("turns a defect into Internal with the request id, logging the cause and never sending it", async () => {
    const broken = Layer.effect(
      DeploymentRepository,
      Effect.map(DeploymentRepository, (deployments) => ({
        ...deployments,
        findById: () => Effect.die(new Error("password=hunter2 connection reset")),
      })),
    );
    const base = inMemoryWorld();
    await setUp(Layer.merge(base, broken.pipe(Layer.provide(base))) as typeof base);
    let requestId: string | null = null;
    const error = await expectError(
      client.deployments.getDeployment(
        { deploymentId: MISSING_DEPLOYMENT },
        { onHeader: (header) => (requestId = header.get("x-request-id")) },
      ),
      Code.Internal,
      /^internal error \(request id [0-9a-f-]{36}\); the server log has the details$/,
    );
    expect(error.message).not.toContain("hunter2");
    const logged = world.log
      .lines()
      .find((line) => line.msg === "rpc failed with an internal error");
    expect(logged).toMatchObject({
      level: "error",
      procedure: "/ctrl.v1.DeploymentService/GetDeployment",
      cause: expect.stringContaining("password=hunter2 connection reset"),
    });
    expect(error.rawMessage).toContain(String(logged?.requestId));
    expect(requestId === null || requestId === logged?.requestId).toBe(true);
    expect(world.log.lines()).toContainEqual(
      expect.objectContaining({ msg: "rpc", code: "internal", requestId: logged?.requestId }),
    );
  });
});
