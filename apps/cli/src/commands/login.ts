import type { Command } from "commander";
import { createApi, describeApiError } from "../api.ts";
import type { Cli } from "../cli.ts";
import { usageError } from "../errors.ts";
import { readSecret } from "../prompt.ts";
import { configFilePath, normalizeApiUrl, readConfigFile, writeConfigFile } from "../settings.ts";

export const registerLoginCommand = (program: Command, cli: Cli): void => {
  program
    .command("login")
    .summary("save a server and API key for later commands")
    .description(
      "check an API key against a Ferry server and save both for later commands (the key is read from --api-key, FERRY_API_KEY, or standard input; never printed)",
    )
    .addHelpText(
      "after",
      `
The file is $XDG_CONFIG_HOME/ferry/config.json (default ~/.config/ferry/config.json), mode 0600.

Examples:
  $ ferry login --api-url http://127.0.0.1:7070          # type the key (hidden)
  $ printf %s "$KEY" | ferry login --api-url https://ferry.example.com
  $ ferry projects list                                  # no flags needed afterwards`,
    )
    .action(async (_options: unknown, command: Command) => {
      const { io } = cli;
      const globals = cli.globals(command);
      const file = configFilePath(io.env);
      const rawUrl =
        globals.apiUrl ??
        io.env.FERRY_API_URL ??
        (() => {
          try {
            return readConfigFile(file)?.apiUrl;
          } catch {
            return undefined;
          }
        })();
      if (rawUrl === undefined || rawUrl.trim() === "")
        throw usageError("which server? pass --api-url URL (for example http://127.0.0.1:7070)");
      const apiUrl = normalizeApiUrl(rawUrl.trim(), globals.apiUrl ? "--api-url" : "FERRY_API_URL");
      const apiKey = (
        globals.apiKey ??
        io.env.FERRY_API_KEY ??
        (await readSecret(io, `API key for ${apiUrl}: `, "API key"))
      ).trim();
      if (apiKey === "") throw usageError("the API key is empty");
      // One cheap authenticated call: a wrong key or URL is reported now, not on first use.
      try {
        await createApi({ apiUrl, apiKey }).projects.listProjects({ pageSize: 1 });
      } catch (error) {
        throw describeApiError(error, apiUrl);
      }
      writeConfigFile(file, { apiUrl, apiKey });
      cli.result(
        command,
        { apiUrl, configFile: file },
        () => `Logged in to ${apiUrl}; saved to ${file}`,
      );
    });
};
