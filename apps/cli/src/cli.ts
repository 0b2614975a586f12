/**
 * What every command gets: the process's Io, the global options (--api-url, --api-key,
 * --json), the API clients, and one way to print a result and to set the exit code.
 *
 * A command module exports `registerXCommand(program: Command, cli: Cli): void`, declares its
 * options, and in its action calls `cli.api(command)` and `cli.result(command, json, text)`.
 * Failures are thrown (CliError, or the ConnectError of a call); `runCli` prints them (as JSON
 * on stderr with --json) and exits with their code.
 */
import type { Command } from "commander";
import { type Api, createApi } from "./api.ts";
import type { ExitCode } from "./exit-codes.ts";
import type { Io } from "./io.ts";
import { configFilePath, resolveSettings, type Settings } from "./settings.ts";

export interface GlobalOptions {
  readonly apiUrl?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly json?: boolean | undefined;
}

export interface Cli {
  readonly io: Io;
  /** The global options as given to this command (before or after its name). */
  globals(command: Command): GlobalOptions;
  /** True with --json: one JSON document on stdout, errors as JSON on stderr, no progress. */
  json(command: Command): boolean;
  /** The server and key (flags, environment, config file); a usage error when missing. */
  settings(command: Command): Settings;
  /** Clients for the configured server. */
  api(command: Command): Api;
  /** Prints the command's result: `json` as one document with --json, else `text()`. */
  result(command: Command, json: unknown, text: () => string): void;
  /** The exit code for a command that completed but whose operation did not succeed. */
  exitWith(code: ExitCode): void;
  /** The exit code set by exitWith (0 when none). */
  readonly exitCode: number;
}

export const createCli = (io: Io): Cli => {
  let exitCode = 0;
  const globals = (command: Command): GlobalOptions => command.optsWithGlobals<GlobalOptions>();
  // Settings are resolved more than once per command; each warning is printed once.
  const warned = new Set<string>();
  const warn = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    io.stderr.write(`ferry: warning: ${message}\n`);
  };
  const settings = (command: Command) => {
    const options = globals(command);
    return resolveSettings(
      { apiUrl: options.apiUrl, apiKey: options.apiKey },
      io.env,
      configFilePath(io.env),
      warn,
    );
  };
  return {
    io,
    globals,
    json: (command) => globals(command).json === true,
    settings,
    api: (command) => createApi(settings(command)),
    result: (command, json, text) => {
      if (globals(command).json === true) io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      else {
        const output = text();
        if (output !== "") io.stdout.write(output.endsWith("\n") ? output : `${output}\n`);
      }
    },
    exitWith: (code) => {
      exitCode = Math.max(exitCode, code);
    },
    get exitCode() {
      return exitCode;
    },
  };
};
