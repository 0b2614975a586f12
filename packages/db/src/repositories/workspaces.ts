/** WorkspaceRepository and ApiKeyRepository on Prisma. */
import {
  AlreadyExists,
  type ApiKey,
  type ApiKeyId,
  ApiKeyRepository,
  type Workspace,
  type WorkspaceId,
  WorkspaceRepository,
} from "@ferry/domain";
import { Effect, Layer } from "effect";
import type { ApiKey as ApiKeyRow, Workspace as WorkspaceRow } from "../generated/prisma/client.ts";
import {
  Db,
  optionalMillis,
  optionalRow,
  present,
  query,
  queryUnique,
  toDate,
  toMillis,
} from "./prisma.ts";

export const toWorkspace = (row: WorkspaceRow): Workspace => ({
  id: row.id as WorkspaceId,
  name: row.name,
  slug: row.slug,
  createdAt: toMillis(row.createdAt),
});

const toApiKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id as ApiKeyId,
  workspaceId: row.workspaceId as WorkspaceId,
  name: row.name,
  hash: row.hash,
  prefix: row.prefix,
  createdAt: toMillis(row.createdAt),
  ...present("lastUsedAt", optionalMillis(row.lastUsedAt)),
  ...present("revokedAt", optionalMillis(row.revokedAt)),
});

export const WorkspaceRepositoryLive = Layer.effect(
  WorkspaceRepository,
  Effect.map(Db, (db) => ({
    create: (workspace) =>
      queryUnique(
        () =>
          db.workspace.create({
            data: {
              id: workspace.id,
              name: workspace.name,
              slug: workspace.slug,
              createdAt: toDate(workspace.createdAt),
            },
          }),
        () => new AlreadyExists({ resource: "workspace", id: workspace.slug }),
      ).pipe(Effect.asVoid),
    findById: (id) =>
      query(() => db.workspace.findUnique({ where: { id } })).pipe(
        Effect.map(optionalRow(toWorkspace)),
      ),
    findBySlug: (slug) =>
      query(() => db.workspace.findUnique({ where: { slug } })).pipe(
        Effect.map(optionalRow(toWorkspace)),
      ),
  })),
);

export const ApiKeyRepositoryLive = Layer.effect(
  ApiKeyRepository,
  Effect.map(Db, (db) => ({
    create: (key) =>
      query(() =>
        db.apiKey.create({
          data: {
            id: key.id,
            workspaceId: key.workspaceId,
            name: key.name,
            hash: key.hash,
            prefix: key.prefix,
            createdAt: toDate(key.createdAt),
            lastUsedAt: key.lastUsedAt === undefined ? null : toDate(key.lastUsedAt),
            revokedAt: key.revokedAt === undefined ? null : toDate(key.revokedAt),
          },
        }),
      ).pipe(Effect.asVoid),
    findActiveByHash: (hash) =>
      query(() => db.apiKey.findFirst({ where: { hash, revokedAt: null } })).pipe(
        Effect.map(optionalRow(toApiKey)),
      ),
    markUsed: (id: ApiKeyId, at: number) =>
      query(() => db.apiKey.updateMany({ where: { id }, data: { lastUsedAt: toDate(at) } })).pipe(
        Effect.asVoid,
      ),
    revoke: (id: ApiKeyId, at: number) =>
      query(() =>
        db.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: toDate(at) } }),
      ).pipe(Effect.asVoid),
  })),
);
