/** ProjectService's use cases: projects, settings, environments and environment variables. */
import { describe, expect, it } from "@effect/vitest";
import { Effect, Layer } from "effect";
import {
  createEnvironment,
  createProject,
  type DeploymentId,
  encodePageToken,
  getProject,
  Ids,
  listEnvironmentVariables,
  listProjects,
  RouteRepository,
  resolveProject,
  SecretBox,
  setEnvironmentVariables,
  updateProjectSettings,
  type Violation,
  type WorkspaceId,
} from "../../src/index.ts";
import { TEST_SECRET_KEY_ID, TestSecretBox } from "../../src/testing/index.ts";
import { NOW, SEALED_TOKEN, seed, stored, type Tenant, TestLayer, tick } from "./fixtures.ts";

/** The in-memory world plus a SecretBox, which setEnvironmentVariables needs. */
const ProjectsTestLayer = Layer.merge(TestLayer, TestSecretBox);

const PROJECT_ID_PATTERN = /^prj_[0-9a-z]{26}$/;
const ENVIRONMENT_ID_PATTERN = /^env_[0-9a-z]{26}$/;

/** The violations of a failure that must be a ValidationError. */
const violations = (error: { readonly _tag: string }): ReadonlyArray<Violation> => {
  expect(error._tag).toBe("ValidationError");
  return "violations" in error ? (error.violations as ReadonlyArray<Violation>) : [];
};

const storedProjects = Effect.map(stored, (data) => [...data.projects.values()]);
const storedEnvironments = Effect.map(stored, (data) => [...data.environments.values()]);
const storedVariables = (tenant: Tenant, slug: "production" | "preview") =>
  Effect.map(stored, (data) => [...(data.variables.get(tenant[slug].id)?.values() ?? [])]);

/** The view getProject returns for a seeded tenant's project, with nothing routed. */
const seededView = (tenant: Tenant) => ({
  project: tenant.project,
  environments: [
    { ...tenant.preview, currentDeploymentId: undefined },
    { ...tenant.production, currentDeploymentId: undefined },
  ],
});

const unknownProjectId = Effect.flatMap(Ids, (ids) => ids.next("project"));

