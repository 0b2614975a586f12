import { generateKey, parseKeyRing } from "@ferry/secret-box";
import { describe, expect, it } from "vitest";
import { uploadSigningSecret } from "../src/upload-signing.ts";

describe("uploadSigningSecret", () => {
  it("is the same for every ctrl holding the ring, and follows its current key", () => {
    const k1 = generateKey("k1");
    const k2 = generateKey("k2");
    const secret = uploadSigningSecret(`${k1},${k2}`);
    expect(secret).toHaveLength(32);
    expect(uploadSigningSecret(`${k1}, ${k2}`)).toEqual(secret);
    // Rotation: a new current key signs with a new secret.
    expect(uploadSigningSecret(`${k2},${k1}`)).not.toEqual(secret);
  });

  it("is not the key that seals secrets", () => {
    const ring = generateKey("k1");
    const key = parseKeyRing(ring).keys.get("k1");
    expect(uploadSigningSecret(ring)).not.toEqual(key);
  });
});
