/** The CreateDeployment request as the domain accepts it: every rule of the API contract. */
import { type Effect, Schema } from "effect";
import type { ValidationError } from "../errors.ts";
import { ProjectId } from "../ids.ts";
import { buildContextPathProblem } from "./build-context-path.ts";
import { decodeRequest } from "./decode.ts";
import { Slug } from "./dns-label.ts";
import { DockerImageReference } from "./docker-image.ts";
import { DockerfilePath } from "./dockerfile-path.ts";
import { gitCommitInput, withoutZeroValues } from "./git-commit.ts";
import { IdempotencyKey } from "./idempotency-key.ts";
import { regionsInput } from "./regions.ts";

export interface CreateDeploymentRules {
  /** Server time, Unix ms: commit timestamps are judged against it. */
  readonly now: number;
  readonly availableRegions: ReadonlyArray<string>;
}

const sourceInput = Schema.Union(
  Schema.TaggedStruct("DockerImage", { image: DockerImageReference }),
  Schema.TaggedStruct("BuildContext", {
    buildContextPath: Schema.String,
    dockerfilePath: Schema.optionalWith(DockerfilePath, { default: () => "Dockerfile" }),
  }),
);

const required = <A, I>(schema: Schema.Schema<A, I, never>, message: string) =>
  Schema.propertySignature(schema).annotations({ missingMessage: () => message });

export const createDeploymentFields = (rules: CreateDeploymentRules) =>
  Schema.Struct({
    projectId: required(ProjectId, "is required"),
    environmentSlug: required(Slug, "is required (e.g. production or preview)"),
    source: required(sourceInput, "is required: set docker_image or build_context"),
    gitCommit: Schema.optional(gitCommitInput(rules.now)),
    regions: Schema.optionalWith(regionsInput(rules.availableRegions), {
      default: () => [...rules.availableRegions],
    }),
    idempotencyKey: Schema.optional(IdempotencyKey),
  });
export const createDeploymentInput = (rules: CreateDeploymentRules) =>
  createDeploymentFields(rules).pipe(
    // The build context must belong to the project being deployed.
    Schema.filter((request) => {
      if (request.source._tag !== "BuildContext") return true;
      const problem = buildContextPathProblem(request.projectId, request.source.buildContextPath);
      return problem === undefined
        ? true
        : { path: ["source", "buildContextPath"], message: problem };
    }),
  );

export type CreateDeploymentInput = Schema.Schema.Type<ReturnType<typeof createDeploymentInput>>;

/** Reads proto3 zero values ("" / 0 / empty message) as "not given". */
const normalize = (input: unknown): unknown => {
  if (typeof input !== "object" || input === null) return input;
  const record = withoutZeroValues(input as Record<string, unknown>);
  const git = record.gitCommit;
  if (typeof git === "object" && git !== null) {
    const cleaned = withoutZeroValues(git as Record<string, unknown>);
    // protobuf int64 arrives as a bigint; the rules judge it as a number (beyond 2^53 it is
    // far in the future and refused anyway).
    if (typeof cleaned.timestamp === "bigint") cleaned.timestamp = Number(cleaned.timestamp);
    if (Object.keys(cleaned).length === 0) delete record.gitCommit;
    else record.gitCommit = cleaned;
  }
  return record;
};

export const validateCreateDeployment = (
  input: unknown,
  rules: CreateDeploymentRules,
): Effect.Effect<CreateDeploymentInput, ValidationError> =>
  decodeRequest(createDeploymentInput(rules))(normalize(input));
