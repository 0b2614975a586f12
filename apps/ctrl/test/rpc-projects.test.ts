/** ProjectService over the in-memory router transport: every RPC and every error path. */
import { Code } from "@connectrpc/connect";
import { EnvironmentKind } from "@ferry/api";
import type { DeploymentId } from "@ferry/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectError, MISSING_PROJECT, makeWorld, type World } from "./support.ts";
import { becomeReady } from "./world.ts";

let world: World;
let client: ReturnType<World["clients"]>;

beforeEach(async () => {
  world = await makeWorld();
  client = world.clients(world.acme.token);
});
afterEach(() => world.dispose());

const createWeb = async () => {
  const { project } = await client.projects.createProject({ name: "  Web shop ", slug: "web" });
  if (project === undefined) throw new Error("no project in the response");
  return project;
};

describe("CreateProject / GetProject / ListProjects", () => {
  it("creates a project with production and preview and default settings", async () => {
    const project = await createWeb();
    expect(project).toMatchObject({
      id: expect.stringMatching(/^prj_[0-9a-z]{26}$/),
      workspaceId: world.acme.workspace.id,
      name: "Web shop",
      slug: "web",
      settings: {
        containerPort: 8080,
        healthCheckPath: "/",
        healthCheckTimeoutSeconds: 300,
        replicasPerRegion: 1,
      },
      liveDeploymentId: "",
      rolledBack: false,
    });
    expect(project.environments.map((e) => [e.slug, e.kind, e.currentDeploymentId])).toEqual([
      ["production", EnvironmentKind.PRODUCTION, ""],
      ["preview", EnvironmentKind.PREVIEW, ""],
    ]);
    expect(project.createdAt).toBeGreaterThan(1_700_000_000_000n);

    const byId = await client.projects.getProject({
      key: { case: "projectId", value: project.id },
    });
    const bySlug = await client.projects.getProject({ key: { case: "slug", value: "web" } });
    expect(byId.project).toEqual(project);
    expect(bySlug.project).toEqual(project);
  });

  it("shows where each environment's hostname points and the live deployment", async () => {
    const project = await createWeb();
    const { deploymentId } = await client.deployments.createDeployment({
      projectId: project.id,
      environmentSlug: "production",
      source: { case: "dockerImage", value: "localhost/web:1" },
    });
    await world.run(becomeReady(world.acme, deploymentId as DeploymentId));
    const { project: after } = await client.projects.getProject({
      key: { case: "projectId", value: project.id },
    });
    expect(after?.liveDeploymentId).toBe(deploymentId);
    expect(after?.environments[0]).toMatchObject({
      slug: "production",
      currentDeploymentId: deploymentId,
    });
  });

  it("reports invalid, duplicate and missing projects", async () => {
    await expectError(
      client.projects.createProject({ name: " ", slug: "Bad--Slug" }),
      Code.InvalidArgument,
      /^name: must not be empty; slug: must contain only lowercase letters/,
    );
    await createWeb();
    await expectError(
      client.projects.createProject({ name: "Web", slug: "web" }),
      Code.AlreadyExists,
      'project "web" already exists',
    );
    await expectError(
      client.projects.getProject({}),
      Code.InvalidArgument,
      "key: set project_id or slug",
    );
    await expectError(
      client.projects.getProject({ key: { case: "slug", value: "" } }),
      Code.InvalidArgument,
      "key: set project_id or slug",
    );
    await expectError(
      client.projects.getProject({ key: { case: "projectId", value: "web" } }),
      Code.InvalidArgument,
      'project_id: "web" is not a well-formed id for this field',
    );
    await expectError(
      client.projects.getProject({ key: { case: "slug", value: "shop" } }),
      Code.NotFound,
      'project "shop" not found',
    );
  });

  it("pages through the workspace's projects by slug across three pages", async () => {
    // Created out of slug order: the pages follow the slugs, not the creation time.
    const created = new Map<string, string>();
    for (const slug of ["echo", "a-b", "delta", "ab", "charlie"]) {
      const { project } = await client.projects.createProject({ name: slug, slug });
      created.set(slug, project?.id ?? "");
    }
    // Another workspace's project never shows up.
    await world.clients(world.globex.token).projects.createProject({ name: "b", slug: "b" });
    const pages: Array<Array<string>> = [];
    let pageToken = "";
    do {
      const page = await client.projects.listProjects({ pageSize: 2, pageToken });
      pages.push(page.projects.map((p) => p.slug));
      pageToken = page.nextPageToken;
    } while (pageToken !== "" && pages.length < 5);
    expect(pages).toEqual([["a-b", "ab"], ["charlie", "delta"], ["echo"]]);
    const all = await client.projects.listProjects({ pageSize: 1000 });
    expect(all.projects.map((p) => [p.slug, p.id])).toEqual(
      ["a-b", "ab", "charlie", "delta", "echo"].map((slug) => [slug, created.get(slug)]),
    );
    expect(all.nextPageToken).toBe("");
    await expectError(
      client.projects.listProjects({ pageSize: -5 }),
      Code.InvalidArgument,
      "page_size: must be an integer from 1 to 200 (0 means 50)",
    );
    // "nope", and a token of the format ListProjects returned when it paged newest first:
    // "1" and the hex of the last project's id.
    const oldFormat = `1${Buffer.from(created.get("ab") ?? "").toString("hex")}`;
    for (const token of ["nope", oldFormat])
      await expectError(
        client.projects.listProjects({ pageToken: token }),
        Code.InvalidArgument,
        "page_token: is not a token returned by ListProjects",
      );
  });
});

