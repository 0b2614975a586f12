/**
 * The default target of `ferry rollback`: the READY production deployment that came before the
 * project's live one (newest first, the first READY one older than live). Rolling back again
 * walks one further back.
 */
import { type Deployment, DeploymentStatus } from "@ferry/api";
import type { Api } from "./api.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

const refused = (message: string) =>
  new CliError(message, ExitCode.ApiRefused, "failed_precondition");

export const defaultRollbackTarget = async (api: Api, projectId: string): Promise<Deployment> => {
  const { project } = await api.projects.getProject({
    key: { case: "projectId", value: projectId },
  });
  const liveId = project?.liveDeploymentId ?? "";
  if (liveId === "")
    throw refused(
      `project ${project?.slug ?? projectId} has no live deployment, so there is nothing to roll back`,
    );
  let pageToken = "";
  let seenLive = false;
  do {
    const page = await api.deployments.listDeployments({
      projectId,
      environmentSlug: "production",
      statuses: [DeploymentStatus.READY],
      pageSize: 200,
      pageToken,
    });
    for (const deployment of page.deployments) {
      if (deployment.id === liveId) seenLive = true;
      else if (seenLive) return deployment;
    }
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  throw refused(
    `project ${project?.slug ?? projectId} has no READY production deployment older than the live one (${liveId}) to roll back to`,
  );
};
