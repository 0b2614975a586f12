/** WorkspaceRepository and ApiKeyRepository on Prisma keep the ports' promises. */
import { type ApiKey, ApiKeyRepository, WorkspaceRepository } from "@ferry/domain";
import { Effect, Option } from "effect";
import { describe, expect, it } from "vitest";
import { testDatabaseKinds } from "../../src/testing.ts";
import { failureOf, makeWorkspace, NOW, newId, uniqueSlug, useRepositories } from "./harness.ts";

describe.each(testDatabaseKinds())("on %s", (kind) => {
  const { run, exit, prisma } = useRepositories(kind);

  describe("WorkspaceRepository", () => {
    it("creates a workspace and finds it by id and by slug", async () => {
      const workspace = makeWorkspace({ name: "Acme Ünïcode 🚀" });
      await run(
        Effect.gen(function* () {
          const workspaces = yield* WorkspaceRepository;
          yield* workspaces.create(workspace);
          expect(yield* workspaces.findById(workspace.id)).toStrictEqual(Option.some(workspace));
          expect(yield* workspaces.findBySlug(workspace.slug)).toStrictEqual(
            Option.some(workspace),
          );
          expect(yield* workspaces.findById(newId("workspace"))).toStrictEqual(Option.none());
          expect(yield* workspaces.findBySlug(uniqueSlug("missing"))).toStrictEqual(Option.none());
        }),
      );
    });

    it("refuses a taken slug with AlreadyExists and stores nothing", async () => {
      const first = makeWorkspace();
      const second = makeWorkspace({ slug: first.slug, name: "Someone else" });
      await run(Effect.flatMap(WorkspaceRepository, (w) => w.create(first)));
      const error = failureOf(
        await exit(Effect.flatMap(WorkspaceRepository, (w) => w.create(second))),
      );
      expect(error).toMatchObject({ _tag: "AlreadyExists", resource: "workspace", id: first.slug });
      await run(
        Effect.gen(function* () {
          const workspaces = yield* WorkspaceRepository;
          expect(yield* workspaces.findById(second.id)).toStrictEqual(Option.none());
          expect(yield* workspaces.findBySlug(first.slug)).toStrictEqual(Option.some(first));
        }),
      );
    });
  });

  describe("ApiKeyRepository", () => {
    const newKey = (
      workspaceId: ApiKey["workspaceId"],
      overrides: Partial<ApiKey> = {},
    ): ApiKey => {
      const id = newId("apiKey");
      return {
        id,
        workspaceId,
        name: "ci",
        // A distinct 64-hex-character hash per key.
        hash: Buffer.from(id).toString("hex").padEnd(64, "0").slice(0, 64),
        prefix: "fry_ab",
        createdAt: NOW,
        ...overrides,
      };
    };

    const withWorkspace = async () => {
      const workspace = makeWorkspace();
      await run(Effect.flatMap(WorkspaceRepository, (w) => w.create(workspace)));
      return workspace;
    };

    it("finds an active key by hash; markUsed records the last use", async () => {
      const workspace = await withWorkspace();
      const key = newKey(workspace.id);
      const other = newKey(workspace.id, { name: "deploy bot" });
      await run(
        Effect.gen(function* () {
          const keys = yield* ApiKeyRepository;
          yield* keys.create(key);
          yield* keys.create(other);
          expect(yield* keys.findActiveByHash(key.hash)).toStrictEqual(Option.some(key));
          yield* keys.markUsed(key.id, NOW + 1);
          expect(yield* keys.findActiveByHash(key.hash)).toStrictEqual(
            Option.some({ ...key, lastUsedAt: NOW + 1 }),
          );
          yield* keys.markUsed(key.id, NOW + 2);
          expect(yield* keys.findActiveByHash(key.hash)).toStrictEqual(
            Option.some({ ...key, lastUsedAt: NOW + 2 }),
          );
          // The other key is untouched.
          expect(yield* keys.findActiveByHash(other.hash)).toStrictEqual(Option.some(other));
          expect(yield* keys.findActiveByHash("0".repeat(64))).toStrictEqual(Option.none());
        }),
      );
    });

    it("never finds a revoked key; revoking again keeps the first time", async () => {
      const workspace = await withWorkspace();
      const key = newKey(workspace.id, { lastUsedAt: NOW - 10 });
      const other = newKey(workspace.id);
      await run(
        Effect.gen(function* () {
          const keys = yield* ApiKeyRepository;
          yield* keys.create(key);
          yield* keys.create(other);
          expect(yield* keys.findActiveByHash(key.hash)).toStrictEqual(Option.some(key));
          yield* keys.revoke(key.id, NOW + 5);
          expect(yield* keys.findActiveByHash(key.hash)).toStrictEqual(Option.none());
          yield* keys.revoke(key.id, NOW + 6);
          // Revoking one key leaves the others active.
          expect(yield* keys.findActiveByHash(other.hash)).toStrictEqual(Option.some(other));
        }),
      );
      const row = await prisma().apiKey.findUniqueOrThrow({ where: { id: key.id } });
      expect(row.revokedAt?.getTime()).toBe(NOW + 5);
      expect(row.lastUsedAt?.getTime()).toBe(NOW - 10);
    });

    it("a key stored as revoked is never active", async () => {
      const workspace = await withWorkspace();
      const key = newKey(workspace.id, { revokedAt: NOW });
      await run(
        Effect.gen(function* () {
          const keys = yield* ApiKeyRepository;
          yield* keys.create(key);
          expect(yield* keys.findActiveByHash(key.hash)).toStrictEqual(Option.none());
        }),
      );
      const row = await prisma().apiKey.findUniqueOrThrow({ where: { id: key.id } });
      expect([row.name, row.prefix, row.hash, row.revokedAt?.getTime()]).toStrictEqual([
        key.name,
        key.prefix,
        key.hash,
        NOW,
      ]);
    });

    it("markUsed and revoke of an unknown key succeed and change nothing", async () => {
      const workspace = await withWorkspace();
      const key = newKey(workspace.id);
      await run(
        Effect.gen(function* () {
          const keys = yield* ApiKeyRepository;
          yield* keys.create(key);
          yield* keys.markUsed(newId("apiKey"), NOW + 1);
          yield* keys.revoke(newId("apiKey"), NOW + 1);
          expect(yield* keys.findActiveByHash(key.hash)).toStrictEqual(Option.some(key));
        }),
      );
    });
  });
});
