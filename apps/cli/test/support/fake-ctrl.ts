/**
 * A small stand-in for ctrl's public API over real HTTP (the Connect protocol, as the CLI
 * speaks it), with an upload endpoint, for testing the CLI's own decisions: what it sends, in
 * which order, and what it prints. It keeps only what those decisions read; the real server is
 * covered by cli-stack.test.ts and batch-e2e.test.ts.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  type Deployment,
  DeploymentSchema,
  DeploymentService,
  DeploymentStatus,
  EnvironmentKind,
  type EnvironmentVariable,
  EnvironmentVariableSchema,
  type Project,
  ProjectSchema,
  ProjectService,
  WatchDeploymentResponseSchema,
} from "@ferry/api";

export interface FakeCtrl {
  readonly apiUrl: string;
  /** The calls made, in order: `create <key>`, `upload`, `createUploadUrl`, `rollback`, ... */
  readonly calls: Array<string>;
  readonly projects: Map<string, Project>;
  readonly deployments: Map<string, Deployment>;
  /** Variables by `projectId/environment`. */
  readonly variables: Map<string, Array<EnvironmentVariable>>;
  /** Requests as received, by method name (the last one). */
  readonly last: Map<string, unknown>;
  /** When set, CreateDeployment fails with it. */
  createFails: ConnectError | undefined;
  close(): Promise<void>;
}

/** Projects web and api, each with production and preview; the region local-1. */
export const startFakeCtrl = async (): Promise<FakeCtrl> => {
  const projects = new Map(
    ["web", "api"].map((slug) => [
      slug,
      create(ProjectSchema, {
        id: `prj_${slug}`,
        slug,
        environments: [
          { slug: "production", kind: EnvironmentKind.PRODUCTION },
          { slug: "preview", kind: EnvironmentKind.PREVIEW },
        ],
      }),
    ]),
  );
  const deployments = new Map<string, Deployment>();
  const variables = new Map<string, Array<EnvironmentVariable>>();
  const calls: Array<string> = [];
  const last = new Map<string, unknown>();
  const projectById = (id: string) => [...projects.values()].find((p) => p.id === id);
  const findProject = (key: { case?: string | undefined; value?: string | undefined }) => {
    const project =
      key.case === "slug" ? projects.get(key.value ?? "") : projectById(key.value ?? "");
    if (project === undefined) throw new ConnectError("project not found", Code.NotFound);
    return project;
  };
  let address = "";
  const fake: { -readonly [K in keyof FakeCtrl]: FakeCtrl[K] } = {
    apiUrl: "",
    calls,
    projects,
    deployments,
    variables,
    last,
    createFails: undefined,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const routes = connectNodeAdapter({
    routes: (router) => {
      router.service(ProjectService, {
        getProject: (request) => ({ project: findProject(request.key) }),
        listProjects: () => ({ projects: [...projects.values()] }),
        listEnvironmentVariables: (request) => ({
          variables: (variables.get(`${request.projectId}/${request.environmentSlug}`) ?? []).map(
            (variable) => (variable.secret ? { ...variable, value: "" } : variable),
          ),
        }),
        setEnvironmentVariables: (request) => {
          calls.push("setEnvironmentVariables");
          last.set("setEnvironmentVariables", request);
          const scope = `${request.projectId}/${request.environmentSlug}`;
          const current = (variables.get(scope) ?? []).filter(
            (variable) =>
              !request.deleteKeys.includes(variable.key) &&
              !request.variables.some((given) => given.key === variable.key),
          );
          const next = [
            ...current,
            ...request.variables.map((given) => create(EnvironmentVariableSchema, given)),
          ];
          variables.set(scope, next);
          return {
            variables: next.map((variable) =>
              variable.secret ? { ...variable, value: "" } : variable,
            ),
          };
        },
      });
      router.service(DeploymentService, {
        listRegions: () => ({ regions: [{ name: "local-1" }] }),
        createUploadUrl: (request) => {
          calls.push("createUploadUrl");
          return {
            uploadUrl: `${address}/upload/${request.projectId}`,
            method: "PUT",
            buildContextPath: `contexts/${request.projectId}/${calls.length}.tar.gz`,
          };
        },
        createDeployment: (request) => {
          calls.push(`create ${request.idempotencyKey}`);
          last.set("createDeployment", request);
          if (fake.createFails !== undefined) throw fake.createFails;
          const project = projectById(request.projectId);
          if (project === undefined) throw new ConnectError("project not found", Code.NotFound);
          const id = `dep_${deployments.size + 1}`;
          const deployment = create(DeploymentSchema, {
            id,
            projectId: request.projectId,
            environmentSlug: request.environmentSlug,
            environmentKind: EnvironmentKind.PRODUCTION,
            status: DeploymentStatus.READY,
            idempotencyKey: request.idempotencyKey,
          });
          deployments.set(id, deployment);
          if (!project.rolledBack) project.liveDeploymentId = id;
          return { deploymentId: id, status: DeploymentStatus.PENDING };
        },
        getDeployment: (request) => {
          const deployment = deployments.get(request.deploymentId);
          if (deployment === undefined)
            throw new ConnectError("deployment not found", Code.NotFound);
          return { deployment };
        },
        listDeployments: (request) => ({
          deployments: [...deployments.values()]
            .filter(
              (d) =>
                d.projectId === request.projectId &&
                (request.statuses.length === 0 || request.statuses.includes(d.status)),
            )
            .reverse(),
        }),
        async *watchDeployment(request) {
          yield create(WatchDeploymentResponseSchema, {
            cursor: "c1",
            event: {
              case: "status",
              value: { status: deployments.get(request.deploymentId)?.status ?? 0 },
            },
          });
        },
        rollback: (request) => {
          calls.push(`rollback ${request.targetDeploymentId}`);
          throw new ConnectError("not expected in this fake", Code.Unimplemented);
        },
      });
    },
  });
  const server: Server = createServer((request, response) => {
    if (request.url?.startsWith("/upload/") === true) {
      calls.push("upload");
      request.resume();
      request.on("end", () => response.writeHead(200).end());
      return;
    }
    routes(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.apiUrl = address;
  return fake;
};
