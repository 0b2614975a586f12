/**
 * AES-256-GCM sealing: a fresh 96-bit random IV per value, the 128-bit tag
 * authenticating both the ciphertext and the key id (as additional data, so
 * a value cannot be relabelled to another key). Stored as base64 of
 * `iv ‖ tag ‖ ciphertext`. See docs/decisions/0005-secret-encryption.md.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { SealedSecret } from "@ferry/domain";

const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = "aes-256-gcm";

export const seal = (keyId: string, key: Uint8Array, plaintext: string): SealedSecret => {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(keyId, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return {
    keyId,
    ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64"),
  };
};

/** Throws on a wrong key, a truncated value or any tampering (GCM tag mismatch). */
export const open = (key: Uint8Array, sealed: SealedSecret): string => {
  const raw = Buffer.from(sealed.ciphertext, "base64");
  if (raw.byteLength < IV_BYTES + TAG_BYTES) throw new Error("sealed value is too short");
  const decipher = createDecipheriv(ALGORITHM, key, raw.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(sealed.keyId, "utf8"));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([
    decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
    decipher.final(),
  ]).toString("utf8");
};
