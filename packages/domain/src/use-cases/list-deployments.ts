/** ListDeployments: a project's deployments, newest first, filtered and paginated. */
import { Effect, Schema } from "effect";
import { type NotFound, ValidationError } from "../errors.ts";
import { DeploymentId, type WorkspaceId } from "../ids.ts";
import { type Deployment, DeploymentStatus } from "../model/deployment.ts";
import { DeploymentRepository } from "../ports/deployments.ts";
import type { EnvironmentRepository, ProjectRepository } from "../ports/projects.ts";
import { decodeRequest } from "../validation/decode.ts";
import { Slug } from "../validation/dns-label.ts";
import { BranchName } from "../validation/git-commit.ts";
import { parseProjectId, requireEnvironmentBySlug, requireProject } from "./lookups.ts";
import { decodePageToken, encodePageToken } from "./page-token.ts";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** One violation per unknown status (the bare literal union reports one per accepted literal). */
const StatusFilter = DeploymentStatus.annotations({
  message: (issue) => ({
    message: `"${String(issue.actual)}" is not a deployment status; must be one of ${DeploymentStatus.literals.join(", ")}`,
    override: true,
  }),
});

const ListRequest = Schema.Struct({
  projectId: Schema.String,
  environmentSlug: Schema.optional(Slug),
  statuses: Schema.optionalWith(Schema.Array(StatusFilter), { default: () => [] }),
  branch: Schema.optional(BranchName),
  pageSize: Schema.optionalWith(
    Schema.Number.pipe(
      Schema.filter(
        (n) =>
          (Number.isInteger(n) && n >= 0 && n <= MAX_PAGE_SIZE) ||
          `must be an integer from 1 to ${MAX_PAGE_SIZE} (0 means ${DEFAULT_PAGE_SIZE})`,
      ),
    ),
    { default: () => 0 },
  ),
  pageToken: Schema.optionalWith(Schema.String, { default: () => "" }),
});

export interface ListDeploymentsRequest {
  readonly projectId: string;
  readonly environmentSlug?: string;
  readonly statuses?: ReadonlyArray<string>;
  /** Only deployments of this git branch (empty: every branch). */
  readonly branch?: string;
  readonly pageSize?: number;
  readonly pageToken?: string;
}

export interface DeploymentPage {
  readonly deployments: ReadonlyArray<Deployment>;
  /** Empty when there is no further page. */
  readonly nextPageToken: string;
}

export const listDeployments = (
  workspaceId: WorkspaceId,
  request: ListDeploymentsRequest,
): Effect.Effect<
  DeploymentPage,
  ValidationError | NotFound,
  DeploymentRepository | ProjectRepository | EnvironmentRepository
> =>
  Effect.gen(function* () {
    const input = yield* decodeRequest(ListRequest)({
      ...request,
      ...(request.environmentSlug === "" ? { environmentSlug: undefined } : {}),
      ...(request.branch === "" ? { branch: undefined } : {}),
    });
    const projectId = yield* parseProjectId("projectId")(input.projectId);
    let beforeId: DeploymentId | undefined;
    if (input.pageToken !== "") {
      const decoded = decodePageToken(input.pageToken);
      if (decoded === undefined || !Schema.is(DeploymentId)(decoded))
        return yield* Effect.fail(
          ValidationError.single("page_token", "is not a token returned by ListDeployments"),
        );
      beforeId = decoded;
    }
    const project = yield* requireProject(workspaceId, projectId);
    const environment =
      input.environmentSlug === undefined
        ? undefined
        : yield* requireEnvironmentBySlug(project.id, input.environmentSlug);
    const limit = input.pageSize === 0 ? DEFAULT_PAGE_SIZE : input.pageSize;
    // One extra row tells whether another page exists without a count query.
    const rows = yield* (yield* DeploymentRepository).list({
      workspaceId,
      projectId: project.id,
      ...(environment === undefined ? {} : { environmentId: environment.id }),
      statuses: input.statuses,
      ...(input.branch === undefined ? {} : { branch: input.branch }),
      limit: limit + 1,
      ...(beforeId === undefined ? {} : { beforeId }),
    });
    const deployments = rows.slice(0, limit);
    const last = deployments.at(-1);
    return {
      deployments,
      nextPageToken: rows.length > limit && last !== undefined ? encodePageToken(last.id) : "",
    };
  });
