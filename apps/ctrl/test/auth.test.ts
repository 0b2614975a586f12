/** API keys, workspaces and the bootstrap token, on in-memory repositories. */
import { ApiKeyRepository, WorkspaceRepository } from "@ferry/domain";
import { InMemoryStore } from "@ferry/domain/testing";
import { Effect, Option, Ref } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  authenticate,
  bearerToken,
  createWorkspace,
  ensureBootstrap,
  hashToken,
  issueApiKey,
  newApiToken,
  tokenPrefix,
} from "../src/auth.ts";
import { memoryLog } from "../src/log.ts";
import { makeRuntime } from "../src/runtime.ts";
import { inMemoryWorld } from "./support.ts";

const TOKEN = "bootstrap-token-for-tests";

let runtime: ReturnType<typeof makeRuntime<InMemoryStore>>;
beforeEach(() => {
  runtime = makeRuntime(inMemoryWorld(), memoryLog());
});
afterEach(() => runtime.dispose());

const stored = () => runtime.runPromise(Effect.flatMap(InMemoryStore, Ref.get));

describe("tokens", () => {
  it("are random, prefixed, and stored only as their SHA-256", async () => {
    const token = newApiToken();
    expect(token).toMatch(/^ferry_[A-Za-z0-9_-]{43}$/);
    expect(newApiToken()).not.toBe(token);
    expect(hashToken("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(tokenPrefix(token)).toBe(token.slice(0, 10));
    expect(tokenPrefix(TOKEN)).toBe("bootst");

    const workspace = await runtime.runPromise(createWorkspace({ name: "Acme", slug: "acme" }));
    const key = await runtime.runPromise(issueApiKey(workspace.id, "ci"));
    const [row] = [...(await stored()).apiKeys.values()];
    expect(row).toMatchObject({
      id: key.id,
      workspaceId: workspace.id,
      name: "ci",
      hash: hashToken(key.token),
      prefix: key.token.slice(0, 10),
    });
    expect(JSON.stringify([...(await stored()).apiKeys.values()])).not.toContain(key.token);
    const principal = await runtime.runPromise(authenticate(`Bearer ${key.token}`));
    expect(principal).toEqual({ workspaceId: workspace.id, apiKeyId: key.id });
  });

  it("parses only well-formed bearer headers", async () => {
    const parse = (header: string | null) => runtime.runPromise(Effect.either(bearerToken(header)));
    expect(await parse("Bearer abc")).toMatchObject({ _tag: "Right", right: "abc" });
    expect(await parse("  BEARER   abc  ")).toMatchObject({ _tag: "Right", right: "abc" });
    for (const bad of [null, "", "Bearer ", "Bearer a b", "Token abc", "Bearer é"])
      expect((await parse(bad))._tag).toBe("Left");
  });
});

describe("createWorkspace", () => {
  it("validates the name and slug and refuses a taken slug", async () => {
    const invalid = await runtime.runPromise(
      Effect.flip(createWorkspace({ name: "\u0007", slug: "Not A Slug" })),
    );
    expect(invalid.message).toMatch(/^name: must not contain control characters; slug: /);
    await runtime.runPromise(createWorkspace({ name: "Acme", slug: "acme" }));
    const taken = await runtime.runPromise(
      Effect.flip(createWorkspace({ name: "Other", slug: "acme" })),
    );
    expect(taken.message).toBe('workspace "acme" already exists');
  });
});

describe("ensureBootstrap", () => {
  it("creates the default workspace and the key once; a restart changes nothing", async () => {
    const first = await runtime.runPromise(ensureBootstrap(TOKEN));
    expect(first).toMatchObject({
      workspace: { slug: "default", name: "Default" },
      createdWorkspace: true,
      createdKey: true,
    });
    const second = await runtime.runPromise(ensureBootstrap(TOKEN));
    expect(second).toEqual({
      workspace: first.workspace,
      createdWorkspace: false,
      createdKey: false,
    });
    const data = await stored();
    expect(data.workspaces.size).toBe(1);
    expect(data.apiKeys.size).toBe(1);
    const principal = await runtime.runPromise(authenticate(`Bearer ${TOKEN}`));
    expect(principal.workspaceId).toBe(first.workspace.id);
  });

  it("adds the key to an existing default workspace, and accepts a second token", async () => {
    const existing = await runtime.runPromise(createWorkspace({ name: "Ours", slug: "default" }));
    const result = await runtime.runPromise(ensureBootstrap(TOKEN));
    expect(result).toMatchObject({
      workspace: existing,
      createdWorkspace: false,
      createdKey: true,
    });
    await runtime.runPromise(ensureBootstrap(`${TOKEN}-rotated`));
    expect((await stored()).apiKeys.size).toBe(2);
  });

  it("refuses a token that is already another workspace's key", async () => {
    const acme = await runtime.runPromise(createWorkspace({ name: "Acme", slug: "acme" }));
    await runtime.runPromise(issueApiKey(acme.id, "theirs", TOKEN));
    const error = await runtime.runPromise(Effect.flip(ensureBootstrap(TOKEN)));
    expect(error.message).toBe(
      `FERRY_BOOTSTRAP_TOKEN is already a key of another workspace (${acme.id}); choose another token`,
    );
  });

  it("registers a revoked token again only if the store allows it, else says it was revoked", async () => {
    await runtime.runPromise(ensureBootstrap(TOKEN));
    await runtime.runPromise(
      Effect.gen(function* () {
        const keys = yield* ApiKeyRepository;
        const key = yield* keys.findActiveByHash(hashToken(TOKEN));
        yield* keys.revoke(Option.getOrThrow(key).id, Date.now());
      }),
    );
    // The in-memory store has no unique index on the hash: a new key is stored. (On
    // PostgreSQL the unique hash refuses it: see server.test.ts.)
    const again = await runtime.runPromise(ensureBootstrap(TOKEN));
    expect(again.createdKey).toBe(true);
    const workspaces = await runtime.runPromise(
      Effect.flatMap(WorkspaceRepository, (w) => w.findBySlug("default")),
    );
    expect(Option.isSome(workspaces)).toBe(true);
  });
});
