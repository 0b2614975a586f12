/**
 * `ferry`: parses the command line, runs one command, prints its result or its error, and
 * returns the exit code (see exit-codes.ts). Runs in-process for tests as well as from the bin.
 */
import { Command, CommanderError, Option } from "commander";
import packageJson from "../package.json" with { type: "json" };
import { describeApiError } from "./api.ts";
import { createCli } from "./cli.ts";
import { registerCommands } from "./commands/index.ts";
import { ExitCode } from "./exit-codes.ts";
import type { Io } from "./io.ts";

export const createProgram = (io: Io, jsonErrors: boolean): Command =>
  new Command("ferry")
    .description("Deploy applications to a Ferry server, and move production between deployments.")
    .version(packageJson.version, "-V, --version", "print ferry's version")
    .addOption(
      new Option("--api-url <url>", "the Ferry API (default: FERRY_API_URL, then `ferry login`)"),
    )
    .addOption(
      new Option("--api-key <key>", "API key (default: FERRY_API_KEY, then `ferry login`)"),
    )
    .option("--json", "print one JSON document on stdout; errors as JSON on stderr; no progress")
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError(
      jsonErrors ? false : "(ferry --help lists the commands; ferry COMMAND --help shows examples)",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // With --json, usage errors are printed as JSON by runCli instead.
      outputError: (text, write) => {
        if (!jsonErrors) write(text);
      },
    })
    .addHelpText(
      "after",
      `
Configuration: --api-url/--api-key, else FERRY_API_URL/FERRY_API_KEY, else the file written
by \`ferry login\`.

Exit codes: 0 ok; 1 the deployment ended FAILED/CANCELLED/SUPERSEDED (or a batch entry
failed); 2 usage or configuration error; 3 the API refused the request; 4 the server could
not be reached or is unavailable (retry); 130 interrupted.

Examples:
  $ ferry login --api-url http://127.0.0.1:7070
  $ ferry projects create web
  $ ferry deploy ./site --project web
  $ ferry rollback --project web`,
    );

const errorText = (message: string) => `ferry: ${message}\n`;

export const runCli = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  // Known before parsing so that even a usage error of the parser comes out as JSON.
  const json = argv.includes("--json");
  const cli = createCli(io);
  const program = createProgram(io, json);
  registerCommands(program, cli);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return cli.exitCode;
  } catch (caught) {
    if (caught instanceof CommanderError) {
      if (
        caught.code === "commander.helpDisplayed" ||
        caught.code === "commander.help" ||
        caught.code === "commander.version"
      )
        return ExitCode.Ok;
      if (json)
        io.stderr.write(
          `${JSON.stringify({ error: { code: "usage", message: caught.message.replace(/^error: /, ""), exitCode: ExitCode.Usage } })}\n`,
        );
      return ExitCode.Usage;
    }
    const error = describeApiError(caught, safeApiUrl(cli, program));
    io.stderr.write(
      json
        ? `${JSON.stringify({ error: { code: error.code, message: error.message, exitCode: error.exitCode } })}\n`
        : errorText(error.message),
    );
    return error.exitCode;
  }
};

/** The configured server for error messages, if one can be resolved; never throws. */
const safeApiUrl = (cli: ReturnType<typeof createCli>, program: Command): string | undefined => {
  try {
    return cli.settings(program).apiUrl;
  } catch {
    return undefined;
  }
};
