/**
 * runBatch's decisions against an in-memory API (the unit under test is the client's logic;
 * the real server is covered by batch-e2e.test.ts): `@name` waits for and blocks on its deploy,
 * a re-run looks keys up instead of creating, a report's record skips traffic changes, an
 * interrupted run starts nothing. The fake keeps only what these decisions read.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  type Deployment,
  DeploymentSchema,
  DeploymentService,
  DeploymentStatus,
  EnvironmentKind,
  ProjectSchema,
  ProjectService,
  WatchDeploymentResponseSchema,
} from "@ferry/api";
import { describe, expect, it } from "vitest";
import type { Api } from "../src/api.ts";
import type { BatchFile } from "../src/batch/model.ts";
import type { EntryOutcome } from "../src/batch/outcome.ts";
import { parseBatchFile } from "../src/batch/parse.ts";
import { runBatch } from "../src/batch/run.ts";

/** A workspace with projects web and api; images containing "broken" end FAILED. */
const fakeServer = () => {
  const projects = new Map(
    ["web", "api"].map((slug) => [
      slug,
      create(ProjectSchema, {
        id: `prj_${slug}`,
        slug,
        environments: [{ slug: "production", kind: EnvironmentKind.PRODUCTION }],
      }),
    ]),
  );
  const deployments = new Map<string, Deployment>();
  const calls: Array<string> = [];
  const projectById = (id: string) => [...projects.values()].find((p) => p.id === id);
  const transport = createRouterTransport((router) => {
    router.service(ProjectService, {
      getProject: (request) => {
        const project =
          request.key.case === "slug"
            ? projects.get(request.key.value)
            : projectById(request.key.value ?? "");
        if (project === undefined) throw new ConnectError("project not found", Code.NotFound);
        return { project };
      },
    });
    router.service(DeploymentService, {
      createDeployment: (request) => {
        calls.push(`create ${request.idempotencyKey}`);
        const image = request.source.case === "dockerImage" ? request.source.value : "";
        const id = `dep_${deployments.size + 1}`;
        const ready = !image.includes("broken");
        const deployment = create(DeploymentSchema, {
          id,
          projectId: request.projectId,
          environmentSlug: request.environmentSlug,
          environmentKind: EnvironmentKind.PRODUCTION,
          status: ready ? DeploymentStatus.READY : DeploymentStatus.FAILED,
          errorMessage: ready ? "" : "container exited with code 3",
          idempotencyKey: request.idempotencyKey,
        });
        deployments.set(id, deployment);
        const project = projectById(request.projectId);
        if (ready && project !== undefined && !project.rolledBack) project.liveDeploymentId = id;
        return { deploymentId: id, status: DeploymentStatus.PENDING };
      },
      getDeployment: (request) => {
        const deployment = deployments.get(request.deploymentId);
        if (deployment === undefined) throw new ConnectError("deployment not found", Code.NotFound);
        return { deployment };
      },
      listDeployments: (request) => {
        calls.push(`list ${request.projectId}`);
        return {
          deployments: [...deployments.values()].filter((d) => d.projectId === request.projectId),
        };
      },
      async *watchDeployment(request) {
        yield create(WatchDeploymentResponseSchema, {
          cursor: "c1",
          event: {
            case: "status",
            value: { status: deployments.get(request.deploymentId)?.status ?? 0 },
          },
        });
      },
      promote: (request) => {
        calls.push(`promote ${request.targetDeploymentId}`);
        const target = deployments.get(request.targetDeploymentId);
        const project = projectById(target?.projectId ?? "");
        if (target === undefined || project === undefined)
          throw new ConnectError("deployment not found", Code.NotFound);
        const previous = project.liveDeploymentId;
        project.liveDeploymentId = target.id;
        project.rolledBack = false;
        return { liveDeploymentId: target.id, previousLiveDeploymentId: previous, changed: true };
      },
    });
  });
  const api: Api = {
    projects: createClient(ProjectService, transport),
    deployments: createClient(DeploymentService, transport),
    apiUrl: "memory://",
  };
  return { api, calls, projects };
};

const fileOf = (text: string): BatchFile => {
  const { file, problems } = parseBatchFile(text, { path: "b.yaml", baseDir: "/tmp" });
  if (file === undefined) throw new Error(JSON.stringify(problems));
  return file;
};

