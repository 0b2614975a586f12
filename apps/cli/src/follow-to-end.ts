/**
 * Shared by `deploy` and `watch`: follows a deployment with the progress display, prints the
 * final deployment as the command's result, and fails with the server's message (exit 1) when
 * it did not end READY. Ctrl-C stops following, not the deployment.
 */
import { DeploymentStatus } from "@ferry/api";
import type { Command } from "commander";
import type { Api } from "./api.ts";
import type { Cli } from "./cli.ts";
import { followDeployment } from "./deploy/follow.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { deploymentJson } from "./format/json.ts";
import { createProgress } from "./format/progress.ts";
import { statusText } from "./format/text.ts";
import { statusName, statusWithMessage } from "./status.ts";

export const followToEnd = async (
  cli: Cli,
  command: Command,
  api: Api,
  deploymentId: string,
  options: { readonly showLogs?: boolean } = {},
): Promise<void> => {
  const progress = createProgress(cli.io, {
    json: cli.json(command),
    showLogs: options.showLogs ?? true,
  });
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once("SIGINT", onSigint);
  let deployment: Awaited<ReturnType<typeof followDeployment>>;
  try {
    deployment = await followDeployment(api, deploymentId, progress.onEvent, {
      excludeLogs: options.showLogs === false || cli.json(command),
      signal: interrupt.signal,
    });
  } catch (error) {
    if (interrupt.signal.aborted)
      throw new CliError(
        `stopped following ${deploymentId}; the deployment goes on (ferry watch ${deploymentId})`,
        ExitCode.Interrupted,
        "interrupted",
      );
    throw error;
  } finally {
    progress.stop();
    process.removeListener("SIGINT", onSigint);
  }
  cli.result(command, deploymentJson(deployment), () => statusText(deployment));
  if (deployment.status !== DeploymentStatus.READY)
    throw new CliError(
      `deployment ${deployment.id} ended ${statusWithMessage(deployment.status, deployment.errorMessage)}`,
      ExitCode.OperationFailed,
      `deployment_${statusName(deployment.status).toLowerCase()}`,
    );
};
