/** EnvironmentVariableRepository on Prisma: plain values in `value`, secrets sealed in `ciphertext` + `key_id`. */
import {
  type EnvironmentId,
  type EnvironmentVariable,
  EnvironmentVariableRepository,
  type VariableId,
  type VariableValue,
} from "@ferry/domain";
import { Effect, Layer } from "effect";
import type { EnvironmentVariable as VariableRow } from "../generated/prisma/client.ts";
import { Db, query, toDate, toMillis } from "./prisma.ts";

/** A row's value; a row breaking the secret/plain invariant is corrupt data, hence a defect. */
export const toVariableValue = (row: VariableRow): VariableValue => {
  if (row.secret) {
    if (row.ciphertext === null || row.keyId === null)
      throw new Error(`variable ${row.id} is secret but has no sealed value`);
    return { _tag: "Secret", sealed: { keyId: row.keyId, ciphertext: row.ciphertext } };
  }
  if (row.value === null) throw new Error(`variable ${row.id} is plain but has no value`);
  return { _tag: "Plain", value: row.value };
};

const toVariable = (row: VariableRow): EnvironmentVariable => ({
  id: row.id as VariableId,
  environmentId: row.environmentId as EnvironmentId,
  key: row.key,
  value: toVariableValue(row),
  createdAt: toMillis(row.createdAt),
  updatedAt: toMillis(row.updatedAt),
});

const valueColumns = (value: VariableValue) =>
  value._tag === "Plain"
    ? { secret: false, value: value.value, ciphertext: null, keyId: null }
    : { secret: true, value: null, ciphertext: value.sealed.ciphertext, keyId: value.sealed.keyId };

export const EnvironmentVariableRepositoryLive = Layer.effect(
  EnvironmentVariableRepository,
  Effect.map(Db, (db) => ({
    set: (environmentId, variables, at, removeKeys = []) =>
      query(() =>
        db.$transaction([
          db.environmentVariable.deleteMany({
            where: { environmentId, key: { in: [...removeKeys] } },
          }),
          ...variables.map((variable) =>
            db.environmentVariable.upsert({
              where: { environmentId_key: { environmentId, key: variable.key } },
              create: {
                id: variable.id,
                environmentId,
                key: variable.key,
                ...valueColumns(variable.value),
                createdAt: toDate(at),
                updatedAt: toDate(at),
              },
              update: { ...valueColumns(variable.value), updatedAt: toDate(at) },
            }),
          ),
        ]),
      ).pipe(Effect.asVoid),
    unset: (environmentId, keys) =>
      query(() =>
        db.environmentVariable.deleteMany({ where: { environmentId, key: { in: [...keys] } } }),
      ).pipe(Effect.map((result) => result.count)),
    list: (environmentId) =>
      query(() =>
        db.environmentVariable.findMany({ where: { environmentId }, orderBy: { key: "asc" } }),
      ).pipe(Effect.map((rows) => rows.map(toVariable))),
  })),
);
