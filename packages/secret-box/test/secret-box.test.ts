import { randomBytes } from "node:crypto";
import { describe, expect, it } from "@effect/vitest";
import { SecretBox } from "@ferry/domain";
import { Effect, Either } from "effect";
import { generateKey, layer, parseKeyRing } from "../src/index.ts";

const key = (id: string) => `${id}:${randomBytes(32).toString("base64")}`;

describe("SecretBox over AES-256-GCM", () => {
  const k1 = key("k1");
  const k2 = key("k2");

  it.effect("seals and opens a value; the ciphertext does not contain it", () =>
    Effect.gen(function* () {
      const box = yield* SecretBox;
      const sealed = yield* box.seal("postgres://user:hunter2@db/app");
      expect(sealed.keyId).toBe("k1");
      expect(sealed.ciphertext).not.toContain("hunter2");
      expect(Buffer.from(sealed.ciphertext, "base64").toString("latin1")).not.toContain("hunter2");
      expect(yield* box.open(sealed)).toBe("postgres://user:hunter2@db/app");
    }).pipe(Effect.provide(layer(k1))),
  );

  it.effect("uses a fresh IV: the same value seals differently each time", () =>
    Effect.gen(function* () {
      const box = yield* SecretBox;
      const a = yield* box.seal("same");
      const b = yield* box.seal("same");
      expect(a.ciphertext).not.toBe(b.ciphertext);
    }).pipe(Effect.provide(layer(k1))),
  );

  it.effect("round-trips empty and multi-byte values", () =>
    Effect.gen(function* () {
      const box = yield* SecretBox;
      for (const value of ["", "é", "🔑 clé 秘密", "x".repeat(65536)]) {
        expect(yield* box.open(yield* box.seal(value))).toBe(value);
      }
    }).pipe(Effect.provide(layer(k1))),
  );

  it.effect("detects tampering with the ciphertext or the key id", () =>
    Effect.gen(function* () {
      const box = yield* SecretBox;
      const sealed = yield* box.seal("secret");
      const raw = Buffer.from(sealed.ciphertext, "base64");
      raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
      const flipped = yield* Effect.either(
        box.open({ keyId: "k2", ciphertext: raw.toString("base64") }),
      );
      expect(Either.isLeft(flipped)).toBe(true);
      const relabelled = yield* Effect.either(box.open({ ...sealed, keyId: "k2" }));
      expect(Either.isLeft(relabelled)).toBe(true);
      const truncated = yield* Effect.either(box.open({ ...sealed, ciphertext: "AAAA" }));
      expect(Either.isLeft(truncated)).toBe(true);
    }).pipe(Effect.provide(layer(`${k1},${k2}`))),
  );

  it("rotates: the new current key seals, the old key still opens", async () => {
    const before = await Effect.runPromise(
      SecretBox.pipe(
        Effect.flatMap((box) => box.seal("v1")),
        Effect.provide(layer(k1)),
      ),
    );
    const after = await Effect.runPromise(
      Effect.gen(function* () {
        const box = yield* SecretBox;
        return { opened: yield* box.open(before), resealed: yield* box.seal("v2") };
      }).pipe(Effect.provide(layer(`${k2},${k1}`))),
    );
    expect(after.opened).toBe("v1");
    expect(after.resealed.keyId).toBe("k2");
  });

  it.effect("an unknown key id is a clear error that reveals neither key nor value", () =>
    Effect.gen(function* () {
      const box = yield* SecretBox;
      const error = yield* Effect.flip(box.open({ keyId: "gone", ciphertext: "AAAA" }));
      expect(error.reason).toBe(`secret was sealed with key "gone", which is not configured`);
    }).pipe(Effect.provide(layer(k1))),
  );

  it("rejects malformed key rings without echoing key material", () => {
    expect(() => parseKeyRing("")).toThrow("no secret keys configured");
    expect(() => parseKeyRing("k1:c2hvcnQ=")).toThrow(
      'secret key "k1" must be 32 bytes of base64 (got 5 bytes)',
    );
    expect(() => parseKeyRing("nocolon")).toThrow(/must look like/);
    expect(() => parseKeyRing(`${k1},${k1}`)).toThrow('secret key id "k1" appears twice');
    try {
      parseKeyRing("k1:c2hvcnQ=");
    } catch (error) {
      expect(String(error)).not.toContain("c2hvcnQ");
    }
  });

  it("generateKey makes a usable 32-byte key", () => {
    const ring = parseKeyRing(generateKey("fresh"));
    expect(ring.currentKeyId).toBe("fresh");
    expect(ring.keys.get("fresh")?.byteLength).toBe(32);
  });
});
