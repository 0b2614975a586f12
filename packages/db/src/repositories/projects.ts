/** ProjectRepository and EnvironmentRepository on Prisma. */
import {
  AlreadyExists,
  type DeploymentId,
  type Environment,
  type EnvironmentId,
  EnvironmentRepository,
  type Project,
  type ProjectId,
  ProjectRepository,
  type WorkspaceId,
} from "@ferry/domain";
import { Effect, Layer, Option } from "effect";
import type {
  Environment as EnvironmentRow,
  Project as ProjectRow,
} from "../generated/prisma/client.ts";
import { Db, optionalRow, present, query, queryUnique, toDate, toMillis } from "./prisma.ts";

export const toProject = (row: ProjectRow): Project => ({
  id: row.id as ProjectId,
  workspaceId: row.workspaceId as WorkspaceId,
  name: row.name,
  slug: row.slug,
  settings: {
    containerPort: row.containerPort,
    healthCheckPath: row.healthCheckPath,
    healthCheckTimeoutSeconds: row.healthCheckTimeoutSeconds,
    replicasPerRegion: row.replicasPerRegion,
  },
  ...present("liveDeploymentId", row.liveDeploymentId as DeploymentId | null),
  rolledBack: row.rolledBack,
  createdAt: toMillis(row.createdAt),
  updatedAt: toMillis(row.updatedAt),
});

export const toEnvironment = (row: EnvironmentRow): Environment => ({
  id: row.id as EnvironmentId,
  workspaceId: row.workspaceId as WorkspaceId,
  projectId: row.projectId as ProjectId,
  slug: row.slug,
  kind: row.kind,
  createdAt: toMillis(row.createdAt),
});

const environmentData = (environment: Environment) => ({
  id: environment.id,
  workspaceId: environment.workspaceId,
  projectId: environment.projectId,
  slug: environment.slug,
  kind: environment.kind,
  createdAt: toDate(environment.createdAt),
});

export const ProjectRepositoryLive = Layer.effect(
  ProjectRepository,
  Effect.map(Db, (db) => ({
    create: (project, environments) =>
      queryUnique(
        () =>
          db.$transaction([
            db.project.create({
              data: {
                id: project.id,
                workspaceId: project.workspaceId,
                name: project.name,
                slug: project.slug,
                containerPort: project.settings.containerPort,
                healthCheckPath: project.settings.healthCheckPath,
                healthCheckTimeoutSeconds: project.settings.healthCheckTimeoutSeconds,
                replicasPerRegion: project.settings.replicasPerRegion,
                rolledBack: project.rolledBack,
                createdAt: toDate(project.createdAt),
                updatedAt: toDate(project.updatedAt),
              },
            }),
            db.environment.createMany({ data: environments.map(environmentData) }),
          ]),
        () => new AlreadyExists({ resource: "project", id: project.slug }),
      ).pipe(Effect.asVoid),
    findById: (workspaceId, id) =>
      query(() => db.project.findFirst({ where: { id, workspaceId } })).pipe(
        Effect.map(optionalRow(toProject)),
      ),
    findBySlug: (workspaceId, slug) =>
      query(() =>
        db.project.findUnique({ where: { workspaceId_slug: { workspaceId, slug } } }),
      ).pipe(Effect.map(optionalRow(toProject))),
    list: (workspaceId, page) =>
      Effect.gen(function* () {
        // COLLATE "C": byte order whatever the database's collation (an en_US database would
        // otherwise ignore '-' when comparing), so the order and the keyset condition agree
        // with the in-memory repository and between databases. Prisma's orderBy cannot
        // name a collation, hence the ids first, then the rows.
        const after = page.afterSlug ?? null;
        const ids = yield* query(
          () => db.$queryRaw<Array<{ id: string }>>`
            SELECT "id" FROM "projects"
            WHERE "workspace_id" = ${workspaceId}
              AND (${after}::text IS NULL OR "slug" COLLATE "C" > ${after}::text COLLATE "C")
            ORDER BY "slug" COLLATE "C"
            LIMIT ${page.limit}`,
        );
        if (ids.length === 0) return [];
        const rows = yield* query(() =>
          db.project.findMany({ where: { id: { in: ids.map((row) => row.id) } } }),
        );
        const byId = new Map(rows.map((row) => [row.id, row]));
        return ids.flatMap(({ id }) => {
          const row = byId.get(id);
          return row === undefined ? [] : [toProject(row)];
        });
      }),
    updateSettings: (workspaceId, id, patch, at) =>
      Effect.gen(function* () {
        const updated = yield* query(() =>
          db.project.updateMany({
            where: { id, workspaceId },
            data: {
              ...(patch.containerPort === undefined ? {} : { containerPort: patch.containerPort }),
              ...(patch.healthCheckPath === undefined
                ? {}
                : { healthCheckPath: patch.healthCheckPath }),
              ...(patch.healthCheckTimeoutSeconds === undefined
                ? {}
                : { healthCheckTimeoutSeconds: patch.healthCheckTimeoutSeconds }),
              ...(patch.replicasPerRegion === undefined
                ? {}
                : { replicasPerRegion: patch.replicasPerRegion }),
              updatedAt: toDate(at),
            },
          }),
        );
        if (updated.count === 0) return Option.none();
        const row = yield* query(() => db.project.findUniqueOrThrow({ where: { id } }));
        return Option.some(toProject(row));
      }),
  })),
);

export const EnvironmentRepositoryLive = Layer.effect(
  EnvironmentRepository,
  Effect.map(Db, (db) => ({
    create: (environment) =>
      queryUnique(
        () => db.environment.create({ data: environmentData(environment) }),
        () => new AlreadyExists({ resource: "environment", id: environment.slug }),
      ).pipe(Effect.asVoid),
    findById: (workspaceId, id) =>
      query(() => db.environment.findFirst({ where: { id, workspaceId } })).pipe(
        Effect.map(optionalRow(toEnvironment)),
      ),
    findBySlug: (projectId, slug) =>
      query(() =>
        db.environment.findUnique({ where: { projectId_slug: { projectId, slug } } }),
      ).pipe(Effect.map(optionalRow(toEnvironment))),
    list: (projectId) =>
      query(() => db.environment.findMany({ where: { projectId }, orderBy: { slug: "asc" } })).pipe(
        Effect.map((rows) => rows.map(toEnvironment)),
      ),
  })),
);