const FILE = fileOf(`version: 1
operations:
  - {name: web, op: deploy, project: web, image: web:2}
  - {name: api, op: deploy, project: api, image: api:broken}
  - {name: web-live, op: promote, deployment: "@web"}
  - {name: api-live, op: promote, deployment: "@api"}
  - {name: ghost, op: deploy, project: ghost, image: x:1}
`);

const run = (
  api: Api,
  options: { previous?: ReadonlyMap<string, EntryOutcome>; signal?: AbortSignal } = {},
) =>
  runBatch(api, FILE, {
    concurrency: 2,
    previous: options.previous ?? new Map(),
    signal: options.signal ?? new AbortController().signal,
  });

const summary = (outcomes: ReadonlyArray<EntryOutcome>) =>
  outcomes.map((o) => `${o.name} ${o.result} ${o.deploymentId || "-"} ${o.message}`.trim());

describe("runBatch", () => {
  it("runs every entry; an @name waits for its deploy and is not run when it failed", async () => {
    const { api, calls } = fakeServer();
    const outcomes = await run(api);
    expect(summary(outcomes)).toEqual([
      "web succeeded dep_1",
      "api failed dep_2 FAILED: container exited with code 3",
      // The deploy made it live already; promoting it again would change nothing.
      "web-live skipped dep_1 already done: it is the live deployment",
      'api-live not-run - not run: "api" did not end READY (failed)',
      'ghost failed - no project "ghost" in this workspace (looked up by slug and by id); `ferry projects list` shows them',
    ]);
    expect(calls.filter((call) => call.startsWith("create"))).toHaveLength(2);
    expect(outcomes[0]).toMatchObject({ project: "web", projectId: "prj_web", status: "READY" });
  });

  it("a re-run finds each deploy by its key instead of creating it again", async () => {
    const { api, calls } = fakeServer();
    const first = await run(api);
    calls.length = 0;
    const second = await run(api);
    expect(summary(second).slice(0, 3)).toEqual([
      "web skipped dep_1 already done: an earlier run deployed it",
      'api failed dep_2 an earlier run created it; FAILED: container exited with code 3; to deploy again, rename the entry or change the file\'s "run"',
      "web-live skipped dep_1 already done: it is the live deployment",
    ]);
    expect(calls.filter((call) => call.startsWith("create"))).toEqual([]);
    // With the previous report, the recorded deployment is checked directly: no list scan.
    calls.length = 0;
    await run(api, { previous: new Map(first.map((o) => [o.idempotencyKey, o])) });
    expect(calls).toEqual([]);
  });

  it("a promote the previous report records as done is not sent again", async () => {
    const { api, calls, projects } = fakeServer();
    const first = await run(api);
    // Someone moved production away since; the file's promote is done all the same.
    const web = projects.get("web");
    if (web !== undefined) web.liveDeploymentId = "dep_other";
    const recorded = new Map(
      first.map((o) => [
        o.idempotencyKey,
        o.name === "web-live" ? { ...o, result: "succeeded" as const } : o,
      ]),
    );
    calls.length = 0;
    const second = await run(api, { previous: recorded });
    expect(summary(second)[2]).toBe(
      "web-live skipped dep_1 already done: the previous report records it as succeeded",
    );
    expect(calls.filter((call) => call.startsWith("promote"))).toEqual([]);
  });

  it("refuses a rollback to a deploy of another project before it could race it", async () => {
    const { api } = fakeServer();
    const outcomes = await runBatch(
      api,
      fileOf(`version: 1
operations:
  - {name: api, op: deploy, project: api, image: api:1}
  - {name: back, op: rollback, project: web, target: "@api"}
`),
      { concurrency: 2, previous: new Map(), signal: new AbortController().signal },
    );
    expect(summary(outcomes)).toEqual([
      "api succeeded dep_1",
      'back failed - "@api" deploys project api, not web; a rollback stays within one project',
    ]);
  });

  it("an interrupted run starts nothing more", async () => {
    const { api, calls } = fakeServer();
    const interrupt = new AbortController();
    interrupt.abort();
    const outcomes = await run(api, { signal: interrupt.signal });
    expect(outcomes.map((o) => o.result)).toEqual(Array(5).fill("not-run"));
    expect(calls.filter((call) => call.startsWith("create"))).toEqual([]);
  });
});
