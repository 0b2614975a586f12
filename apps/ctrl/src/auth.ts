/**
 * Authentication: every RPC carries `Authorization: Bearer <api key>`.
 *
 * An API key belongs to one workspace and is stored as the SHA-256 of its
 * token (and a short prefix to recognise it in listings), never the token.
 * The interceptor resolves the key and hands the principal (the workspace
 * acting) to the handlers through a context value; handlers scope every
 * lookup to that workspace, so another workspace's ids answer NotFound.
 *
 * Missing, malformed, unknown and revoked keys all answer Unauthenticated,
 * with a message that says what to send (never which keys exist).
 */
import { createHash, randomBytes } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import {
  type AlreadyExists,
  type ApiKeyId,
  ApiKeyRepository,
  decodeRequest,
  hasControlCharacter,
  Ids,
  PreconditionFailed,
  Slug,
  Unauthenticated,
  utf8ByteLength,
  type ValidationError,
  type Workspace,
  type WorkspaceId,
  WorkspaceRepository,
} from "@ferry/domain";
import { Clock, Effect, Option, Schema } from "effect";
import { type Principal, principalKey, requestMetaOf } from "./context.ts";
import type { EffectRunner } from "./runtime.ts";

export const hashToken = (token: string): string =>
  createHash("sha256").update(token, "utf8").digest("hex");

/** A new API key token: `ferry_` and 256 random bits (base64url). */
export const newApiToken = (): string => `ferry_${randomBytes(32).toString("base64url")}`;

/** What is stored to recognise a key: a few leading characters, never enough to matter. */
export const tokenPrefix = (token: string): string =>
  token.slice(0, Math.min(10, Math.floor(token.length / 4)));

const HOW_TO = "send the header `Authorization: Bearer <api key>`";

/** The token of an Authorization header value. */
export const bearerToken = (header: string | null): Effect.Effect<string, Unauthenticated> => {
  if (header === null || header.trim() === "")
    return Effect.fail(new Unauthenticated({ reason: `missing API key: ${HOW_TO}` }));
  const match = /^Bearer +([\x21-\x7e]+)$/i.exec(header.trim());
  if (match?.[1] === undefined)
    return Effect.fail(
      new Unauthenticated({
        reason: `malformed Authorization header: expected "Bearer <api key>"; ${HOW_TO}`,
      }),
    );
  return Effect.succeed(match[1]);
};

/** Resolves an Authorization header to the key's principal. */
export const authenticate = (
  header: string | null,
): Effect.Effect<Principal, Unauthenticated, ApiKeyRepository> =>
  Effect.gen(function* () {
    const token = yield* bearerToken(header);
    const key = yield* (yield* ApiKeyRepository).findActiveByHash(hashToken(token));
    if (Option.isNone(key))
      return yield* Effect.fail(
        new Unauthenticated({
          reason: "invalid API key: it is unknown or was revoked; check the key you send",
        }),
      );
    return { workspaceId: key.value.workspaceId, apiKeyId: key.value.id };
  });

/** How often a key's last-use time is written, at most (one write per call would be a write per call). */
const MARK_USED_EVERY_MS = 60_000;

export interface AuthInterceptorOptions {
  readonly run: EffectRunner;
  /** Services callable without a key (gRPC reflection: the API's schema is public). */
  readonly publicServices: ReadonlySet<string>;
}

/** Authenticates every call of a non-public service and sets `principalKey`. */
export const authInterceptor = (options: AuthInterceptorOptions): Interceptor => {
  const lastMarked = new Map<ApiKeyId, number>();
  const markUsed = (principal: Principal) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis;
      const last = lastMarked.get(principal.apiKeyId);
      if (last !== undefined && now - last < MARK_USED_EVERY_MS) return;
      lastMarked.set(principal.apiKeyId, now);
      yield* (yield* ApiKeyRepository).markUsed(principal.apiKeyId, now);
    });
  return (next) => async (request) => {
    if (options.publicServices.has(request.service.typeName)) return await next(request);
    const principal = await options.run(
      authenticate(request.header.get("authorization")).pipe(Effect.tap(markUsed)),
      requestMetaOf(request),
    );
    request.contextValues.set(principalKey, principal);
    return await next(request);
  };
};

// ---------------------------------------------------------------------------
// Workspaces and keys: the admin command and the bootstrap token.