describe("UpdateProjectSettings", () => {
  it("changes only the fields that are set", async () => {
    const project = await createWeb();
    const { project: updated } = await client.projects.updateProjectSettings({
      projectId: project.id,
      containerPort: 3000,
      healthCheckPath: "/healthz",
    });
    expect(updated?.settings).toEqual(
      expect.objectContaining({
        containerPort: 3000,
        healthCheckPath: "/healthz",
        healthCheckTimeoutSeconds: 300,
        replicasPerRegion: 1,
      }),
    );
    const { project: unchanged } = await client.projects.updateProjectSettings({
      projectId: project.id,
    });
    expect(unchanged?.settings?.containerPort).toBe(3000);
  });

  it("reports every out-of-range field, and missing projects", async () => {
    const project = await createWeb();
    await expectError(
      client.projects.updateProjectSettings({
        projectId: project.id,
        containerPort: 0,
        healthCheckPath: "no-slash",
        healthCheckTimeoutSeconds: 4000,
        replicasPerRegion: 21,
      }),
      Code.InvalidArgument,
      "container_port: must be an integer from 1 to 65535 (got 0); health_check_path: must start with '/' (got \"no-slash\"); health_check_timeout_seconds: must be an integer from 1 to 3600 (got 4000); replicas_per_region: must be an integer from 1 to 20 (got 21)",
    );
    await expectError(
      client.projects.updateProjectSettings({ projectId: "" }),
      Code.InvalidArgument,
      "project_id: is required",
    );
    await expectError(
      client.projects.updateProjectSettings({ projectId: MISSING_PROJECT, containerPort: 80 }),
      Code.NotFound,
      `project "${MISSING_PROJECT}" not found`,
    );
  });
});

