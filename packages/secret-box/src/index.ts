/** The SecretBox port over AES-256-GCM and a key ring. */
import { randomBytes } from "node:crypto";
import { SecretBox, SecretBoxError } from "@ferry/domain";
import { Effect, Layer } from "effect";
import { open, seal } from "./aes-gcm.ts";
import { type KeyRing, parseKeyRing } from "./key-ring.ts";

export { type KeyRing, KeyRingError, parseKeyRing } from "./key-ring.ts";

export const makeSecretBox = (ring: KeyRing): SecretBox["Type"] => {
  const current = ring.keys.get(ring.currentKeyId);
  if (current === undefined) throw new Error("the current secret key is not in the key ring");
  return {
    seal: (plaintext) => Effect.sync(() => seal(ring.currentKeyId, current, plaintext)),
    open: (sealed) =>
      Effect.suspend(() => {
        const key = ring.keys.get(sealed.keyId);
        if (key === undefined)
          return Effect.fail(
            new SecretBoxError({
              reason: `secret was sealed with key "${sealed.keyId}", which is not configured`,
            }),
          );
        return Effect.try({
          try: () => open(key, sealed),
          // The cause is dropped on purpose: it could carry bytes of the value.
          catch: () =>
            new SecretBoxError({
              reason: `secret sealed with key "${sealed.keyId}" could not be opened (wrong key or tampered value)`,
            }),
        });
      }),
  };
};

/** A SecretBox from key-ring text (`id:base64,...`, current key first). */
export const layer = (keyRingText: string): Layer.Layer<SecretBox> =>
  Layer.sync(SecretBox, () => makeSecretBox(parseKeyRing(keyRingText)));

/** A new random key in key-ring text form, for `ferry admin` and the embedded defaults. */
export const generateKey = (id: string): string => `${id}:${randomBytes(32).toString("base64")}`;
