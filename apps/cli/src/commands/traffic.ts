import type { Command } from "commander";
import { getDeployment } from "../api.ts";
import type { Cli } from "../cli.ts";
import { CliError, usageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { fields } from "../format/text.ts";
import { resolveProject } from "../projects.ts";
import { defaultRollbackTarget } from "../rollback-target.ts";

interface SwitchResult {
  readonly liveDeploymentId: string;
  readonly previousLiveDeploymentId: string;
  readonly rolledBack: boolean;
  readonly changed: boolean;
}

const switchJson = (result: SwitchResult) => ({
  liveDeploymentId: result.liveDeploymentId,
  previousLiveDeploymentId:
    result.previousLiveDeploymentId === "" ? null : result.previousLiveDeploymentId,
  rolledBack: result.rolledBack,
  changed: result.changed,
});

const switchText = (verb: string, result: SwitchResult) =>
  [
    result.changed
      ? `${verb}: ${result.liveDeploymentId} is live.`
      : `Nothing to do: ${result.liveDeploymentId} was already live${result.rolledBack ? " and the project rolled back" : ""}.`,
    fields([
      ["live", result.liveDeploymentId],
      [
        "previous",
        result.previousLiveDeploymentId === "" ? "(none)" : result.previousLiveDeploymentId,
      ],
      ["rolled back", result.rolledBack ? "yes (new production deploys wait for promote)" : "no"],
    ]),
  ].join("\n");

/** promote and rollback: moving production traffic. */
export const registerTrafficCommands = (program: Command, cli: Cli): void => {
  program
    .command("promote")
    .summary("put a READY production deployment live")
    .description(
      "put a READY production deployment live (all live and production hostnames at once) and clear the rollback pin",
    )
    .argument("<id>", "deployment id")
    .option("--idempotency-key <key>", "a repeat with the same key returns the first result")
    .addHelpText(
      "after",
      `\nExamples:\n  $ ferry promote dep_01j9...\n  $ ferry promote dep_01j9... --json`,
    )
    .action(async (id: string, options: { idempotencyKey?: string }, command: Command) => {
      const result = await cli.api(command).deployments.promote({
        targetDeploymentId: id,
        idempotencyKey: options.idempotencyKey ?? "",
      });
      cli.result(command, switchJson(result), () => switchText("Promoted", result));
    });

  program
    .command("rollback")
    .summary("roll production back to an earlier deployment")
    .description(
      "move production back to an earlier READY production deployment (default: the one before the live one) and pin the project until the next promote",
    )
    .argument(
      "[target]",
      "deployment id to roll back to (default: the previous READY production deployment)",
    )
    .option(
      "--from <source>",
      "the live deployment to roll back from (default: the project's live deployment)",
    )
    .option(
      "-p, --project <project>",
      "project slug or id (needed when neither TARGET nor --from is given)",
    )
    .option("--idempotency-key <key>", "a repeat with the same key returns the first result")
    .addHelpText(
      "after",
      `
Examples:
  $ ferry rollback --project web                 # to the previous READY production deployment
  $ ferry rollback dep_01j9...                   # to this one
  $ ferry rollback dep_01j9... --from dep_01ja...
  $ ferry promote dep_01ja...                    # undo: put the newer one live again`,
    )
    .action(
      async (
        target: string | undefined,
        options: { from?: string; project?: string; idempotencyKey?: string },
        command: Command,
      ) => {
        const api = cli.api(command);
        const deploymentProject = async (id: string) => (await getDeployment(api, id)).projectId;
        const projectId =
          options.project !== undefined
            ? (await resolveProject(api, options.project)).id
            : target !== undefined
              ? await deploymentProject(target)
              : options.from !== undefined
                ? await deploymentProject(options.from)
                : undefined;
        if (projectId === undefined)
          throw usageError("which project? give a TARGET deployment, --from SOURCE or --project");
        const targetId = target ?? (await defaultRollbackTarget(api, projectId)).id;
        let sourceId = options.from;
        if (sourceId === undefined) {
          const { project } = await api.projects.getProject({
            key: { case: "projectId", value: projectId },
          });
          sourceId = project?.liveDeploymentId ?? "";
          // A refused precondition (exit 3), as rollback-target.ts says for the same state.
          if (sourceId === "")
            throw new CliError(
              `project ${project?.slug ?? projectId} has no live deployment, so there is nothing to roll back from`,
              ExitCode.ApiRefused,
              "failed_precondition",
            );
        }
        const result = await api.deployments.rollback({
          sourceDeploymentId: sourceId,
          targetDeploymentId: targetId,
          idempotencyKey: options.idempotencyKey ?? "",
        });
        cli.result(command, switchJson(result), () => switchText("Rolled back", result));
      },
    );
};
