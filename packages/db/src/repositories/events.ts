/** EventLog on Prisma: `seq` (bigserial) is the resume cursor. */
import {
  type DeploymentEvent,
  type DeploymentId,
  type EventId,
  EventLog,
  type ProjectId,
  type WorkspaceId,
} from "@ferry/domain";
import { Effect, Layer } from "effect";
import type { Event as EventRow, Prisma } from "../generated/prisma/client.ts";
import { Db, present, query, toDate, toMillis } from "./prisma.ts";

const toEvent = (row: EventRow): DeploymentEvent => ({
  seq: row.seq,
  id: row.id as EventId,
  workspaceId: row.workspaceId as WorkspaceId,
  projectId: row.projectId as ProjectId,
  ...present("deploymentId", row.deploymentId as DeploymentId | null),
  type: row.type,
  payload: row.payload,
  createdAt: toMillis(row.createdAt),
});

export const EventLogLive = Layer.effect(
  EventLog,
  Effect.map(Db, (db) => ({
    append: (event) =>
      query(() =>
        db.event.create({
          data: {
            id: event.id,
            workspaceId: event.workspaceId,
            projectId: event.projectId,
            deploymentId: event.deploymentId ?? null,
            type: event.type,
            payload: (event.payload ?? null) as Prisma.InputJsonValue,
            createdAt: toDate(event.createdAt),
          },
        }),
      ).pipe(Effect.map(toEvent)),
    listForDeployment: (deploymentId, afterSeq, limit) =>
      query(() =>
        db.event.findMany({
          where: { deploymentId, seq: { gt: afterSeq } },
          orderBy: { seq: "asc" },
          take: limit,
        }),
      ).pipe(Effect.map((rows) => rows.map(toEvent))),
  })),
);
