/**
 * The keys secrets are sealed with. One key is current (new secrets are
 * sealed with it); older keys stay in the ring so values sealed with them
 * can still be opened until they are re-sealed. Rotating = adding a key,
 * making it current, and later removing the old one.
 */
import { Schema } from "effect";

export const KEY_BYTES = 32;

/** `id:base64key` pairs separated by commas; the first is current. */
export const KeyRingText = Schema.String.pipe(Schema.brand("KeyRingText"));

export interface KeyRing {
  readonly currentKeyId: string;
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

export class KeyRingError extends Schema.TaggedError<KeyRingError>()("KeyRingError", {
  reason: Schema.String,
}) {
  override get message(): string {
    return this.reason;
  }
}

/**
 * Parses `FERRY_SECRET_KEYS`-style text: `k2:BASE64,k1:BASE64` (current first).
 * Each key must decode to exactly 32 bytes. Messages never include key material.
 */
export const parseKeyRing = (text: string): KeyRing => {
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.length === 0) throw new KeyRingError({ reason: "no secret keys configured" });
  const keys = new Map<string, Uint8Array>();
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(":");
    const id = colon > 0 ? entry.slice(0, colon) : "";
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id))
      throw new KeyRingError({
        reason: `secret key #${index + 1} must look like "<id>:<base64 of 32 bytes>" with an id of letters, digits, '.', '_' or '-'`,
      });
    const key = Buffer.from(entry.slice(colon + 1), "base64");
    if (key.byteLength !== KEY_BYTES)
      throw new KeyRingError({
        reason: `secret key "${id}" must be ${KEY_BYTES} bytes of base64 (got ${key.byteLength} bytes)`,
      });
    if (keys.has(id)) throw new KeyRingError({ reason: `secret key id "${id}" appears twice` });
    keys.set(id, new Uint8Array(key));
  }
  const [first] = keys.keys();
  return { currentKeyId: first ?? "", keys };
};