const WORKSPACE_NAME_MAX_BYTES = 256;

const WorkspaceName = Schema.Trim.pipe(
  Schema.filter((name) => {
    if (name === "") return "must not be empty";
    const bytes = utf8ByteLength(name);
    if (bytes > WORKSPACE_NAME_MAX_BYTES)
      return `must be at most ${WORKSPACE_NAME_MAX_BYTES} bytes (got ${bytes})`;
    if (hasControlCharacter(name)) return "must not contain control characters";
    return true;
  }),
);

export const createWorkspace = (request: {
  readonly name: string;
  readonly slug: string;
}): Effect.Effect<Workspace, ValidationError | AlreadyExists, WorkspaceRepository | Ids> =>
  Effect.gen(function* () {
    const input = yield* decodeRequest(Schema.Struct({ name: WorkspaceName, slug: Slug }))(request);
    const workspace: Workspace = {
      id: yield* (yield* Ids).next("workspace"),
      name: input.name,
      slug: input.slug,
      createdAt: yield* Clock.currentTimeMillis,
    };
    yield* (yield* WorkspaceRepository).create(workspace);
    return workspace;
  });

/** Stores a key for `token` (a new random one by default); the token is returned, only its hash kept. */
export const issueApiKey = (
  workspaceId: WorkspaceId,
  name: string,
  token: string = newApiToken(),
): Effect.Effect<
  { readonly id: ApiKeyId; readonly token: string },
  never,
  ApiKeyRepository | Ids
> =>
  Effect.gen(function* () {
    const id = yield* (yield* Ids).next("apiKey");
    yield* (yield* ApiKeyRepository).create({
      id,
      workspaceId,
      name,
      hash: hashToken(token),
      prefix: tokenPrefix(token),
      createdAt: yield* Clock.currentTimeMillis,
    });
    return { id, token };
  });

export const DEFAULT_WORKSPACE_SLUG = "default";

/**
 * FERRY_BOOTSTRAP_TOKEN: makes sure the `default` workspace exists and that
 * the token is one of its keys. Idempotent: a restart with the same token
 * changes nothing.
 */
export const ensureBootstrap = (
  token: string,
): Effect.Effect<
  {
    readonly workspace: Workspace;
    readonly createdWorkspace: boolean;
    readonly createdKey: boolean;
  },
  PreconditionFailed,
  WorkspaceRepository | ApiKeyRepository | Ids
> =>
  Effect.gen(function* () {
    const workspaces = yield* WorkspaceRepository;
    const existing = yield* workspaces.findBySlug(DEFAULT_WORKSPACE_SLUG);
    const workspace = Option.isSome(existing)
      ? existing.value
      : yield* createWorkspace({ name: "Default", slug: DEFAULT_WORKSPACE_SLUG }).pipe(
          // Another instance created it at the same moment: use theirs.
          Effect.catchTag("AlreadyExists", () =>
            workspaces.findBySlug(DEFAULT_WORKSPACE_SLUG).pipe(
              Effect.flatMap(
                Option.match({
                  onNone: () => Effect.dieMessage("the default workspace vanished"),
                  onSome: Effect.succeed,
                }),
              ),
            ),
          ),
          Effect.catchTag("ValidationError", Effect.die),
        );
    const key = yield* (yield* ApiKeyRepository).findActiveByHash(hashToken(token));
    if (Option.isSome(key)) {
      if (key.value.workspaceId !== workspace.id)
        return yield* Effect.fail(
          new PreconditionFailed({
            reason: `FERRY_BOOTSTRAP_TOKEN is already a key of another workspace (${key.value.workspaceId}); choose another token`,
          }),
        );
      return { workspace, createdWorkspace: Option.isNone(existing), createdKey: false };
    }
    yield* issueApiKey(workspace.id, "bootstrap (FERRY_BOOTSTRAP_TOKEN)", token).pipe(
      // The hash is unique: an insert that fails here means the token is a revoked key.
      Effect.catchAllDefect(() =>
        Effect.fail(
          new PreconditionFailed({
            reason:
              "FERRY_BOOTSTRAP_TOKEN could not be registered: it is a revoked key; choose another token",
          }),
        ),
      ),
    );
    return { workspace, createdWorkspace: Option.isNone(existing), createdKey: true };
  });