describe("CreateEnvironment", () => {
  it("creates a preview environment and refuses the rest", async () => {
    const project = await createWeb();
    const { environment } = await client.projects.createEnvironment({
      projectId: project.id,
      slug: "staging",
      kind: EnvironmentKind.PREVIEW,
    });
    expect(environment).toMatchObject({
      id: expect.stringMatching(/^env_/),
      projectId: project.id,
      slug: "staging",
      kind: EnvironmentKind.PREVIEW,
      currentDeploymentId: "",
    });
    await expectError(
      client.projects.createEnvironment({
        projectId: project.id,
        slug: "staging",
        kind: EnvironmentKind.PREVIEW,
      }),
      Code.AlreadyExists,
      'environment "staging" already exists',
    );
    await expectError(
      client.projects.createEnvironment({
        projectId: project.id,
        slug: "prod2",
        kind: EnvironmentKind.PRODUCTION,
      }),
      Code.FailedPrecondition,
      "a project has exactly one production environment; create a preview environment",
    );
    await expectError(
      client.projects.createEnvironment({ projectId: project.id, slug: "qa" }),
      Code.InvalidArgument,
      "kind: is required: ENVIRONMENT_KIND_PREVIEW (a project's one production environment is created with it)",
    );
    await expectError(
      client.projects.createEnvironment({
        projectId: project.id,
        slug: "-qa",
        kind: EnvironmentKind.PREVIEW,
      }),
      Code.InvalidArgument,
      /^slug: /,
    );
    await expectError(
      client.projects.createEnvironment({
        projectId: MISSING_PROJECT,
        slug: "qa",
        kind: EnvironmentKind.PREVIEW,
      }),
      Code.NotFound,
      `project "${MISSING_PROJECT}" not found`,
    );
  });
});

describe("environment variables", () => {
  it("sets, merges, deletes and lists; a secret's value never comes back", async () => {
    const project = await createWeb();
    const set = await client.projects.setEnvironmentVariables({
      projectId: project.id,
      environmentSlug: "production",
      variables: [
        { key: "LOG_LEVEL", value: "info" },
        { key: "API_TOKEN", value: "s3cr3t-value", secret: true },
      ],
    });
    expect(set.variables.map((v) => [v.key, v.value, v.secret])).toEqual([
      ["API_TOKEN", "", true],
      ["LOG_LEVEL", "info", false],
    ]);
    const merged = await client.projects.setEnvironmentVariables({
      projectId: project.id,
      environmentSlug: "production",
      variables: [{ key: "REGION", value: "eu" }],
      deleteKeys: ["LOG_LEVEL", "NEVER_SET"],
    });
    expect(merged.variables.map((v) => v.key)).toEqual(["API_TOKEN", "REGION"]);
    const listed = await client.projects.listEnvironmentVariables({
      projectId: project.id,
      environmentSlug: "production",
    });
    expect(listed.variables).toEqual(merged.variables);
    expect(JSON.stringify(listed)).not.toContain("s3cr3t-value");
    expect(JSON.stringify(world.log.lines())).not.toContain("s3cr3t-value");
    const preview = await client.projects.listEnvironmentVariables({
      projectId: project.id,
      environmentSlug: "preview",
    });
    expect(preview.variables).toEqual([]);
  });

  it("reports every invalid variable, and missing projects and environments", async () => {
    const project = await createWeb();
    await expectError(
      client.projects.setEnvironmentVariables({
        projectId: project.id,
        environmentSlug: "production",
        variables: [
          { key: "1BAD", value: "x" },
          { key: "OK", value: "a\u0000b" },
        ],
      }),
      Code.InvalidArgument,
      "variables[0].key: \"1BAD\" is not a valid name (letters, digits and '_', not starting with a digit); variables[1].value: must not contain NUL characters",
    );
    await expectError(
      client.projects.setEnvironmentVariables({
        projectId: project.id,
        environmentSlug: "production",
        variables: [{ key: "A", value: "1" }],
        deleteKeys: ["A"],
      }),
      Code.InvalidArgument,
      'delete_keys: "A" is both set and deleted',
    );
    await expectError(
      client.projects.setEnvironmentVariables({ projectId: "", environmentSlug: "production" }),
      Code.InvalidArgument,
      "project_id: is required",
    );
    await expectError(
      client.projects.listEnvironmentVariables({ projectId: project.id, environmentSlug: "" }),
      Code.InvalidArgument,
      /^environment_slug: /,
    );
    await expectError(
      client.projects.listEnvironmentVariables({
        projectId: project.id,
        environmentSlug: "staging",
      }),
      Code.NotFound,
      'environment "staging" not found',
    );
    await expectError(
      client.projects.listEnvironmentVariables({
        projectId: MISSING_PROJECT,
        environmentSlug: "production",
      }),
      Code.NotFound,
      `project "${MISSING_PROJECT}" not found`,
    );
  });
});
