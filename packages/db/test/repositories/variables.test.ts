/** EnvironmentVariableRepository on Prisma keeps the port's promises. */
import { type EnvironmentVariable, EnvironmentVariableRepository } from "@ferry/domain";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { testDatabaseKinds } from "../../src/testing.ts";
import {
  createTenant,
  expectDefect,
  NOW,
  newId,
  plain,
  secret,
  useRepositories,
} from "./harness.ts";

describe.each(testDatabaseKinds())("EnvironmentVariableRepository on %s", (kind) => {
  const { run, exit, prisma } = useRepositories(kind);

  it("sets plain and secret variables and lists them by key; secrets come back sealed", async () => {
    const { production, preview } = await run(createTenant());
    const ids = [newId("variable"), newId("variable"), newId("variable")] as const;
    await run(
      Effect.gen(function* () {
        const variables = yield* EnvironmentVariableRepository;
        yield* variables.set(
          production.id,
          [
            { id: ids[0], key: "LOG_LEVEL", value: plain("info") },
            { id: ids[1], key: "API_TOKEN", value: secret("key-2025", "c2VhbGVk") },
            { id: ids[2], key: "GREETING", value: plain("héllo 🌍 — 日本語") },
          ],
          NOW,
        );
        const expected: Array<EnvironmentVariable> = [
          {
            id: ids[1],
            environmentId: production.id,
            key: "API_TOKEN",
            value: { _tag: "Secret", sealed: { keyId: "key-2025", ciphertext: "c2VhbGVk" } },
            createdAt: NOW,
            updatedAt: NOW,
          },
          {
            id: ids[2],
            environmentId: production.id,
            key: "GREETING",
            value: { _tag: "Plain", value: "héllo 🌍 — 日本語" },
            createdAt: NOW,
            updatedAt: NOW,
          },
          {
            id: ids[0],
            environmentId: production.id,
            key: "LOG_LEVEL",
            value: { _tag: "Plain", value: "info" },
            createdAt: NOW,
            updatedAt: NOW,
          },
        ];
        expect(yield* variables.list(production.id)).toStrictEqual(expected);
        // Variables belong to one environment.
        expect(yield* variables.list(preview.id)).toStrictEqual([]);
      }),
    );
    // The secret is stored sealed only: no plain value column.
    const row = await prisma().environmentVariable.findUniqueOrThrow({ where: { id: ids[1] } });
    expect([row.secret, row.value, row.keyId, row.ciphertext]).toStrictEqual([
      true,
      null,
      "key-2025",
      "c2VhbGVk",
    ]);
  });

  it("set upserts: an existing key keeps its id and createdAt, other keys are left alone", async () => {
    const { production } = await run(createTenant());
    await run(
      Effect.gen(function* () {
        const variables = yield* EnvironmentVariableRepository;
        const a = newId("variable");
        const b = newId("variable");
        const c = newId("variable");
        yield* variables.set(
          production.id,
          [
            { id: a, key: "A", value: plain("1") },
            { id: b, key: "B", value: secret("k1", "sealed-b") },
            { id: c, key: "C", value: plain("3") },
          ],
          NOW,
        );
        const ignoredId = newId("variable");
        const ignoredId2 = newId("variable");
        const d = newId("variable");
        yield* variables.set(
          production.id,
          [
            // Plain becomes secret, secret becomes plain: the row takes the new form only.
            { id: ignoredId, key: "A", value: secret("k2", "sealed-a") },
            { id: ignoredId2, key: "B", value: plain("two") },
            { id: d, key: "D", value: plain("4") },
          ],
          NOW + 5,
        );
        expect(yield* variables.list(production.id)).toStrictEqual([
          {
            id: a,
            environmentId: production.id,
            key: "A",
            value: { _tag: "Secret", sealed: { keyId: "k2", ciphertext: "sealed-a" } },
            createdAt: NOW,
            updatedAt: NOW + 5,
          },
          {
            id: b,
            environmentId: production.id,
            key: "B",
            value: { _tag: "Plain", value: "two" },
            createdAt: NOW,
            updatedAt: NOW + 5,
          },
          {
            id: c,
            environmentId: production.id,
            key: "C",
            value: { _tag: "Plain", value: "3" },
            createdAt: NOW,
            updatedAt: NOW,
          },
          {
            id: d,
            environmentId: production.id,
            key: "D",
            value: { _tag: "Plain", value: "4" },
            createdAt: NOW + 5,
            updatedAt: NOW + 5,
          },
        ]);
        // An empty set changes nothing.
        yield* variables.set(production.id, [], NOW + 6);
        expect((yield* variables.list(production.id)).map((v) => v.updatedAt)).toStrictEqual([
          NOW + 5,
          NOW + 5,
          NOW,
          NOW + 5,
        ]);
      }),
    );
    const rows = await prisma().environmentVariable.findMany({
      where: { environmentId: production.id },
      orderBy: { key: "asc" },
      select: { key: true, secret: true, value: true, keyId: true, ciphertext: true },
    });
    expect(rows).toStrictEqual([
      { key: "A", secret: true, value: null, keyId: "k2", ciphertext: "sealed-a" },
      { key: "B", secret: false, value: "two", keyId: null, ciphertext: null },
      { key: "C", secret: false, value: "3", keyId: null, ciphertext: null },
      { key: "D", secret: false, value: "4", keyId: null, ciphertext: null },
    ]);
  });

  it("the same key twice in one set: the last value wins, one row", async () => {
    const { production } = await run(createTenant());
    const first = newId("variable");
    const list = await run(
      Effect.gen(function* () {
        const variables = yield* EnvironmentVariableRepository;
        yield* variables.set(
          production.id,
          [
            { id: first, key: "X", value: plain("1") },
            { id: newId("variable"), key: "X", value: plain("2") },
          ],
          NOW,
        );
        return yield* variables.list(production.id);
      }),
    );
    expect(list.map((v) => [v.id, v.key, v.value])).toStrictEqual([
      [first, "X", { _tag: "Plain", value: "2" }],
    ]);
  });

  it("set is one transaction: a failing write leaves every key as it was", async () => {
    const { production, preview } = await run(createTenant());
    const taken = newId("variable");
    await run(
      Effect.flatMap(EnvironmentVariableRepository, (variables) =>
        Effect.all([
          variables.set(preview.id, [{ id: taken, key: "OTHER", value: plain("x") }], NOW),
          variables.set(
            production.id,
            [{ id: newId("variable"), key: "KEEP", value: plain("old") }],
            NOW,
          ),
        ]),
      ),
    );
    // The second write reuses an id that another environment's variable has: the insert fails.
    const result = await exit(
      Effect.flatMap(EnvironmentVariableRepository, (variables) =>
        variables.set(
          production.id,
          [
            { id: newId("variable"), key: "KEEP", value: plain("new") },
            { id: newId("variable"), key: "FRESH", value: plain("1") },
            { id: taken, key: "CLASH", value: plain("2") },
          ],
          NOW + 1,
        ),
      ),
    );
    expectDefect(result);
    const list = await run(
      Effect.flatMap(EnvironmentVariableRepository, (variables) => variables.list(production.id)),
    );
    expect(list.map((v) => [v.key, v.value, v.updatedAt])).toStrictEqual([
      ["KEEP", { _tag: "Plain", value: "old" }, NOW],
    ]);
  });

  it("unset removes the keys of that environment and counts the ones that existed", async () => {
    const { production, preview } = await run(createTenant());
    await run(
      Effect.gen(function* () {
        const variables = yield* EnvironmentVariableRepository;
        const set = (environmentId: typeof production.id, keys: Array<string>) =>
          variables.set(
            environmentId,
            keys.map((key) => ({ id: newId("variable"), key, value: plain(key.toLowerCase()) })),
            NOW,
          );
        yield* set(production.id, ["A", "B", "C"]);
        yield* set(preview.id, ["A", "B"]);
        expect(yield* variables.unset(production.id, ["A", "MISSING", "A", "C"])).toBe(2);
        expect((yield* variables.list(production.id)).map((v) => v.key)).toStrictEqual(["B"]);
        expect((yield* variables.list(preview.id)).map((v) => v.key)).toStrictEqual(["A", "B"]);
        expect(yield* variables.unset(production.id, ["A"])).toBe(0);
        expect(yield* variables.unset(production.id, [])).toBe(0);
        expect(yield* variables.unset(preview.id, ["A", "B"])).toBe(2);
        expect(yield* variables.list(preview.id)).toStrictEqual([]);
      }),
    );
  });
});
