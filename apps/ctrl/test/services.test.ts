/**
 * The service implementations called directly, with their dependencies
 * injected (a runtime on in-memory ports, a principal in the context values),
 * without any transport or interceptor.
 */
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  type HandlerContext,
} from "@connectrpc/connect";
import {
  CreateDeploymentRequestSchema,
  CreateProjectRequestSchema,
  DeploymentService,
  DeploymentStatus,
  GetDeploymentRequestSchema,
  ListRegionsRequestSchema,
  ProjectService,
} from "@ferry/api";
import { Effect } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Principal, principalKey, requestIdKey } from "../src/context.ts";
import { memoryLog } from "../src/log.ts";
import { makeRunner, makeRuntime } from "../src/runtime.ts";
import { deploymentService } from "../src/services/deployment-service.ts";
import { projectService } from "../src/services/project-service.ts";
import { makeRpc } from "../src/services/rpc.ts";
import { inMemoryWorld, tenant } from "./support.ts";

const contextFor = (
  service: typeof DeploymentService | typeof ProjectService,
  method: string,
  principal: Principal | undefined,
): HandlerContext => {
  const values = createContextValues().set(requestIdKey, "req-1");
  if (principal !== undefined) values.set(principalKey, principal);
  const descriptor = service.methods.find((m) => m.name === method);
  if (descriptor === undefined) throw new Error(`no method ${method}`);
  return createHandlerContext({
    service,
    method: descriptor,
    protocolName: "connect",
    requestMethod: "POST",
    url: `http://test/${service.typeName}/${method}`,
    contextValues: values,
  });
};

const log = memoryLog();
let runtime: ReturnType<typeof makeRuntime<never>>;
let principal: Principal;

beforeEach(async () => {
  runtime = makeRuntime(inMemoryWorld(), log);
  const acme = await runtime.runPromise(tenant("acme"));
  principal = {
    workspaceId: acme.workspace.id,
    apiKeyId: "key_01jdz8x4m3q7r2v5w9y0abcdef" as never,
  };
});
afterEach(() => runtime.dispose());

describe("service implementations with injected dependencies", () => {
  it("create a project and a deployment for the principal in the context", async () => {
    const rpc = makeRpc(makeRunner(runtime, log));
    const projects = projectService(rpc);
    const deployments = deploymentService(rpc);

    const { project } = await projects.createProject(
      create(CreateProjectRequestSchema, { name: "Web", slug: "web" }),
      contextFor(ProjectService, "CreateProject", principal),
    );
    expect(project).toMatchObject({ slug: "web", workspaceId: principal.workspaceId });

    const created = await deployments.createDeployment(
      create(CreateDeploymentRequestSchema, {
        projectId: String(project?.id),
        environmentSlug: "preview",
        source: { case: "dockerImage", value: "localhost/web:1" },
      }),
      contextFor(DeploymentService, "CreateDeployment", principal),
    );
    expect(created.status).toBe(DeploymentStatus.PENDING);
    const got = await deployments.getDeployment(
      create(GetDeploymentRequestSchema, { deploymentId: String(created.deploymentId) }),
      contextFor(DeploymentService, "GetDeployment", principal),
    );
    expect(got.deployment).toMatchObject({ environmentSlug: "preview", isLive: false });
  });

  it("refuse a call that no interceptor authenticated", async () => {
    const deployments = deploymentService(makeRpc(makeRunner(runtime, log)));
    const call = deployments.listRegions(
      create(ListRegionsRequestSchema, {}),
      contextFor(DeploymentService, "ListRegions", undefined),
    );
    await expect(call).rejects.toEqual(
      new ConnectError("this call was not authenticated", Code.Unauthenticated),
    );
  });

  it("run use cases through the injected runner, whatever it is", async () => {
    const seen: Array<string> = [];
    const rpc = makeRpc((effect, meta) => {
      seen.push(`${meta.requestId} ${meta.procedure}`);
      return runtime.runPromise(Effect.orDie(effect));
    });
    const { regions } = await deploymentService(rpc).listRegions(
      create(ListRegionsRequestSchema, {}),
      contextFor(DeploymentService, "ListRegions", principal),
    );
    expect(regions?.map((r) => r.name)).toEqual(["local-1", "local-2"]);
    expect(seen).toEqual(["req-1 /ctrl.v1.DeploymentService/ListRegions"]);
  });
});
