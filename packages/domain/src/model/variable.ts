/** Environment variables; secret values exist only sealed outside the process that runs them. */
import { Schema } from "effect";
import { EnvironmentId, VariableId } from "../ids.ts";

/** A value sealed by the SecretBox port: the ciphertext and the id of the key that sealed it. */
export const SealedSecret = Schema.Struct({
  keyId: Schema.String,
  ciphertext: Schema.String,
});
export type SealedSecret = typeof SealedSecret.Type;

export const VariableValue = Schema.Union(
  Schema.TaggedStruct("Plain", { value: Schema.String }),
  Schema.TaggedStruct("Secret", { sealed: SealedSecret }),
);
export type VariableValue = typeof VariableValue.Type;

export const EnvironmentVariable = Schema.Struct({
  id: VariableId,
  environmentId: EnvironmentId,
  key: Schema.String,
  value: VariableValue,
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
});
export type EnvironmentVariable = typeof EnvironmentVariable.Type;
