/** Shared helpers for the domain's unit tests: run a decoder and read its outcome synchronously. */
import { Effect, Either, type Schema } from "effect";
import { expect } from "vitest";
import type { Violation } from "../src/errors.ts";
import { ValidationError } from "../src/errors.ts";
import {
  type CreateDeploymentRules,
  decodeRequest,
  validateCreateDeployment,
} from "../src/validation/index.ts";

/** A valid project id (prj_ + 26 lowercase Crockford characters). */
export const PROJECT_ID = "prj_01jdz8x4m3q7r2v5w9y0abcdef";
export const OTHER_PROJECT_ID = "prj_01jdz8x4m3q7r2v5w9y0zzzzzz";

/** 2025-11-24T16:00:00.000Z, as the server's clock in create-deployment rules. */
export const NOW = 1_764_000_000_000;
export const HOUR_MS = 60 * 60 * 1000;
export const REGIONS = ["eu-west", "us-east", "ap-south"] as const;
export const RULES: CreateDeploymentRules = { now: NOW, availableRegions: REGIONS };

/** The smallest valid CreateDeployment request (a prebuilt image). */
export const minimalRequest = (): Record<string, unknown> => ({
  projectId: PROJECT_ID,
  environmentSlug: "production",
  source: { _tag: "DockerImage", image: "busybox" },
});

const settle = <A>(effect: Effect.Effect<A, ValidationError>): Either.Either<A, ValidationError> =>
  Effect.runSync(Effect.either(effect));

const successOf = <A>(result: Either.Either<A, ValidationError>): A => {
  if (Either.isLeft(result)) {
    throw new Error(`expected success, got ValidationError: ${result.left.message}`);
  }
  return result.right;
};

const violationsOfResult = <A>(result: Either.Either<A, ValidationError>): Array<Violation> => {
  if (Either.isRight(result)) {
    throw new Error(`expected a ValidationError, got success: ${JSON.stringify(result.right)}`);
  }
  expect(result.left).toBeInstanceOf(ValidationError);
  expect(result.left._tag).toBe("ValidationError");
  return [...result.left.violations];
};

/** Decodes `input` with `schema` through decodeRequest; throws unless it succeeds. */
export const decodeOk = <S extends Schema.Schema.AnyNoContext>(
  schema: S,
  input: unknown,
): Schema.Schema.Type<S> => successOf(settle(decodeRequest(schema)(input)));

/** Decodes `input` with `schema` through decodeRequest; throws unless it fails, returns the violations. */
export const decodeViolations = <S extends Schema.Schema.AnyNoContext>(
  schema: S,
  input: unknown,
): Array<Violation> => violationsOfResult(settle(decodeRequest(schema)(input)));

export const validateOk = (input: unknown, rules: CreateDeploymentRules = RULES) =>
  successOf(settle(validateCreateDeployment(input, rules)));

export const validateViolations = (
  input: unknown,
  rules: CreateDeploymentRules = RULES,
): Array<Violation> => violationsOfResult(settle(validateCreateDeployment(input, rules)));

/** The CreateDeployment request with `gitCommit` set to `gitCommit`. */
export const withGitCommit = (gitCommit: Record<string, unknown>): Record<string, unknown> => ({
  ...minimalRequest(),
  gitCommit,
});

/** UTF-8 bytes by the host's encoder (the reference the domain's arithmetic must match). */
const { TextEncoder: HostTextEncoder } = globalThis as unknown as {
  TextEncoder: new () => { encode(input: string): Uint8Array };
};
const encoder = new HostTextEncoder();
export const hostUtf8Bytes = (value: string): Uint8Array => encoder.encode(value);
export const hostUtf8Length = (value: string): number => encoder.encode(value).length;
