/** Workspaces and the API keys that act for them. */
import { Context, type Effect, type Option, Schema } from "effect";
import type { AlreadyExists } from "../errors.ts";
import { ApiKeyId, type WorkspaceId, WorkspaceId as WorkspaceIdSchema } from "../ids.ts";
import type { Workspace } from "../model/project.ts";

/** An API key as stored: only the SHA-256 of the token, never the token. */
export const ApiKey = Schema.Struct({
  id: ApiKeyId,
  workspaceId: WorkspaceIdSchema,
  name: Schema.String,
  /** Hex SHA-256 of the token. */
  hash: Schema.String,
  /** The token's first characters, to recognise a key in listings. */
  prefix: Schema.String,
  createdAt: Schema.Number,
  lastUsedAt: Schema.optional(Schema.Number),
  revokedAt: Schema.optional(Schema.Number),
});
export type ApiKey = typeof ApiKey.Type;

export class WorkspaceRepository extends Context.Tag("@ferry/domain/WorkspaceRepository")<
  WorkspaceRepository,
  {
    /** Fails with AlreadyExists when the slug is taken. */
    readonly create: (workspace: Workspace) => Effect.Effect<void, AlreadyExists>;
    readonly findById: (id: WorkspaceId) => Effect.Effect<Option.Option<Workspace>>;
    readonly findBySlug: (slug: string) => Effect.Effect<Option.Option<Workspace>>;
  }
>() {}

export class ApiKeyRepository extends Context.Tag("@ferry/domain/ApiKeyRepository")<
  ApiKeyRepository,
  {
    readonly create: (key: ApiKey) => Effect.Effect<void>;
    /** The key with this hash, unless it was revoked. */
    readonly findActiveByHash: (hash: string) => Effect.Effect<Option.Option<ApiKey>>;
    readonly markUsed: (id: ApiKeyId, at: number) => Effect.Effect<void>;
    readonly revoke: (id: ApiKeyId, at: number) => Effect.Effect<void>;
  }
>() {}