describe("createProject", () => {
  it.effect(
    "stores the project with default settings, not rolled back, with production and preview",
    () =>
      Effect.gen(function* () {
        const { acme } = yield* seed;
        yield* tick;
        const view = yield* createProject(acme.workspace.id, {
          name: "  Marketing Site  ",
          slug: "marketing",
        });
        const id = view.project.id;
        expect(id).toMatch(PROJECT_ID_PATTERN);
        const project = {
          id,
          workspaceId: acme.workspace.id,
          name: "Marketing Site",
          slug: "marketing",
          settings: {
            containerPort: 8080,
            healthCheckPath: "/",
            healthCheckTimeoutSeconds: 300,
            replicasPerRegion: 1,
          },
          rolledBack: false,
          createdAt: NOW + 1000,
          updatedAt: NOW + 1000,
        };
        const environment = (slug: string, kind: "PRODUCTION" | "PREVIEW") => ({
          id: expect.stringMatching(ENVIRONMENT_ID_PATTERN),
          workspaceId: acme.workspace.id,
          projectId: id,
          slug,
          kind,
          createdAt: NOW + 1000,
        });
        // Environments come ordered by slug.
        expect(view).toStrictEqual({
          project,
          environments: [
            { ...environment("preview", "PREVIEW"), currentDeploymentId: undefined },
            { ...environment("production", "PRODUCTION"), currentDeploymentId: undefined },
          ],
        });
        const [preview, production] = view.environments;
        expect(preview?.id).not.toBe(production?.id);

        expect((yield* storedProjects).find((p) => p.id === id)).toStrictEqual(project);
        expect(
          (yield* storedEnvironments)
            .filter((e) => e.projectId === id)
            .map((e) => [e.slug, e.kind, e.id]),
        ).toStrictEqual([
          ["production", "PRODUCTION", production?.id],
          ["preview", "PREVIEW", preview?.id],
        ]);
        // What getProject reads back is what createProject returned.
        expect(yield* getProject(acme.workspace.id, { projectId: id })).toStrictEqual(view);
      }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("accepts a name of exactly 256 bytes, counted in UTF-8", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      // 128 two-byte characters: 128 characters, 256 bytes.
      const name = "é".repeat(128);
      const view = yield* createProject(acme.workspace.id, { name, slug: "docs" });
      expect(view.project.name).toBe(name);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects an empty, too long or control-character name on `name`", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const cases: ReadonlyArray<[string, string]> = [
        ["", "must not be empty"],
        ["   \t ", "must not be empty"],
        ["x".repeat(257), "must be at most 256 bytes (got 257)"],
        // 129 two-byte characters: under 256 characters, over 256 bytes.
        ["é".repeat(129), "must be at most 256 bytes (got 258)"],
        ["web\napp", "must not contain control characters"],
        ["web\u0000app", "must not contain control characters"],
        ["web\u007fapp", "must not contain control characters"],
      ];
      for (const [name, message] of cases) {
        const error = yield* Effect.flip(createProject(acme.workspace.id, { name, slug: "docs" }));
        expect(violations(error)).toStrictEqual([{ field: "name", message }]);
      }
      expect((yield* storedProjects).map((p) => p.slug)).toStrictEqual(["web", "api"]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects a slug that is not a lowercase DNS label on `slug`", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const charset = (slug: string) =>
        `must contain only lowercase letters, digits and '-', and start and end with a letter or digit (got "${slug}")`;
      const cases: ReadonlyArray<[string, string]> = [
        ["", "must not be empty"],
        ["Docs", charset("Docs")],
        ["-docs", charset("-docs")],
        ["docs-", charset("docs-")],
        ["my_docs", charset("my_docs")],
        ["my--docs", `must not contain "--" (reserved as the separator in generated hostnames)`],
        ["xn", `must not be "xn" (a hostname starting with "xn--" is read as punycode)`],
        ["a".repeat(64), "must be at most 63 characters (got 64)"],
      ];
      for (const [slug, message] of cases) {
        const error = yield* Effect.flip(createProject(acme.workspace.id, { name: "Docs", slug }));
        expect(violations(error)).toStrictEqual([{ field: "slug", message }]);
      }
      // 63 characters is a DNS label.
      const longest = yield* createProject(acme.workspace.id, {
        name: "Docs",
        slug: "a".repeat(63),
      });
      expect(longest.project.slug).toBe("a".repeat(63));
      expect((yield* storedProjects).map((p) => p.slug)).toStrictEqual([
        "web",
        "api",
        "a".repeat(63),
      ]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("lists both violations when the name and the slug are bad", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const error = yield* Effect.flip(createProject(acme.workspace.id, { name: "", slug: "Web" }));
      expect(violations(error)).toStrictEqual([
        { field: "name", message: "must not be empty" },
        {
          field: "slug",
          message: `must contain only lowercase letters, digits and '-', and start and end with a letter or digit (got "Web")`,
        },
      ]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect(
    "answers AlreadyExists for a slug taken in the workspace, storing nothing; another workspace's slug is free",
    () =>
      Effect.gen(function* () {
        const { acme, globex } = yield* seed;
        const environmentsBefore = yield* storedEnvironments;
        const error = yield* Effect.flip(
          createProject(acme.workspace.id, { name: "Another web", slug: "web" }),
        );
        expect(error).toMatchObject({ _tag: "AlreadyExists", resource: "project", id: "web" });
        expect(error.message).toBe(`project "web" already exists`);
        expect(yield* storedProjects).toStrictEqual([acme.project, globex.project]);
        expect(yield* storedEnvironments).toStrictEqual(environmentsBefore);

        // "api" belongs to globex only: acme may take it too.
        const api = yield* createProject(acme.workspace.id, { name: "API", slug: "api" });
        expect(api.project).toMatchObject({ workspaceId: acme.workspace.id, slug: "api" });
        expect(api.project.id).not.toBe(globex.project.id);
        expect((yield* storedProjects).map((p) => [p.workspaceId, p.slug])).toStrictEqual([
          [acme.workspace.id, "web"],
          [globex.workspace.id, "api"],
          [acme.workspace.id, "api"],
        ]);
      }).pipe(Effect.provide(ProjectsTestLayer)),
  );
});

describe("getProject", () => {
  it.effect("finds a project by id and by slug", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      expect(yield* getProject(acme.workspace.id, { projectId: acme.project.id })).toStrictEqual(
        seededView(acme),
      );
      expect(yield* getProject(acme.workspace.id, { slug: "web" })).toStrictEqual(seededView(acme));
      expect(yield* getProject(globex.workspace.id, { slug: "api" })).toStrictEqual(
        seededView(globex),
      );
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect(
    "answers NotFound for another workspace's project by id or by slug, and for unknown ones",
    () =>
      Effect.gen(function* () {
        const { acme, globex } = yield* seed;
        const byForeignId = yield* Effect.flip(
          getProject(acme.workspace.id, { projectId: globex.project.id }),
        );
        expect(byForeignId).toMatchObject({
          _tag: "NotFound",
          resource: "project",
          id: globex.project.id,
        });
        const byForeignSlug = yield* Effect.flip(getProject(acme.workspace.id, { slug: "api" }));
        expect(byForeignSlug).toMatchObject({ _tag: "NotFound", resource: "project", id: "api" });
        const unknown = yield* unknownProjectId;
        const byUnknownId = yield* Effect.flip(
          getProject(acme.workspace.id, { projectId: unknown }),
        );
        expect(byUnknownId).toMatchObject({ _tag: "NotFound", resource: "project", id: unknown });
        const byUnknownSlug = yield* Effect.flip(getProject(acme.workspace.id, { slug: "docs" }));
        expect(byUnknownSlug).toMatchObject({ _tag: "NotFound", resource: "project", id: "docs" });
      }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects a malformed id on `project_id`, and a request naming neither on `key`", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      for (const projectId of ["prj_short", "web", acme.production.id]) {
        const error = yield* Effect.flip(getProject(acme.workspace.id, { projectId }));
        expect(violations(error)).toStrictEqual([
          { field: "project_id", message: `"${projectId}" is not a well-formed id for this field` },
        ]);
      }
      for (const request of [{}, { projectId: "", slug: "" }]) {
        const error = yield* Effect.flip(getProject(acme.workspace.id, request));
        expect(violations(error)).toStrictEqual([
          { field: "key", message: "set project_id or slug" },
        ]);
      }
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("shows each environment's current deployment: where its ENVIRONMENT route points", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      const ids = yield* Ids;
      const routes = yield* RouteRepository;
      const point = (
        tenant: Tenant,
        environment: "production" | "preview",
        deploymentId: DeploymentId,
        targets: ReadonlyArray<{
          hostname: string;
          kind: "DEPLOYMENT" | "BRANCH" | "ENVIRONMENT" | "LIVE";
        }>,
      ) =>
        routes.point({
          workspaceId: tenant.workspace.id,
          projectId: tenant.project.id,
          environmentId: tenant[environment].id,
          deploymentId,
          routes: targets,
          at: NOW,
        });
      const first = yield* ids.next("deployment");
      const second = yield* ids.next("deployment");
      const previewOnly = yield* ids.next("deployment");
      const foreign = yield* ids.next("deployment");
      // A deployment's own and branch hostnames do not make it an environment's current deployment.
      yield* point(acme, "preview", previewOnly, [
        { hostname: "web-preview-only-acme.ferry.test", kind: "DEPLOYMENT" },
        { hostname: "web-git-feature-acme.ferry.test", kind: "BRANCH" },
      ]);
      yield* point(acme, "production", first, [
        { hostname: "web-production-acme.ferry.test", kind: "ENVIRONMENT" },
      ]);
      yield* point(globex, "preview", foreign, [
        { hostname: "api-preview-globex.ferry.test", kind: "ENVIRONMENT" },
      ]);
      const before = yield* getProject(acme.workspace.id, { projectId: acme.project.id });
      expect(before.environments.map((e) => [e.slug, e.currentDeploymentId])).toStrictEqual([
        ["preview", undefined],
        ["production", first],
      ]);

      // The environment route moves: the current deployment follows it.
      yield* point(acme, "production", second, [
        { hostname: "web-production-acme.ferry.test", kind: "ENVIRONMENT" },
        { hostname: "web-acme.ferry.test", kind: "LIVE" },
      ]);
      const after = yield* getProject(acme.workspace.id, { slug: "web" });
      expect(after).toStrictEqual({
        project: acme.project,
        environments: [
          { ...acme.preview, currentDeploymentId: undefined },
          { ...acme.production, currentDeploymentId: second },
        ],
      });
      const other = yield* getProject(globex.workspace.id, { projectId: globex.project.id });
      expect(other.environments.map((e) => [e.slug, e.currentDeploymentId])).toStrictEqual([
        ["preview", foreign],
        ["production", undefined],
      ]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );
});

describe("resolveProject", () => {
  it.effect("resolves an id or a slug within the workspace only", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      expect(yield* resolveProject(acme.workspace.id, acme.project.id)).toStrictEqual(acme.project);
      expect(yield* resolveProject(acme.workspace.id, "web")).toStrictEqual(acme.project);
      expect(yield* resolveProject(globex.workspace.id, "api")).toStrictEqual(globex.project);

      const foreignId = yield* Effect.flip(resolveProject(acme.workspace.id, globex.project.id));
      expect(foreignId).toMatchObject({
        _tag: "NotFound",
        resource: "project",
        id: globex.project.id,
      });
      const foreignSlug = yield* Effect.flip(resolveProject(acme.workspace.id, "api"));
      expect(foreignSlug).toMatchObject({ _tag: "NotFound", resource: "project", id: "api" });
      const unknown = yield* unknownProjectId;
      const unknownId = yield* Effect.flip(resolveProject(acme.workspace.id, unknown));
      expect(unknownId).toMatchObject({ _tag: "NotFound", resource: "project", id: unknown });
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );
});

describe("listProjects", () => {
  /** Creates a project per slug in the workspace, one second apart, in the order given. */
  const createAll = (workspaceId: WorkspaceId, slugs: ReadonlyArray<string>) =>
    Effect.forEach(slugs, (slug) =>
      Effect.gen(function* () {
        yield* tick;
        const view = yield* createProject(workspaceId, { name: `Site ${slug}`, slug });
        return view.project.id;
      }),
    );

  const slugsOf = (page: {
    readonly projects: ReadonlyArray<{ readonly project: { readonly slug: string } }>;
  }) => page.projects.map((view) => view.project.slug);

  it.effect("lists the workspace's projects by slug, with their environments", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      // Created newest-last but listed by slug: "alpha" first although it is the newest.
      yield* createAll(acme.workspace.id, ["zeta", "alpha"]);
      const page = yield* listProjects(acme.workspace.id, {});
      expect(slugsOf(page)).toStrictEqual(["alpha", acme.project.slug, "zeta"]);
      expect(page.nextPageToken).toBe("");
      expect(page.projects[1]).toStrictEqual(seededView(acme));
      expect(page.projects[0]?.environments.map((e) => [e.slug, e.kind])).toStrictEqual([
        ["preview", "PREVIEW"],
        ["production", "PRODUCTION"],
      ]);

      const other = yield* listProjects(globex.workspace.id, { pageSize: 0, pageToken: "" });
      expect(other).toStrictEqual({ projects: [seededView(globex)], nextPageToken: "" });
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("pages through every project once by slug, without gaps or duplicates", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      yield* createAll(acme.workspace.id, ["site-6", "a-b", "site-2", "ab", "x", "b"]);
      yield* createAll(globex.workspace.id, ["aa", "site-3"]);
      const bySlug = ["a-b", "ab", "b", "site-2", "site-6", acme.project.slug, "x"];
      const pages: Array<ReadonlyArray<string>> = [];
      const tokens: Array<string> = [];
      let pageToken = "";
      do {
        const page = yield* listProjects(acme.workspace.id, { pageSize: 3, pageToken });
        pages.push(slugsOf(page));
        pageToken = page.nextPageToken;
        tokens.push(pageToken);
      } while (pageToken !== "" && pages.length < 10);
      expect(pages).toStrictEqual([bySlug.slice(0, 3), bySlug.slice(3, 6), bySlug.slice(6)]);
      // The token names the last slug of its page, opaquely (versioned, hex).
      expect(tokens).toStrictEqual([
        encodePageToken("b", "slug"),
        encodePageToken(acme.project.slug, "slug"),
        "",
      ]);

      // A project created while paging, behind the cursor, does not shift the later pages.
      yield* createAll(acme.workspace.id, ["aaa"]);
      const next = yield* listProjects(acme.workspace.id, {
        pageSize: 3,
        pageToken: encodePageToken("b", "slug"),
      });
      expect(slugsOf(next)).toStrictEqual(bySlug.slice(3, 6));

      // A page that ends exactly at the last project has no next token.
      const exact = yield* listProjects(acme.workspace.id, { pageSize: 8 });
      expect(slugsOf(exact)).toStrictEqual(["a-b", "aaa", ...bySlug.slice(1)]);
      expect(exact.nextPageToken).toBe("");
      const short = yield* listProjects(acme.workspace.id, { pageSize: 7 });
      expect(short.nextPageToken).toBe(encodePageToken(acme.project.slug, "slug"));
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects a page size outside 0..200 and a token it did not make", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      for (const pageSize of [201, -1, 1.5]) {
        const error = yield* Effect.flip(listProjects(acme.workspace.id, { pageSize }));
        expect(violations(error)).toStrictEqual([
          { field: "page_size", message: "must be an integer from 1 to 200 (0 means 50)" },
        ]);
      }
      const deploymentId = yield* (yield* Ids).next("deployment");
      for (const pageToken of [
        "not-a-token",
        globex.project.id,
        "2zz",
        // The format ListProjects returned when it paged newest first (the last project's id).
        encodePageToken(globex.project.id),
        encodePageToken("web"),
        encodePageToken(deploymentId),
        // A slug token whose slug is not a slug.
        encodePageToken("Web Site", "slug"),
        encodePageToken("", "slug"),
      ]) {
        const error = yield* Effect.flip(listProjects(acme.workspace.id, { pageToken }));
        expect(violations(error)).toStrictEqual([
          { field: "page_token", message: "is not a token returned by ListProjects" },
        ]);
      }
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );
});

describe("updateProjectSettings", () => {
  it.effect("applies the fields given and keeps the others", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      yield* tick;
      const first = yield* updateProjectSettings(acme.workspace.id, {
        projectId: acme.project.id,
        containerPort: 3000,
      });
      expect(first).toStrictEqual({
        ...seededView(acme),
        project: {
          ...acme.project,
          settings: {
            containerPort: 3000,
            healthCheckPath: "/",
            healthCheckTimeoutSeconds: 300,
            replicasPerRegion: 1,
          },
          updatedAt: NOW + 1000,
        },
      });
      yield* tick;
      const second = yield* updateProjectSettings(acme.workspace.id, {
        projectId: acme.project.id,
        healthCheckPath: "/healthz",
        replicasPerRegion: 3,
      });
      const expected = {
        ...acme.project,
        settings: {
          containerPort: 3000,
          healthCheckPath: "/healthz",
          healthCheckTimeoutSeconds: 300,
          replicasPerRegion: 3,
        },
        createdAt: NOW,
        updatedAt: NOW + 2000,
      };
      expect(second.project).toStrictEqual(expected);
      expect((yield* storedProjects).find((p) => p.id === acme.project.id)).toStrictEqual(expected);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("accepts every bound exactly", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const low = yield* updateProjectSettings(acme.workspace.id, {
        projectId: acme.project.id,
        containerPort: 1,
        healthCheckPath: "/",
        healthCheckTimeoutSeconds: 1,
        replicasPerRegion: 1,
      });
      expect(low.project.settings).toStrictEqual({
        containerPort: 1,
        healthCheckPath: "/",
        healthCheckTimeoutSeconds: 1,
        replicasPerRegion: 1,
      });
      const high = yield* updateProjectSettings(acme.workspace.id, {
        projectId: acme.project.id,
        containerPort: 65535,
        healthCheckTimeoutSeconds: 3600,
        replicasPerRegion: 20,
      });
      expect(high.project.settings).toStrictEqual({
        containerPort: 65535,
        healthCheckPath: "/",
        healthCheckTimeoutSeconds: 3600,
        replicasPerRegion: 20,
      });
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects each value out of bounds on its own field, changing nothing", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const cases: ReadonlyArray<[Record<string, unknown>, Violation]> = [
        [
          { containerPort: 0 },
          { field: "container_port", message: "must be an integer from 1 to 65535 (got 0)" },
        ],
        [
          { containerPort: 65536 },
          { field: "container_port", message: "must be an integer from 1 to 65535 (got 65536)" },
        ],
        [
          { containerPort: 80.5 },
          { field: "container_port", message: "must be an integer from 1 to 65535 (got 80.5)" },
        ],
        [
          { healthCheckPath: "healthz" },
          { field: "health_check_path", message: `must start with '/' (got "healthz")` },
        ],
        [
          { healthCheckPath: "" },
          { field: "health_check_path", message: `must start with '/' (got "")` },
        ],
        [
          { healthCheckTimeoutSeconds: 0 },
          {
            field: "health_check_timeout_seconds",
            message: "must be an integer from 1 to 3600 (got 0)",
          },
        ],
        [
          { healthCheckTimeoutSeconds: 3601 },
          {
            field: "health_check_timeout_seconds",
            message: "must be an integer from 1 to 3600 (got 3601)",
          },
        ],
        [
          { replicasPerRegion: 0 },
          { field: "replicas_per_region", message: "must be an integer from 1 to 20 (got 0)" },
        ],
        [
          { replicasPerRegion: 21 },
          { field: "replicas_per_region", message: "must be an integer from 1 to 20 (got 21)" },
        ],
      ];
      for (const [patch, violation] of cases) {
        const error = yield* Effect.flip(
          updateProjectSettings(acme.workspace.id, { projectId: acme.project.id, ...patch }),
        );
        expect(violations(error)).toStrictEqual([violation]);
      }
      // A valid field next to an invalid one is not applied either.
      const mixed = yield* Effect.flip(
        updateProjectSettings(acme.workspace.id, {
          projectId: acme.project.id,
          containerPort: 3000,
          replicasPerRegion: 0,
        }),
      );
      expect(violations(mixed).map((v) => v.field)).toStrictEqual(["replicas_per_region"]);
      expect(yield* storedProjects).toContainEqual(acme.project);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("answers NotFound for another workspace's project, and rejects a malformed id", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      const foreign = yield* Effect.flip(
        updateProjectSettings(acme.workspace.id, {
          projectId: globex.project.id,
          containerPort: 3000,
        }),
      );
      expect(foreign).toMatchObject({
        _tag: "NotFound",
        resource: "project",
        id: globex.project.id,
      });
      expect(yield* storedProjects).toStrictEqual([acme.project, globex.project]);

      const malformed = yield* Effect.flip(
        updateProjectSettings(acme.workspace.id, { projectId: "web", containerPort: 3000 }),
      );
      expect(violations(malformed)).toStrictEqual([
        { field: "project_id", message: `"web" is not a well-formed id for this field` },
      ]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );
});

describe("createEnvironment", () => {
  it.effect("creates a PREVIEW environment by default, and one with PREVIEW named", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      yield* tick;
      const staging = yield* createEnvironment(acme.workspace.id, {
        projectId: acme.project.id,
        slug: "staging",
      });
      expect(staging).toStrictEqual({
        id: expect.stringMatching(ENVIRONMENT_ID_PATTERN),
        workspaceId: acme.workspace.id,
        projectId: acme.project.id,
        slug: "staging",
        kind: "PREVIEW",
        createdAt: NOW + 1000,
      });
      const qa = yield* createEnvironment(acme.workspace.id, {
        projectId: acme.project.id,
        slug: "qa",
        kind: "PREVIEW",
      });
      expect(qa.kind).toBe("PREVIEW");
      const view = yield* getProject(acme.workspace.id, { projectId: acme.project.id });
      expect(view.environments.map((e) => [e.slug, e.kind, e.id])).toStrictEqual([
        ["preview", "PREVIEW", acme.preview.id],
        ["production", "PRODUCTION", acme.production.id],
        ["qa", "PREVIEW", qa.id],
        ["staging", "PREVIEW", staging.id],
      ]);
      expect(yield* storedEnvironments).toContainEqual(staging);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects a bad slug on `slug`", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const cases: ReadonlyArray<[string, string]> = [
        ["", "must not be empty"],
        [
          "Staging",
          `must contain only lowercase letters, digits and '-', and start and end with a letter or digit (got "Staging")`,
        ],
        ["qa--1", `must not contain "--" (reserved as the separator in generated hostnames)`],
        ["xn", `must not be "xn" (a hostname starting with "xn--" is read as punycode)`],
        ["e".repeat(64), "must be at most 63 characters (got 64)"],
      ];
      for (const [slug, message] of cases) {
        const error = yield* Effect.flip(
          createEnvironment(acme.workspace.id, { projectId: acme.project.id, slug }),
        );
        expect(violations(error)).toStrictEqual([{ field: "slug", message }]);
      }
      expect(yield* storedEnvironments).toHaveLength(4);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects an unknown kind on `kind`", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const error = yield* Effect.flip(
        createEnvironment(acme.workspace.id, {
          projectId: acme.project.id,
          slug: "staging",
          kind: "STAGING",
        }),
      );
      // One violation, not one per accepted literal.
      expect(violations(error)).toStrictEqual([
        {
          field: "kind",
          message: `"STAGING" is not an environment kind; must be one of PRODUCTION, PREVIEW`,
        },
      ]);
      const lowercase = yield* Effect.flip(
        createEnvironment(acme.workspace.id, {
          projectId: acme.project.id,
          slug: "staging",
          kind: "preview",
        }),
      );
      expect(violations(lowercase)).toStrictEqual([
        {
          field: "kind",
          message: `"preview" is not an environment kind; must be one of PRODUCTION, PREVIEW`,
        },
      ]);
      expect(yield* storedEnvironments).toHaveLength(4);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("answers AlreadyExists for a slug the project already has", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      for (const slug of ["preview", "production"]) {
        const error = yield* Effect.flip(
          createEnvironment(acme.workspace.id, { projectId: acme.project.id, slug }),
        );
        expect(error).toMatchObject({ _tag: "AlreadyExists", resource: "environment", id: slug });
      }
      yield* createEnvironment(acme.workspace.id, { projectId: acme.project.id, slug: "qa" });
      const again = yield* Effect.flip(
        createEnvironment(acme.workspace.id, { projectId: acme.project.id, slug: "qa" }),
      );
      expect(again).toMatchObject({ _tag: "AlreadyExists", resource: "environment", id: "qa" });
      // Another project may use the same slug.
      const other = yield* createEnvironment(globex.workspace.id, {
        projectId: globex.project.id,
        slug: "qa",
      });
      expect(other).toMatchObject({ projectId: globex.project.id, slug: "qa" });
      expect(yield* storedEnvironments).toHaveLength(6);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("answers PreconditionFailed for a second PRODUCTION environment", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const error = yield* Effect.flip(
        createEnvironment(acme.workspace.id, {
          projectId: acme.project.id,
          slug: "production-eu",
          kind: "PRODUCTION",
        }),
      );
      expect(error).toMatchObject({
        _tag: "PreconditionFailed",
        reason: "a project has exactly one production environment; create a preview environment",
      });
      expect(yield* storedEnvironments).toHaveLength(4);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("answers NotFound for an unknown or another workspace's project", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      const unknown = yield* unknownProjectId;
      for (const projectId of [unknown, globex.project.id]) {
        const error = yield* Effect.flip(
          createEnvironment(acme.workspace.id, { projectId, slug: "staging" }),
        );
        expect(error).toMatchObject({ _tag: "NotFound", resource: "project", id: projectId });
      }
      const malformed = yield* Effect.flip(
        createEnvironment(acme.workspace.id, { projectId: "", slug: "staging" }),
      );
      expect(violations(malformed)).toStrictEqual([
        { field: "project_id", message: "is required" },
      ]);
      expect(yield* storedEnvironments).toHaveLength(4);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );
});

describe("setEnvironmentVariables and listEnvironmentVariables", () => {
  const set = (
    tenant: Tenant,
    variables: ReadonlyArray<{ key: string; value: string; secret?: boolean }>,
    extra: { environmentSlug?: string; deleteKeys?: ReadonlyArray<string> } = {},
  ) =>
    setEnvironmentVariables(tenant.workspace.id, {
      projectId: tenant.project.id,
      environmentSlug: "preview",
      variables,
      ...extra,
    });

  it.effect("returns plain values, never a secret's value, and stores secrets sealed", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      yield* tick;
      const databaseUrl = "postgres://app:hunter2@db.internal:5432/app";
      const views = yield* set(acme, [
        { key: "PORT", value: "8080" },
        { key: "DATABASE_URL", value: databaseUrl, secret: true },
        { key: "DEBUG", value: "", secret: false },
      ]);
      const expected = [
        { key: "DATABASE_URL", value: "", secret: true },
        { key: "DEBUG", value: "", secret: false },
        { key: "PORT", value: "8080", secret: false },
      ];
      expect(views).toStrictEqual(expected);
      expect(JSON.stringify(views)).not.toContain("hunter2");
      expect(
        yield* listEnvironmentVariables(acme.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "preview",
        }),
      ).toStrictEqual(expected);

      const rows = yield* storedVariables(acme, "preview");
      const secret = rows.find((row) => row.key === "DATABASE_URL");
      expect(secret).toStrictEqual({
        id: expect.stringMatching(/^var_[0-9a-z]{26}$/),
        environmentId: acme.preview.id,
        key: "DATABASE_URL",
        value: {
          _tag: "Secret",
          sealed: { keyId: TEST_SECRET_KEY_ID, ciphertext: expect.any(String) },
        },
        createdAt: NOW + 1000,
        updatedAt: NOW + 1000,
      });
      const sealed = secret?.value._tag === "Secret" ? secret.value.sealed : SEALED_TOKEN;
      expect(sealed.ciphertext).not.toBe(databaseUrl);
      expect(sealed.ciphertext).not.toContain("hunter2");
      // Sealed, not lost: the box opens it to the plaintext.
      expect(yield* (yield* SecretBox).open(sealed)).toBe(databaseUrl);
      expect(rows.find((row) => row.key === "PORT")?.value).toStrictEqual({
        _tag: "Plain",
        value: "8080",
      });
      // Production's variables are untouched.
      expect((yield* storedVariables(acme, "production")).map((v) => v.key)).toStrictEqual([
        "LOG_LEVEL",
        "API_TOKEN",
      ]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("lists a seeded environment with its secret hidden, and an empty one as empty", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      expect(
        yield* listEnvironmentVariables(acme.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "production",
        }),
      ).toStrictEqual([
        { key: "API_TOKEN", value: "", secret: true },
        { key: "LOG_LEVEL", value: "info", secret: false },
      ]);
      expect(
        yield* listEnvironmentVariables(globex.workspace.id, {
          projectId: globex.project.id,
          environmentSlug: "production",
        }),
      ).toStrictEqual([]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("replaces an existing key's value in place, keeping its id and creation time", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      yield* set(acme, [
        { key: "PORT", value: "8080" },
        { key: "TOKEN", value: "t1", secret: true },
      ]);
      const [before] = (yield* storedVariables(acme, "preview")).filter((v) => v.key === "PORT");
      yield* tick;
      const views = yield* set(acme, [
        { key: "PORT", value: "9090" },
        // A secret may become plain, and the other way round.
        { key: "TOKEN", value: "t2" },
        { key: "NEW", value: "x", secret: true },
      ]);
      expect(views).toStrictEqual([
        { key: "NEW", value: "", secret: true },
        { key: "PORT", value: "9090", secret: false },
        { key: "TOKEN", value: "t2", secret: false },
      ]);
      const rows = yield* storedVariables(acme, "preview");
      expect(rows.find((v) => v.key === "PORT")).toStrictEqual({
        id: before?.id,
        environmentId: acme.preview.id,
        key: "PORT",
        value: { _tag: "Plain", value: "9090" },
        createdAt: NOW,
        updatedAt: NOW + 1000,
      });
      expect(rows).toHaveLength(3);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("removes delete_keys in the same call, leaving other keys alone", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const views = yield* set(acme, [{ key: "REGION", value: "eu" }], {
        environmentSlug: "production",
        deleteKeys: ["LOG_LEVEL", "NEVER_SET"],
      });
      expect(views).toStrictEqual([
        { key: "API_TOKEN", value: "", secret: true },
        { key: "REGION", value: "eu", secret: false },
      ]);
      // Only deleting is a valid call too.
      const onlyDelete = yield* set(acme, [], {
        environmentSlug: "production",
        deleteKeys: ["API_TOKEN"],
      });
      expect(onlyDelete).toStrictEqual([{ key: "REGION", value: "eu", secret: false }]);
      expect((yield* storedVariables(acme, "production")).map((v) => v.key)).toStrictEqual([
        "REGION",
      ]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects a key both set and deleted on `delete_keys`, changing nothing", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const before = yield* storedVariables(acme, "production");
      const error = yield* Effect.flip(
        set(acme, [{ key: "LOG_LEVEL", value: "debug" }], {
          environmentSlug: "production",
          deleteKeys: ["API_TOKEN", "LOG_LEVEL"],
        }),
      );
      expect(violations(error)).toStrictEqual([
        { field: "delete_keys", message: `"LOG_LEVEL" is both set and deleted` },
      ]);
      expect(yield* storedVariables(acme, "production")).toStrictEqual(before);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects a key given twice in one call", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const error = yield* Effect.flip(
        set(acme, [
          { key: "PORT", value: "8080" },
          { key: "HOST", value: "0.0.0.0" },
          { key: "PORT", value: "9090" },
        ]),
      );
      expect(violations(error)).toStrictEqual([
        { field: "variables[2].key", message: `"PORT" appears more than once` },
      ]);
      expect(yield* storedVariables(acme, "preview")).toStrictEqual([]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects invalid key names, in variables and in delete_keys", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const invalidName = (key: string) =>
        `"${key}" is not a valid name (letters, digits and '_', not starting with a digit)`;
      const cases: ReadonlyArray<[string, string]> = [
        ["", "must not be empty"],
        ["1PORT", invalidName("1PORT")],
        ["MY-VAR", invalidName("MY-VAR")],
        ["MY VAR", invalidName("MY VAR")],
        ["A=B", invalidName("A=B")],
        ["K".repeat(257), "must be at most 256 bytes"],
      ];
      for (const [key, message] of cases) {
        const error = yield* Effect.flip(set(acme, [{ key, value: "x" }]));
        expect(violations(error)).toStrictEqual([{ field: "variables[0].key", message }]);
      }
      const deleteError = yield* Effect.flip(set(acme, [], { deleteKeys: ["OK", "1BAD"] }));
      expect(violations(deleteError)).toStrictEqual([
        { field: "delete_keys[1]", message: invalidName("1BAD") },
      ]);
      // Lowercase, underscores and a 256-byte name are fine.
      const fine = yield* set(acme, [
        { key: "_private", value: "1" },
        { key: "K".repeat(256), value: "2" },
      ]);
      expect(fine.map((v) => v.key)).toStrictEqual(["K".repeat(256), "_private"]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects a value over 64 KiB in UTF-8, or containing NUL", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const tooLong = yield* Effect.flip(
        set(acme, [
          { key: "OK", value: "x" },
          { key: "BLOB", value: "x".repeat(65_537), secret: true },
        ]),
      );
      expect(violations(tooLong)).toStrictEqual([
        { field: "variables[1].value", message: "must be at most 65536 bytes (got 65537)" },
      ]);
      const multibyte = yield* Effect.flip(set(acme, [{ key: "BLOB", value: "é".repeat(32_769) }]));
      expect(violations(multibyte)).toStrictEqual([
        { field: "variables[0].value", message: "must be at most 65536 bytes (got 65538)" },
      ]);
      const nul = yield* Effect.flip(set(acme, [{ key: "BLOB", value: "a\u0000b" }]));
      expect(violations(nul)).toStrictEqual([
        { field: "variables[0].value", message: "must not contain NUL characters" },
      ]);
      expect(yield* storedVariables(acme, "preview")).toStrictEqual([]);

      const exact = yield* set(acme, [{ key: "BLOB", value: "é".repeat(32_768) }]);
      expect(exact).toStrictEqual([{ key: "BLOB", value: "é".repeat(32_768), secret: false }]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("rejects more than 1000 variables and delete_keys together on `variables`", () =>
    Effect.gen(function* () {
      const { acme } = yield* seed;
      const variables = (count: number) =>
        Array.from({ length: count }, (_, i) => ({ key: `VAR_${i}`, value: `${i}` }));
      const tooMany = yield* Effect.flip(set(acme, variables(1001)));
      expect(violations(tooMany)).toStrictEqual([
        {
          field: "variables",
          message: "at most 1000 variables and delete_keys per call (got 1001)",
        },
      ]);
      const together = yield* Effect.flip(
        set(acme, variables(600), {
          deleteKeys: Array.from({ length: 401 }, (_, i) => `OLD_${i}`),
        }),
      );
      expect(violations(together)).toStrictEqual([
        {
          field: "variables",
          message: "at most 1000 variables and delete_keys per call (got 1001)",
        },
      ]);
      expect(yield* storedVariables(acme, "preview")).toStrictEqual([]);

      const limit = yield* set(acme, variables(1000));
      expect(limit).toHaveLength(1000);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );

  it.effect("answers NotFound for an unknown environment or project, in both calls", () =>
    Effect.gen(function* () {
      const { acme, globex } = yield* seed;
      const setError = yield* Effect.flip(
        set(acme, [{ key: "A", value: "1" }], { environmentSlug: "staging" }),
      );
      expect(setError).toMatchObject({ _tag: "NotFound", resource: "environment", id: "staging" });
      const listError = yield* Effect.flip(
        listEnvironmentVariables(acme.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "staging",
        }),
      );
      expect(listError).toMatchObject({
        _tag: "NotFound",
        resource: "environment",
        id: "staging",
      });

      // Another workspace's project is not found, whether writing or reading.
      const foreignSet = yield* Effect.flip(
        setEnvironmentVariables(acme.workspace.id, {
          projectId: globex.project.id,
          environmentSlug: "production",
          variables: [{ key: "A", value: "1" }],
        }),
      );
      expect(foreignSet).toMatchObject({
        _tag: "NotFound",
        resource: "project",
        id: globex.project.id,
      });
      const foreignList = yield* Effect.flip(
        listEnvironmentVariables(globex.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "production",
        }),
      );
      expect(foreignList).toMatchObject({
        _tag: "NotFound",
        resource: "project",
        id: acme.project.id,
      });
      expect(yield* storedVariables(globex, "production")).toStrictEqual([]);

      const badSlug = yield* Effect.flip(
        listEnvironmentVariables(acme.workspace.id, {
          projectId: acme.project.id,
          environmentSlug: "Production",
        }),
      );
      expect(violations(badSlug).map((v) => v.field)).toStrictEqual(["environment_slug"]);
    }).pipe(Effect.provide(ProjectsTestLayer)),
  );
});
