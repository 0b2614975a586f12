import type { LogLine } from "@ferry/api";
import type { Command } from "commander";
import type { Cli } from "../cli.ts";
import { followDeployment } from "../deploy/follow.ts";
import { logLineJson } from "../format/json.ts";

const lineText = (line: LogLine) =>
  `${line.step === "BUILDING" ? "" : `${line.step.toLowerCase()}${line.region === "" ? "" : `/${line.region}`} | `}${line.text}`;

export const registerLogsCommand = (program: Command, cli: Cli): void => {
  program
    .command("logs")
    .summary("print a deployment's build output")
    .description(
      "print a deployment's build output (all of it so far); --follow streams every new log line (build, instances, Ferry) until the deployment ends",
    )
    .argument("<id>", "deployment id")
    .option("-f, --follow", "keep printing new lines until the deployment ends")
    .addHelpText(
      "after",
      `\nExamples:\n  $ ferry logs dep_01j9...\n  $ ferry logs dep_01j9... --follow\n  $ ferry logs dep_01j9... --json | jq -r '.lines[].text'`,
    )
    .action(async (id: string, options: { follow?: boolean }, command: Command) => {
      const api = cli.api(command);
      const json = cli.json(command);
      const lines: Array<LogLine> = [];
      const emit = (line: LogLine) => {
        if (json) lines.push(line);
        else cli.io.stdout.write(`${lineText(line)}\n`);
      };
      if (options.follow === true) {
        await followDeployment(api, id, (event) => {
          if (event.event.case === "log") emit(event.event.value);
        });
        if (json)
          cli.result(
            command,
            { deploymentId: id, complete: true, lines: lines.map(logLineJson) },
            () => "",
          );
        return;
      }
      let pageToken = "";
      let complete = false;
      for (;;) {
        const page = await api.deployments.getBuildLogs({
          deploymentId: id,
          pageSize: 5000,
          pageToken,
        });
        for (const line of page.lines) emit(line);
        complete = page.complete;
        // An empty token: every line was returned. No lines while the build runs: the end so far.
        if (page.nextPageToken === "" || page.lines.length === 0) break;
        pageToken = page.nextPageToken;
      }
      if (json)
        cli.result(
          command,
          { deploymentId: id, complete, lines: lines.map(logLineJson) },
          () => "",
        );
      else if (!complete)
        cli.io.stderr.write(`(the build is still running: ferry logs ${id} --follow)\n`);
    });
};
