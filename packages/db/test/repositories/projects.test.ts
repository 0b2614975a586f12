/** ProjectRepository and EnvironmentRepository on Prisma keep the ports' promises. */
import {
  EnvironmentRepository,
  type Project,
  ProjectRepository,
  WorkspaceRepository,
} from "@ferry/domain";
import { Effect, Exit, Option } from "effect";
import { describe, expect, it } from "vitest";
import { testDatabaseKinds } from "../../src/testing.ts";
import {
  createTenant,
  failureOf,
  makeEnvironment,
  makeProject,
  makeWorkspace,
  NOW,
  newId,
  useRepositories,
} from "./harness.ts";

describe.each(testDatabaseKinds())("on %s", (kind) => {
  const { run, exit, prisma } = useRepositories(kind);

  describe("ProjectRepository", () => {
    it("creates a project with its environments; finds it only in its workspace", async () => {
      await run(
        Effect.gen(function* () {
          const workspaces = yield* WorkspaceRepository;
          const acme = makeWorkspace();
          const globex = makeWorkspace();
          yield* workspaces.create(acme);
          yield* workspaces.create(globex);
          const project = makeProject(acme, {
            name: "Wëb — 日本",
            settings: {
              containerPort: 3000,
              healthCheckPath: "/healthz?deep=1",
              healthCheckTimeoutSeconds: 42,
              replicasPerRegion: 3,
            },
            rolledBack: true,
            createdAt: NOW - 1000,
            updatedAt: NOW + 1,
          });
          const production = makeEnvironment(project, "production", "PRODUCTION");
          const preview = makeEnvironment(project, "preview", "PREVIEW");
          const projects = yield* ProjectRepository;
          yield* projects.create(project, [production, preview]);

          expect(yield* projects.findById(acme.id, project.id)).toStrictEqual(Option.some(project));
          expect(yield* projects.findBySlug(acme.id, project.slug)).toStrictEqual(
            Option.some(project),
          );
          // Another workspace's project does not exist for it.
          expect(yield* projects.findById(globex.id, project.id)).toStrictEqual(Option.none());
          expect(yield* projects.findBySlug(globex.id, project.slug)).toStrictEqual(Option.none());
          expect(yield* projects.findById(acme.id, newId("project"))).toStrictEqual(Option.none());
          const environments = yield* EnvironmentRepository;
          expect(yield* environments.list(project.id)).toStrictEqual([preview, production]);
        }),
      );
    });

    it("refuses a slug taken in the workspace and then stores neither project nor environments", async () => {
      await run(
        Effect.gen(function* () {
          const { workspace, project } = yield* createTenant();
          const again = makeProject(workspace, { slug: project.slug });
          const environment = makeEnvironment(again, "production", "PRODUCTION");
          const projects = yield* ProjectRepository;
          const error = yield* Effect.flip(projects.create(again, [environment]));
          expect(error).toMatchObject({
            _tag: "AlreadyExists",
            resource: "project",
            id: project.slug,
          });
          expect(yield* projects.findById(workspace.id, again.id)).toStrictEqual(Option.none());
          expect(yield* projects.findBySlug(workspace.id, project.slug)).toStrictEqual(
            Option.some(project),
          );
          const environments = yield* EnvironmentRepository;
          expect(yield* environments.findById(workspace.id, environment.id)).toStrictEqual(
            Option.none(),
          );
          expect(yield* environments.list(again.id)).toStrictEqual([]);

          // The same slug in another workspace is fine.
          const other = makeWorkspace();
          yield* (yield* WorkspaceRepository).create(other);
          const elsewhere = makeProject(other, { slug: project.slug });
          yield* projects.create(elsewhere, []);
          expect(yield* projects.findBySlug(other.id, project.slug)).toStrictEqual(
            Option.some(elsewhere),
          );
        }),
      );
    });

    it("inserts the project and its environments atomically: a bad environment stores nothing", async () => {
      const { workspace } = await run(createTenant());
      const project = makeProject(workspace);
      // Two environments with the same slug: the second insert violates (project_id, slug).
      const first = makeEnvironment(project, "staging");
      const second = makeEnvironment(project, "staging");
      const result = await exit(
        Effect.flatMap(ProjectRepository, (projects) => projects.create(project, [first, second])),
      );
      expect(Exit.isFailure(result)).toBe(true);
      expect(await prisma().project.count({ where: { id: project.id } })).toBe(0);
      expect(
        await prisma().environment.count({ where: { id: { in: [first.id, second.id] } } }),
      ).toBe(0);
    });

    it("lists a workspace's projects by slug in byte order, by page after a slug", async () => {
      await run(
        Effect.gen(function* () {
          const workspace = makeWorkspace();
          yield* (yield* WorkspaceRepository).create(workspace);
          const projects = yield* ProjectRepository;
          // Created out of slug order; "a-b" and "ab" sort differently under an en_US collation
          // (which ignores '-') than by bytes ('-' < 'b'): the repository must use bytes.
          const slugs = ["web", "ab", "a-b", "api-2", "a0", "api"];
          const created = new Map<string, Project>();
          for (const slug of slugs) {
            const project = makeProject(workspace, { slug });
            yield* projects.create(project, []);
            created.set(slug, project);
          }
          // Another workspace's projects never show up.
          const other = makeWorkspace();
          yield* (yield* WorkspaceRepository).create(other);
          yield* projects.create(makeProject(other, { slug: "aa" }), []);
          const listed = (page: { limit: number; afterSlug?: string }) =>
            Effect.map(projects.list(workspace.id, page), (list) => list.map((p) => p.slug));
          const bytes = ["a-b", "a0", "ab", "api", "api-2", "web"];
          expect(yield* projects.list(workspace.id, { limit: 10 })).toStrictEqual(
            bytes.map((slug) => created.get(slug)),
          );
          expect(yield* listed({ limit: 2 })).toStrictEqual(["a-b", "a0"]);
          expect(yield* listed({ limit: 2, afterSlug: "a0" })).toStrictEqual(["ab", "api"]);
          expect(yield* listed({ limit: 2, afterSlug: "api" })).toStrictEqual(["api-2", "web"]);
          expect(yield* listed({ limit: 10, afterSlug: "web" })).toStrictEqual([]);
          // A slug that no project has still pages from where it would sort.
          expect(yield* listed({ limit: 10, afterSlug: "aa" })).toStrictEqual([
            "ab",
            "api",
            "api-2",
            "web",
          ]);
          expect(yield* projects.list(makeWorkspace().id, { limit: 10 })).toStrictEqual([]);
        }),
      );
    });

    it("updateSettings applies only the fields present, in the project's workspace only", async () => {
      await run(
        Effect.gen(function* () {
          const { workspace, project } = yield* createTenant();
          const { workspace: stranger } = yield* createTenant();
          const projects = yield* ProjectRepository;

          const replicas = yield* projects.updateSettings(
            workspace.id,
            project.id,
            { replicasPerRegion: 3 },
            NOW + 7,
          );
          const afterReplicas: Project = {
            ...project,
            settings: { ...project.settings, replicasPerRegion: 3 },
            updatedAt: NOW + 7,
          };
          expect(replicas).toStrictEqual(Option.some(afterReplicas));
          expect(yield* projects.findById(workspace.id, project.id)).toStrictEqual(replicas);

          const all = yield* projects.updateSettings(
            workspace.id,
            project.id,
            {
              containerPort: 9000,
              healthCheckPath: "/ready",
              healthCheckTimeoutSeconds: 60,
              replicasPerRegion: 2,
            },
            NOW + 8,
          );
          const afterAll: Project = {
            ...project,
            settings: {
              containerPort: 9000,
              healthCheckPath: "/ready",
              healthCheckTimeoutSeconds: 60,
              replicasPerRegion: 2,
            },
            updatedAt: NOW + 8,
          };
          expect(all).toStrictEqual(Option.some(afterAll));

          // An empty patch changes only updatedAt.
          expect(
            yield* projects.updateSettings(workspace.id, project.id, {}, NOW + 9),
          ).toStrictEqual(Option.some({ ...afterAll, updatedAt: NOW + 9 }));

          // Another workspace (or an unknown project) gets None and changes nothing.
          expect(
            yield* projects.updateSettings(stranger.id, project.id, { containerPort: 1 }, NOW + 10),
          ).toStrictEqual(Option.none());
          expect(
            yield* projects.updateSettings(
              workspace.id,
              newId("project"),
              { containerPort: 1 },
              NOW + 10,
            ),
          ).toStrictEqual(Option.none());
          expect(yield* projects.findById(workspace.id, project.id)).toStrictEqual(
            Option.some({ ...afterAll, updatedAt: NOW + 9 }),
          );
        }),
      );
    });
  });

  describe("EnvironmentRepository", () => {
    it("creates environments, finds them scoped, lists them by slug", async () => {
      await run(
        Effect.gen(function* () {
          const { workspace, project, production, preview } = yield* createTenant();
          const stranger = yield* createTenant();
          const environments = yield* EnvironmentRepository;
          const staging = makeEnvironment(project, "staging");
          const alpha = makeEnvironment(project, "alpha");
          yield* environments.create(staging);
          yield* environments.create(alpha);

          expect(yield* environments.findById(workspace.id, staging.id)).toStrictEqual(
            Option.some(staging),
          );
          expect(yield* environments.findById(stranger.workspace.id, staging.id)).toStrictEqual(
            Option.none(),
          );
          expect(yield* environments.findBySlug(project.id, "staging")).toStrictEqual(
            Option.some(staging),
          );
          expect(yield* environments.findBySlug(project.id, "production")).toStrictEqual(
            Option.some(production),
          );
          expect(yield* environments.findBySlug(stranger.project.id, "staging")).toStrictEqual(
            Option.none(),
          );
          expect(yield* environments.list(project.id)).toStrictEqual([
            alpha,
            preview,
            production,
            staging,
          ]);
          expect(yield* environments.list(stranger.project.id)).toStrictEqual([
            stranger.preview,
            stranger.production,
          ]);
        }),
      );
    });

    it("refuses a slug taken in the project; the same slug in another project is fine", async () => {
      await run(
        Effect.gen(function* () {
          const { workspace, project, production } = yield* createTenant();
          const other = yield* createTenant(workspace);
          const environments = yield* EnvironmentRepository;
          const duplicate = makeEnvironment(project, "production", "PREVIEW");
          expect(yield* Effect.flip(environments.create(duplicate))).toMatchObject({
            _tag: "AlreadyExists",
            resource: "environment",
            id: "production",
          });
          expect(yield* environments.findById(workspace.id, duplicate.id)).toStrictEqual(
            Option.none(),
          );
          expect(yield* environments.findBySlug(project.id, "production")).toStrictEqual(
            Option.some(production),
          );

          const qa = makeEnvironment(project, "qa");
          const otherQa = makeEnvironment(other.project, "qa");
          yield* environments.create(qa);
          yield* environments.create(otherQa);
          expect(yield* environments.findBySlug(other.project.id, "qa")).toStrictEqual(
            Option.some(otherQa),
          );
        }),
      );
    });
  });

  it("AlreadyExists is a typed failure, never a defect", async () => {
    const { project } = await run(createTenant());
    const error = failureOf(
      await exit(
        Effect.flatMap(EnvironmentRepository, (environments) =>
          environments.create(makeEnvironment(project, "preview")),
        ),
      ),
    );
    expect(error).toMatchObject({ _tag: "AlreadyExists", resource: "environment", id: "preview" });
  });
});
