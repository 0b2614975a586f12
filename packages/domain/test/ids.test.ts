import { describe, expect, it } from "@effect/vitest";
import { Effect, Random, Schema, TestClock } from "effect";
import {
  ApiKeyId,
  CROCKFORD_ALPHABET,
  DeploymentId,
  EnvironmentId,
  EventId,
  encodeUlidTime,
  ID_PREFIXES,
  type IdKind,
  Ids,
  InstanceId,
  idSuffix,
  idTimestamp,
  ProjectId,
  RouteId,
  StepId,
  VariableId,
  WorkspaceId,
} from "../src/ids.ts";

const KINDS = Object.keys(ID_PREFIXES) as Array<IdKind>;
/** Each kind's branded schema, as a type guard. */
const IS_ID: Record<IdKind, (value: unknown) => boolean> = {
  workspace: Schema.is(WorkspaceId),
  apiKey: Schema.is(ApiKeyId),
  project: Schema.is(ProjectId),
  environment: Schema.is(EnvironmentId),
  variable: Schema.is(VariableId),
  deployment: Schema.is(DeploymentId),
  step: Schema.is(StepId),
  instance: Schema.is(InstanceId),
  route: Schema.is(RouteId),
  event: Schema.is(EventId),
};

/** 2025-11-24T16:00:00.000Z */
const T0 = 1_764_000_000_000;
const VALID_SUFFIX = "01jdz8x4m3q7r2v5w9y0abcdef";

/** Makes an id of `kind` at TestClock time `millis`. */
const idAt = <K extends IdKind>(kind: K, millis: number) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(millis);
    const ids = yield* Ids;
    return yield* ids.next(kind);
  });

describe("Ids.layer", () => {
  it.effect("makes ids with the kind's prefix and a 26-character lowercase Crockford suffix", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0);
      const ids = yield* Ids;
      for (const kind of KINDS) {
        const id: string = yield* ids.next(kind);
        expect(id.startsWith(`${ID_PREFIXES[kind]}_`)).toBe(true);
        const suffix = idSuffix(id);
        expect(suffix).toHaveLength(26);
        expect(suffix).toMatch(/^[0-9abcdefghjkmnpqrstvwxyz]{26}$/);
        expect(id).toBe(`${ID_PREFIXES[kind]}_${suffix}`);
        // The branded schema of the kind accepts it.
        expect(IS_ID[kind](id)).toBe(true);
      }
    }).pipe(Effect.provide(Ids.layer)),
  );

  it.effect(
    "encodes the clock's time in the first 10 characters, and idTimestamp reads it back",
    () =>
      Effect.gen(function* () {
        for (const millis of [0, 1, 31, 32, 1e12, T0, T0 + 1, 2 ** 48 - 1]) {
          const id = yield* idAt("deployment", millis);
          expect(idSuffix(id).slice(0, 10)).toBe(encodeUlidTime(millis));
          expect(idTimestamp(id)).toBe(millis);
        }
      }).pipe(Effect.provide(Ids.layer)),
  );

  it.effect("makes ids that sort by creation time", () =>
    Effect.gen(function* () {
      const times = [T0, T0 + 1, T0 + 31, T0 + 32, T0 + 1000, T0 + 86_400_000, 4_102_444_800_000];
      const made: Array<string> = [];
      for (const millis of times) made.push(yield* idAt("event", millis));
      expect([...made].sort()).toEqual(made);
      expect(made.map(idTimestamp)).toEqual(times);
      // Each later id sorts strictly after the earlier one, whatever its random part.
      for (let i = 1; i < made.length; i++) {
        expect((made[i] ?? "") > (made[i - 1] ?? "")).toBe(true);
      }
    }).pipe(Effect.provide(Ids.layer)),
  );

  it.effect("sorts by time when the clock advances (TestClock.adjust)", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0);
      const ids = yield* Ids;
      const first = yield* ids.next("project");
      yield* TestClock.adjust("1 millis");
      const second = yield* ids.next("project");
      yield* TestClock.adjust("1 hour");
      const third = yield* ids.next("project");
      expect(first < second && second < third).toBe(true);
      expect(idTimestamp(second) - idTimestamp(first)).toBe(1);
      expect(idTimestamp(third) - idTimestamp(second)).toBe(3_600_000);
    }).pipe(Effect.provide(Ids.layer)),
  );

  it.effect("makes distinct ids within the same millisecond", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0);
      const ids = yield* Ids;
      const made = new Set<string>();
      for (let i = 0; i < 200; i++) made.add(yield* ids.next("step"));
      expect(made.size).toBe(200);
      for (const id of made) expect(idTimestamp(id)).toBe(T0);
    }).pipe(Effect.provide(Ids.layer)),
  );

  it.effect("draws the random part from the whole alphabet", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0);
      const ids = yield* Ids;
      const seen = new Set<string>();
      for (let i = 0; i < 500; i++) {
        for (const char of idSuffix(yield* ids.next("instance")).slice(10)) seen.add(char);
      }
      expect([...seen].sort().join("")).toBe(CROCKFORD_ALPHABET);
    }).pipe(Effect.provide(Ids.layer), Effect.withRandom(Random.make("alphabet"))),
  );

  it.effect("is reproducible with a seeded Random", () =>
    Effect.gen(function* () {
      const seeded = (seed: string) =>
        idAt("deployment", T0).pipe(Effect.withRandom(Random.make(seed)));
      const a = yield* seeded("seed-1");
      const b = yield* seeded("seed-1");
      const c = yield* seeded("seed-2");
      expect(a).toBe(b);
      expect(c).not.toBe(a);
      expect(idSuffix(c).slice(0, 10)).toBe(idSuffix(a).slice(0, 10));
    }).pipe(Effect.provide(Ids.layer)),
  );
});

