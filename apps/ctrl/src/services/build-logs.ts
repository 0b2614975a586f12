/**
 * GetBuildLogs: the stored log lines of a deployment's BUILDING step, oldest first, in pages.
 *
 * Lines are the `Log` events of step BUILDING in the deployment's event log (the budget may have
 * trimmed the oldest). A page token is the seq of the last line returned, bound to the
 * deployment (opaque; see watch-deployment.ts). `complete` is read BEFORE the lines: when the
 * build had ended then, every line it wrote had committed, so an empty token really means
 * "nothing more will come".
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type * as pb from "@ferry/api";
import {
  type Deployment,
  DeploymentRepository,
  type DeploymentStep,
  EventLog,
  isTerminal,
  parseDeploymentId,
  requireDeployment,
  ValidationError,
  type WorkspaceId,
} from "@ferry/domain";
import { Effect } from "effect";
import type { Rpc } from "./rpc.ts";
import { decodePosition, encodePosition, toPbLogLine } from "./watch-deployment.ts";

export const DEFAULT_BUILD_LOG_PAGE_SIZE = 1000;
export const MAX_BUILD_LOG_PAGE_SIZE = 5000;

const BUILD_STEP = "BUILDING";

/**
 * True when no build line will be added: the deployment has no build (a prebuilt image), its
 * BUILDING step ended, it moved past building, or it ended before building.
 */
export const buildComplete = (
  deployment: Deployment,
  steps: ReadonlyArray<DeploymentStep>,
): boolean =>
  deployment.source._tag === "DockerImage" ||
  isTerminal(deployment.status) ||
  deployment.status === "DEPLOYING" ||
  deployment.status === "NETWORK" ||
  steps.some((step) => step.name === BUILD_STEP && step.status !== "RUNNING");

const badToken = () =>
  ValidationError.single("page_token", "is not a next_page_token of this deployment's build logs");

const readPage = (workspaceId: WorkspaceId, request: pb.GetBuildLogsRequest) =>
  Effect.gen(function* () {
    const id = yield* parseDeploymentId("deploymentId")(request.deploymentId);
    if (request.pageSize < 0)
      return yield* Effect.fail(
        ValidationError.single(
          "page_size",
          `must not be negative (0 means ${DEFAULT_BUILD_LOG_PAGE_SIZE}; at most ${MAX_BUILD_LOG_PAGE_SIZE})`,
        ),
      );
    const afterSeq = request.pageToken === "" ? 0n : decodePosition("l1", id, request.pageToken);
    if (afterSeq === undefined) return yield* Effect.fail(badToken());
    const deployment = yield* requireDeployment(workspaceId, id);
    const log = yield* EventLog;
    if (afterSeq > (yield* log.lastSeq(id))) return yield* Effect.fail(badToken());
    const complete = buildComplete(deployment, yield* (yield* DeploymentRepository).listSteps(id));
    const limit = Math.min(
      request.pageSize === 0 ? DEFAULT_BUILD_LOG_PAGE_SIZE : request.pageSize,
      MAX_BUILD_LOG_PAGE_SIZE,
    );
    const events = yield* log.list(id, { afterSeq, limit, kinds: ["Log"], logStep: BUILD_STEP });
    const last = events.at(-1)?.seq ?? afterSeq;
    return {
      lines: events.flatMap((event) =>
        event.body._tag === "Log" ? [toPbLogLine(event.body.line)] : [],
      ),
      // Empty only when every line has been returned and none will be added.
      nextPageToken: complete && events.length < limit ? "" : encodePosition("l1", id, last),
      complete,
    };
  });

/** The GetBuildLogs handler. */
export const getBuildLogsRpc =
  (rpc: Rpc): ServiceImpl<typeof pb.DeploymentService>["getBuildLogs"] =>
  async (request, context) =>
    await rpc.run(context, (workspaceId) => readPage(workspaceId, request));
