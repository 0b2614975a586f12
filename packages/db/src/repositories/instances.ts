/** InstanceRepository on Prisma. */
import {
  type DeploymentId,
  type Instance,
  type InstanceId,
  InstanceRepository,
} from "@ferry/domain";
import { Effect, Layer } from "effect";
import type { Instance as InstanceRow } from "../generated/prisma/client.ts";
import { Db, present, query, toDate, toMillis } from "./prisma.ts";

export const toInstance = (row: InstanceRow): Instance => ({
  id: row.id as InstanceId,
  deploymentId: row.deploymentId as DeploymentId,
  region: row.region,
  containerId: row.containerId,
  host: row.host,
  ...present("port", row.port),
  status: row.status,
  createdAt: toMillis(row.createdAt),
  updatedAt: toMillis(row.updatedAt),
});

export const InstanceRepositoryLive = Layer.effect(
  InstanceRepository,
  Effect.map(Db, (db) => ({
    create: (instance) =>
      query(async () => {
        // An upsert with an empty update: the first write wins, a repeat reads it back.
        return await db.instance.upsert({
          where: { containerId: instance.containerId },
          create: {
            id: instance.id,
            deploymentId: instance.deploymentId,
            region: instance.region,
            containerId: instance.containerId,
            host: instance.host,
            port: instance.port ?? null,
            status: instance.status,
            createdAt: toDate(instance.createdAt),
            updatedAt: toDate(instance.updatedAt),
          },
          update: {},
        });
      }).pipe(Effect.map(toInstance)),
    listByDeployment: (deploymentId) =>
      query(() =>
        db.instance.findMany({
          where: { deploymentId },
          orderBy: [{ region: "asc" }, { createdAt: "asc" }, { id: "asc" }],
        }),
      ).pipe(Effect.map((rows) => rows.map(toInstance))),
    updateStatus: (change) =>
      query(() =>
        db.instance.updateMany({
          where: {
            deploymentId: change.deploymentId,
            ...(change.ids === undefined ? {} : { id: { in: [...change.ids] } }),
            ...(change.from === undefined ? {} : { status: { in: [...change.from] } }),
          },
          data: { status: change.to, updatedAt: toDate(change.at) },
        }),
      ).pipe(Effect.map((result) => result.count)),
  })),
);
