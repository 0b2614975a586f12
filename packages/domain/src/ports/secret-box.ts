/** Seals secret values at rest. Only the process that starts containers opens them. */
import { Context, type Effect, Schema } from "effect";
import type { SealedSecret } from "../model/variable.ts";

export class SecretBoxError extends Schema.TaggedError<SecretBoxError>()("SecretBoxError", {
  /** Never contains the secret or the key. */
  reason: Schema.String,
}) {
  override get message(): string {
    return this.reason;
  }
}

export class SecretBox extends Context.Tag("@ferry/domain/SecretBox")<
  SecretBox,
  {
    /** Seals with the current key; the result names the key so that keys can rotate. */
    readonly seal: (plaintext: string) => Effect.Effect<SealedSecret>;
    /** Fails when the key is unknown or the ciphertext was tampered with. */
    readonly open: (sealed: SealedSecret) => Effect.Effect<string, SecretBoxError>;
  }
>() {}
