/** Environment variables per environment. Secret values are stored sealed. */
import { Context, type Effect } from "effect";
import type { EnvironmentId, VariableId } from "../ids.ts";
import type { EnvironmentVariable, VariableValue } from "../model/variable.ts";

export interface VariableWrite {
  /** Used when the key is new; an existing key keeps its id. */
  readonly id: VariableId;
  readonly key: string;
  readonly value: VariableValue;
}

export class EnvironmentVariableRepository extends Context.Tag(
  "@ferry/domain/EnvironmentVariableRepository",
)<
  EnvironmentVariableRepository,
  {
    /**
     * Creates or replaces each key and removes `removeKeys`, all in one
     * transaction; other keys are left alone.
     */
    readonly set: (
      environmentId: EnvironmentId,
      variables: ReadonlyArray<VariableWrite>,
      at: number,
      removeKeys?: ReadonlyArray<string>,
    ) => Effect.Effect<void>;
    /** Removes the keys; returns how many existed. */
    readonly unset: (
      environmentId: EnvironmentId,
      keys: ReadonlyArray<string>,
    ) => Effect.Effect<number>;
    /** Ordered by key. */
    readonly list: (
      environmentId: EnvironmentId,
    ) => Effect.Effect<ReadonlyArray<EnvironmentVariable>>;
  }
>() {}