describe("encodeUlidTime", () => {
  it.each([
    [0, "0000000000"],
    [1, "0000000001"],
    [31, "000000000z"],
    [32, "0000000010"],
    [2 ** 48 - 1, "7zzzzzzzzz"],
  ])("%i → %s", (millis, encoded) => {
    expect(encodeUlidTime(millis)).toBe(encoded);
  });

  it.each([-1, 2 ** 48, 1.5, Number.NaN])("rejects %s", (millis) => {
    expect(() => encodeUlidTime(millis)).toThrow(RangeError);
  });

  it("uses the lowercase Crockford alphabet (no i, l, o, u)", () => {
    expect(CROCKFORD_ALPHABET).toBe("0123456789abcdefghjkmnpqrstvwxyz");
    expect(CROCKFORD_ALPHABET).toHaveLength(32);
  });
});

describe("idSuffix and idTimestamp", () => {
  it("read the part after the prefix", () => {
    expect(idSuffix(`dep_${VALID_SUFFIX}`)).toBe(VALID_SUFFIX);
    expect(idSuffix(`key_${VALID_SUFFIX}`)).toBe(VALID_SUFFIX);
    expect(idTimestamp(`prj_${encodeUlidTime(T0)}${"0".repeat(16)}`)).toBe(T0);
  });
});

describe("branded id schemas", () => {
  it.each(KINDS)("%s accepts its own prefix only", (kind) => {
    const isId = IS_ID[kind];
    expect(isId(`${ID_PREFIXES[kind]}_${VALID_SUFFIX}`)).toBe(true);
    for (const other of KINDS.filter((k) => k !== kind)) {
      expect(isId(`${ID_PREFIXES[other]}_${VALID_SUFFIX}`), other).toBe(false);
    }
  });

  it.each([
    ["a 25-character suffix", `dep_${VALID_SUFFIX.slice(1)}`],
    ["a 27-character suffix", `dep_${VALID_SUFFIX}0`],
    ["uppercase", `dep_${VALID_SUFFIX.toUpperCase()}`],
    ["an uppercase prefix", `DEP_${VALID_SUFFIX}`],
    ["the letter i", `dep_${VALID_SUFFIX.slice(0, 25)}i`],
    ["the letter l", `dep_${VALID_SUFFIX.slice(0, 25)}l`],
    ["the letter o", `dep_${VALID_SUFFIX.slice(0, 25)}o`],
    ["the letter u", `dep_${VALID_SUFFIX.slice(0, 25)}u`],
    ["no underscore", `dep${VALID_SUFFIX}`],
    ["a dash", `dep-${VALID_SUFFIX}`],
    ["whitespace", ` dep_${VALID_SUFFIX}`],
    ["a trailing newline", `dep_${VALID_SUFFIX}\n`],
    ["nothing", ""],
  ])("DeploymentId rejects %s, naming the kind", (_label, value) => {
    const result = Schema.decodeUnknownEither(DeploymentId)(value);
    expect(result._tag).toBe("Left");
    if (result._tag === "Left") {
      expect(result.left.message).toContain(
        "must be a deployment id (dep_ followed by 26 characters)",
      );
    }
  });

  it("rejects non-strings", () => {
    expect(Schema.is(ProjectId)(42)).toBe(false);
    expect(Schema.is(ProjectId)(undefined)).toBe(false);
  });
});
