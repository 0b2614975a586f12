import type { Deployment } from "@ferry/api";
import type { Command } from "commander";
import { getDeployment } from "../api.ts";
import type { Cli } from "../cli.ts";
import { usageError } from "../errors.ts";
import { followToEnd } from "../follow-to-end.ts";
import { deploymentJson } from "../format/json.ts";
import { deploymentsTable, deploymentText, statusText } from "../format/text.ts";
import { resolveProject } from "../projects.ts";
import { parseStatus, statusName } from "../status.ts";

const collect = (value: string, previous: Array<string>) => [
  ...previous,
  ...value.split(",").filter((part) => part.trim() !== ""),
];

interface ListOptions {
  readonly project: string;
  readonly env?: string;
  readonly status: Array<string>;
  readonly branch?: string;
  readonly limit: string;
  readonly pageToken?: string;
  readonly all?: boolean;
}

/** status, get, list, cancel and watch: reading and following deployments. */
export const registerDeploymentCommands = (program: Command, cli: Cli): void => {
  program
    .command("status")
    .description("show a deployment's status, error and hostnames")
    .argument("<id>", "deployment id")
    .addHelpText(
      "after",
      `\nExamples:\n  $ ferry status dep_01j9...\n  $ ferry status dep_01j9... --json | jq -r .status`,
    )
    .action(async (id: string, _options: unknown, command: Command) => {
      const deployment = await getDeployment(cli.api(command), id);
      cli.result(command, deploymentJson(deployment), () => statusText(deployment));
    });

  program
    .command("get")
    .description("show a deployment in full: source, git commit, steps, hostnames")
    .argument("<id>", "deployment id")
    .addHelpText("after", `\nExample:\n  $ ferry get dep_01j9... --json`)
    .action(async (id: string, _options: unknown, command: Command) => {
      const deployment = await getDeployment(cli.api(command), id);
      cli.result(command, deploymentJson(deployment), () => deploymentText(deployment));
    });

  program
    .command("list")
    .description("list a project's deployments, newest first")
    .requiredOption("-p, --project <project>", "project slug or id")
    .option("-e, --env <environment>", "only this environment")
    .option(
      "--status <status>",
      "only these statuses (repeat or comma-separate: ready,failed)",
      collect,
      [],
    )
    .option("--branch <branch>", "only this git branch")
    .option("--limit <n>", "deployments per page (1-200)", "20")
    .option("--page-token <token>", "continue after the page that printed this token")
    .option("--all", "every page")
    .addHelpText(
      "after",
      `
Examples:
  $ ferry list --project web
  $ ferry list --project web --env production --status ready --limit 5
  $ ferry list --project web --all --json | jq -r '.deployments[].id'`,
    )
    .action(async (options: ListOptions, command: Command) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200)
        throw usageError(`--limit must be a whole number from 1 to 200, not "${options.limit}"`);
      const statuses = options.status.map(parseStatus);
      const api = cli.api(command);
      const project = await resolveProject(api, options.project);
      const deployments: Array<Deployment> = [];
      let pageToken = options.pageToken ?? "";
      do {
        const page = await api.deployments.listDeployments({
          projectId: project.id,
          environmentSlug: options.env ?? "",
          statuses,
          branch: options.branch ?? "",
          pageSize: limit,
          pageToken,
        });
        deployments.push(...page.deployments);
        pageToken = page.nextPageToken;
      } while (options.all === true && pageToken !== "");
      cli.result(
        command,
        {
          projectId: project.id,
          project: project.slug,
          deployments: deployments.map(deploymentJson),
          nextPageToken: pageToken === "" ? null : pageToken,
        },
        () =>
          [
            deployments.length === 0 ? "No deployments." : deploymentsTable(deployments),
            ...(pageToken === "" ? [] : ["", `More: --page-token ${pageToken}`]),
          ].join("\n"),
      );
    });

  program
    .command("cancel")
    .summary("cancel a deployment")
    .description("cancel a deployment that has not finished (it never takes traffic)")
    .argument("<id>", "deployment id")
    .addHelpText("after", `\nExample:\n  $ ferry cancel dep_01j9...`)
    .action(async (id: string, _options: unknown, command: Command) => {
      const response = await cli.api(command).deployments.cancelDeployment({ deploymentId: id });
      cli.result(
        command,
        { deploymentId: id, status: statusName(response.status), changed: response.changed },
        () => (response.changed ? `Cancelled ${id}.` : `${id} was already cancelled.`),
      );
    });

  program
    .command("watch")
    .summary("follow a deployment until it ends")
    .description("follow a deployment's steps and logs until it ends; exit 0 if READY")
    .argument("<id>", "deployment id")
    .option("--no-logs", "steps and status only")
    .addHelpText(
      "after",
      `\nExamples:\n  $ ferry watch dep_01j9...\n  $ ferry watch dep_01j9... --json   # prints the final deployment`,
    )
    .action(async (id: string, options: { logs: boolean }, command: Command) => {
      await followToEnd(cli, command, cli.api(command), id, { showLogs: options.logs });
    });
};
