/**
 * The secret that signs local upload URLs, derived from the current key of the secret key ring
 * (HKDF-SHA256 with its own label, so it reveals nothing about the key that seals secrets).
 * Derived rather than generated: every ctrl sharing a key ring (FERRY_SECRET_KEYS, required
 * with PostgreSQL) verifies the URLs the others sign, with no other secret to distribute.
 * Rotating the key ring's current key ends the upload URLs in flight (they live minutes).
 */
import { hkdfSync } from "node:crypto";
import { parseKeyRing } from "@ferry/secret-box";

const LABEL = "ferry/upload-url-signing/v1";

export const uploadSigningSecret = (keyRingText: string): Uint8Array => {
  const ring = parseKeyRing(keyRingText);
  const current = ring.keys.get(ring.currentKeyId);
  if (current === undefined) throw new Error("the current secret key is not in the key ring");
  return new Uint8Array(hkdfSync("sha256", current, new Uint8Array(0), LABEL, 32));
};
