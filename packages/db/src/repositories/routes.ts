/** RouteRepository on Prisma: route moves and the project's live deployment change together. */
import {
  type DeploymentId,
  type EnvironmentId,
  Ids,
  type ProjectId,
  type Route,
  type RouteId,
  RouteRepository,
  type WorkspaceId,
} from "@ferry/domain";
import { Effect, Layer } from "effect";
import type { FrontlineRoute as RouteRow } from "../generated/prisma/client.ts";
import { Db, INTERACTIVE_TRANSACTION, optionalRow, query, toDate, toMillis } from "./prisma.ts";

export const toRoute = (row: RouteRow): Route => ({
  id: row.id as RouteId,
  workspaceId: row.workspaceId as WorkspaceId,
  projectId: row.projectId as ProjectId,
  environmentId: row.environmentId as EnvironmentId,
  deploymentId: row.deploymentId as DeploymentId,
  hostname: row.hostname,
  kind: row.kind,
  createdAt: toMillis(row.createdAt),
  updatedAt: toMillis(row.updatedAt),
});

export const RouteRepositoryLive = Layer.effect(
  RouteRepository,
  Effect.gen(function* () {
    const db = yield* Db;
    const ids = yield* Ids;
    return {
      point: (input) =>
        Effect.gen(function* () {
          const newIds = yield* Effect.forEach(input.routes, () => ids.next("route"));
          const at = toDate(input.at);
          const rows = yield* query(() =>
            db.$transaction(async (tx) => {
              const written: Array<RouteRow> = [];
              for (const [index, route] of input.routes.entries()) {
                const existing = await tx.frontlineRoute.findUnique({
                  where: { hostname: route.hostname },
                });
                // Generated hostnames are unique per project by construction; finding another
                // project's route here is a bug or a hash collision, never something to take over.
                if (existing !== null && existing.projectId !== input.projectId)
                  throw new Error(
                    // Never name the other project: it may belong to another workspace.
                    `hostname ${route.hostname} is already taken by another project`,
                  );
                written.push(
                  existing === null
                    ? await tx.frontlineRoute.create({
                        data: {
                          id: newIds[index] ?? "",
                          workspaceId: input.workspaceId,
                          projectId: input.projectId,
                          environmentId: input.environmentId,
                          deploymentId: input.deploymentId,
                          hostname: route.hostname,
                          kind: route.kind,
                          createdAt: at,
                          updatedAt: at,
                        },
                      })
                    : await tx.frontlineRoute.update({
                        where: { id: existing.id },
                        data: {
                          environmentId: input.environmentId,
                          deploymentId: input.deploymentId,
                          kind: route.kind,
                          updatedAt: at,
                        },
                      }),
                );
              }
              if (input.liveTraffic !== undefined) {
                await tx.project.update({
                  where: { id: input.projectId },
                  data: {
                    liveDeploymentId: input.deploymentId,
                    rolledBack: input.liveTraffic.rolledBack,
                    updatedAt: at,
                  },
                });
              }
              return written;
            }, INTERACTIVE_TRANSACTION),
          );
          return rows.map(toRoute);
        }),
      setPin: (projectId, rolledBack, at) =>
        // updateMany: an unknown project changes nothing (like the in-memory repository), not a defect.
        query(() =>
          db.project.updateMany({
            where: { id: projectId },
            data: { rolledBack, updatedAt: toDate(at) },
          }),
        ).pipe(Effect.asVoid),
      listByDeployment: (deploymentId) =>
        query(() =>
          db.frontlineRoute.findMany({
            where: { deploymentId },
            orderBy: [{ kind: "asc" }, { hostname: "asc" }],
          }),
        ).pipe(Effect.map((rows) => rows.map(toRoute))),
      listByProject: (projectId) =>
        query(() =>
          db.frontlineRoute.findMany({
            where: { projectId },
            orderBy: [{ kind: "asc" }, { hostname: "asc" }],
          }),
        ).pipe(Effect.map((rows) => rows.map(toRoute))),
      findByHostname: (hostname) =>
        query(() => db.frontlineRoute.findUnique({ where: { hostname } })).pipe(
          Effect.map(optionalRow(toRoute)),
        ),
    };
  }),
);
