import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  EnvironmentVariable,
  Project,
  SetEnvironmentVariablesRequestSchema,
} from "@ferry/api";
import type { Command } from "commander";
import type { Api } from "../api.ts";
import type { Cli } from "../cli.ts";
import { usageError } from "../errors.ts";
import { variableJson } from "../format/json.ts";
import { table } from "../format/text.ts";
import { resolveProject } from "../projects.ts";
import { readSecret } from "../prompt.ts";

interface EnvOptions {
  readonly project: string;
  readonly env: string;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Shown instead of the value of a variable that was secret before this command made it plain. */
const WAS_SECRET = "(hidden: was secret)";

const variablesText = (
  variables: ReadonlyArray<EnvironmentVariable>,
  wasSecret: ReadonlySet<string> = new Set(),
) =>
  variables.length === 0
    ? "No variables."
    : table(
        ["KEY", "VALUE"],
        // A secret's value is never shown (the API never returns it either), nor that of a
        // secret just made plain: it was typed as a secret, and a terminal or CI log keeps it.
        variables.map((variable) => [
          variable.key,
          variable.secret ? "(secret)" : wasSecret.has(variable.key) ? WAS_SECRET : variable.value,
        ]),
      );

const resultJson = (
  project: { id: string; slug: string },
  environment: string,
  variables: ReadonlyArray<EnvironmentVariable>,
  wasSecret: ReadonlySet<string> = new Set(),
) => ({
  projectId: project.id,
  project: project.slug,
  environment,
  variables: variables.map((variable) =>
    !variable.secret && wasSecret.has(variable.key)
      ? { key: variable.key, secret: false, value: null }
      : variableJson(variable),
  ),
});

/**
 * One SetEnvironmentVariables call (`env set` or `env unset`), then the environment's variables
 * as they are now: `done` and the project/environment, then the table.
 */
const applyChange = async (
  cli: Cli,
  command: Command,
  api: Api,
  options: EnvOptions,
  change: Pick<
    MessageInitShape<typeof SetEnvironmentVariablesRequestSchema>,
    "variables" | "deleteKeys"
  >,
  done: string,
  known?: { readonly project: Project; readonly wasSecret: ReadonlySet<string> },
): Promise<void> => {
  const project = known?.project ?? (await resolveProject(api, options.project));
  const wasSecret = known?.wasSecret ?? new Set<string>();
  const response = await api.projects.setEnvironmentVariables({
    projectId: project.id,
    environmentSlug: options.env,
    ...change,
  });
  cli.result(command, resultJson(project, options.env, response.variables, wasSecret), () =>
    [
      `${done} ${project.slug}/${options.env}.`,
      "",
      variablesText(response.variables, wasSecret),
    ].join("\n"),
  );
};

const withScope = (command: Command) =>
  command
    .requiredOption("-p, --project <project>", "project slug or id")
    .option("-e, --env <environment>", "environment slug", "production");

export const registerEnvCommand = (program: Command, cli: Cli): void => {
  const env = program
    .command("env")
    .summary("set, unset and list environment variables")
    .description("set, unset and list an environment's variables (secret values are never shown)")
    .addHelpText(
      "after",
      `
Variables apply to deployments created after the change.

Examples:
  $ ferry env set LOG_LEVEL=debug PORT=8080 --project web
  $ printf %s "$DB_PASSWORD" | ferry env set DB_PASSWORD --secret --project web
  $ ferry env list --project web --env preview
  $ ferry env unset LOG_LEVEL --project web`,
    );

  withScope(
    env
      .command("set")
      .summary("create or replace variables")
      .description(
        "create or replace variables: KEY=VALUE, or KEY alone to read its value from standard input (typed hidden at a terminal), which keeps secrets out of shell history",
      )
      .argument("<assignments...>", "KEY=VALUE or KEY (value from standard input)")
      .option("--secret", "store the values as secrets: passed to instances, never returned")
      .option(
        "--plain",
        "store the values as plain text, even for a variable that is secret now (default: a secret stays secret)",
      )
      .addHelpText(
        "after",
        `
KEY alone: at a terminal the value is typed hidden; otherwise standard input is read to its
end (one trailing newline dropped). Empty input, or input left open with nothing arriving for
FERRY_STDIN_TIMEOUT seconds (default 10; 0 waits without limit), is exit 2.

A variable that is secret now stays secret unless --plain is given; its value is not printed
even then.

Examples:
  $ ferry env set API_URL=https://api.example.com --project web
  $ ferry env set STRIPE_KEY --secret --project web        # type the value (hidden)
  $ ferry env set STRIPE_KEY --secret --project web < key.txt`,
      ),
  ).action(
    async (
      assignments: Array<string>,
      options: EnvOptions & { secret?: boolean; plain?: boolean },
      command: Command,
    ) => {
      if (options.secret === true && options.plain === true)
        throw usageError("--secret and --plain contradict each other: give one");
      const fromStdin = assignments.filter((assignment) => !assignment.includes("="));
      if (fromStdin.length > 1)
        throw usageError(
          `only one variable can take its value from standard input; got ${fromStdin.join(", ")}`,
        );
      // KEY=VALUE, or KEY alone: its value comes from standard input.
      const given = assignments.map((assignment) => {
        const equals = assignment.indexOf("=");
        return equals === -1
          ? { key: assignment, value: undefined }
          : { key: assignment.slice(0, equals), value: assignment.slice(equals + 1) };
      });
      given.forEach(({ key }, index) => {
        if (!KEY.test(key))
          throw usageError(
            `"${key}" is not a variable name: use letters, digits and _, not starting with a digit`,
          );
        if (given.findIndex((other) => other.key === key) !== index)
          throw usageError(`${key} is given twice`);
      });
      // The server and key are checked before a value is read: nobody types a secret only to
      // learn that no server is configured.
      const api = cli.api(command);
      // What is secret now: setting it again without --secret must not make it plain (and
      // print it) by accident. This also checks the project and environment before a value is
      // typed.
      const project = await resolveProject(api, options.project);
      const current = await api.projects.listEnvironmentVariables({
        projectId: project.id,
        environmentSlug: options.env,
      });
      const secretNow = new Set(
        current.variables.filter((variable) => variable.secret).map((variable) => variable.key),
      );
      const kept = given.filter(({ key }) => secretNow.has(key) && options.plain !== true);
      if (options.secret !== true && kept.length > 0)
        cli.io.stderr.write(
          `ferry: ${kept.map(({ key }) => key).join(", ")} ${kept.length === 1 ? "is" : "are"} secret and stay${kept.length === 1 ? "s" : ""} secret (--plain stores ${kept.length === 1 ? "it" : "them"} as plain text)\n`,
        );
      const variables: Array<{ key: string; value: string; secret: boolean }> = [];
      for (const { key, value } of given)
        variables.push({
          key,
          value: value ?? (await readSecret(cli.io, `Value for ${key}: `, `value for ${key}`)),
          secret: options.secret === true || (secretNow.has(key) && options.plain !== true),
        });
      await applyChange(
        cli,
        command,
        api,
        options,
        { variables },
        `Set ${variables.map((variable) => variable.key).join(", ")} in`,
        { project, wasSecret: secretNow },
      );
    },
  );

  withScope(
    env
      .command("unset")
      .description("remove variables (a key that does not exist is ignored)")
      .argument("<keys...>", "variable names")
      .addHelpText(
        "after",
        `\nExample:\n  $ ferry env unset LOG_LEVEL DEBUG --project web --env preview`,
      ),
  ).action(async (keys: Array<string>, options: EnvOptions, command: Command) => {
    for (const key of keys) if (!KEY.test(key)) throw usageError(`"${key}" is not a variable name`);
    await applyChange(
      cli,
      command,
      cli.api(command),
      options,
      { deleteKeys: keys },
      `Removed ${keys.join(", ")} from`,
    );
  });

  withScope(
    env
      .command("list")
      .description("list variables by key; secrets show as (secret)")
      .addHelpText("after", `\nExample:\n  $ ferry env list --project web --json`),
  ).action(async (options: EnvOptions, command: Command) => {
    const api = cli.api(command);
    const project = await resolveProject(api, options.project);
    const response = await api.projects.listEnvironmentVariables({
      projectId: project.id,
      environmentSlug: options.env,
    });
    cli.result(command, resultJson(project, options.env, response.variables), () =>
      variablesText(response.variables),
    );
  });
};
