/**
 * Operator commands, run against ctrl's database (the same configuration as
 * ctrl: DATABASE_URL, or the embedded PGlite in FERRY_DATA_DIR; while ctrl
 * runs the embedded stack, through the URL it publishes in the data directory).
 *
 *   pnpm --filter @ferry/ctrl admin create-workspace --name "Acme" --slug acme
 *   pnpm --filter @ferry/ctrl admin create-key --workspace acme [--name ci]
 *   pnpm --filter @ferry/ctrl admin generate-secret-key [--id k2]
 *
 * A new API key's token is printed once, on stdout; only its SHA-256 is stored.
 */
import { parseArgs } from "node:util";
import { type Database, openDatabase } from "@ferry/db";
import { NotFound, WorkspaceRepository } from "@ferry/domain";
import { generateKey } from "@ferry/secret-box";
import { Cause, Effect, Exit, Option } from "effect";
import { createWorkspace, issueApiKey } from "./auth.ts";
import { wireBuildStorage } from "./build-storage.ts";
import { ConfigError, type CtrlConfig, type Env, loadConfig } from "./config.ts";
import { embeddedSecretKeys, readDatabaseUrl } from "./data-dir.ts";
import { makeLog } from "./log.ts";
import {
  type CtrlRuntime,
  type CtrlServices,
  liveLayer,
  makeRuntime,
  unavailableWorkflowEngine,
} from "./runtime.ts";
import { uploadSigningSecret } from "./upload-signing.ts";

const USAGE = `usage:
  admin create-workspace --name NAME --slug SLUG   create a workspace and print its first API key
  admin create-key --workspace SLUG [--name NAME]  print a new API key of a workspace
  admin generate-secret-key [--id ID]              print a new FERRY_SECRET_KEYS entry`;

/** A wrong command line: the message and the usage. */
class UsageError extends Error {}
/** The command was understood and refused (a taken slug, an unknown workspace): the message. */
class CommandError extends Error {}

/** The database, also while ctrl holds the embedded one (then through its socket). */
async function openCtrlDatabase(config: CtrlConfig): Promise<Database> {
  try {
    return await openDatabase(config.database, { migrate: true });
  } catch (error) {
    const url = config.database.kind === "pglite" ? readDatabaseUrl(config.dataDir) : undefined;
    if (url === undefined) throw error;
    return await openDatabase({ kind: "postgres", url }, { poolSize: 1 });
  }
}

async function withRuntime<A>(
  config: CtrlConfig,
  use: (runtime: CtrlRuntime) => Promise<A>,
): Promise<A> {
  const db = await openCtrlDatabase(config);
  const log = makeLog((line) => process.stderr.write(`${line}\n`));
  const secretKeys = config.secretKeys ?? embeddedSecretKeys(config.dataDir).keys;
  const runtime = makeRuntime(
    liveLayer({
      prisma: db.prisma,
      platform: { apexDomain: config.apexDomain, availableRegions: config.regions },
      secretKeys,
      // Admin commands hand out no upload URL: the storage is there because the runtime has it.
      buildStorage: wireBuildStorage(config.buildStorage, {
        publicBaseUrl: () => config.publicUrl ?? "",
        signingSecret: uploadSigningSecret(secretKeys),
        log,
      }).layer,
      buildContextLimits: config.buildContextLimits,
      workflowEngine: unavailableWorkflowEngine("admin commands start no workflow"),
    }),
    log,
  );
  try {
    return await use(runtime);
  } finally {
    await runtime.dispose();
    await db.close();
  }
}

/** Runs an admin Effect; its expected failure becomes the command's error message. */
async function runOrFail<A, E extends { readonly message: string }>(
  runtime: CtrlRuntime,
  effect: Effect.Effect<A, E, CtrlServices>,
): Promise<A> {
  const exit = await runtime.runPromiseExit(effect);
  if (Exit.isSuccess(exit)) return exit.value;
  const failure = Cause.failureOption(exit.cause);
  throw Option.isSome(failure) ? new CommandError(failure.value.message) : Cause.squash(exit.cause);
}

export interface AdminIo {
  readonly env?: Env;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

async function command(argv: ReadonlyArray<string>, io: AdminIo): Promise<void> {
  const [name, ...rest] = argv;
  const { values } = parseArgs({
    args: [...rest],
    options: {
      name: { type: "string" },
      slug: { type: "string" },
      workspace: { type: "string" },
      id: { type: "string" },
    },
    strict: true,
  });
  const config = () => loadConfig(io.env === undefined ? {} : { env: io.env });

  switch (name) {
    case "generate-secret-key": {
      io.stdout(`${generateKey(values.id ?? `k${Date.now().toString(36)}`)}\n`);
      return;
    }
    case "create-workspace": {
      if (values.name === undefined || values.slug === undefined)
        throw new UsageError("create-workspace needs --name and --slug");
      const input = { name: values.name, slug: values.slug };
      const { workspace, key } = await withRuntime(config(), (runtime) =>
        runOrFail(
          runtime,
          Effect.gen(function* () {
            const workspace = yield* createWorkspace(input);
            const key = yield* issueApiKey(workspace.id, "created with the workspace");
            return { workspace, key };
          }),
        ),
      );
      io.stderr(
        `created workspace ${workspace.slug} (${workspace.id}). Its API key, shown only this once:\n`,
      );
      io.stdout(`${key.token}\n`);
      return;
    }
    case "create-key": {
      if (values.workspace === undefined) throw new UsageError("create-key needs --workspace SLUG");
      const slug = values.workspace;
      const keyName = values.name ?? "created by admin";
      const key = await withRuntime(config(), (runtime) =>
        runOrFail(
          runtime,
          Effect.gen(function* () {
            const workspace = yield* (yield* WorkspaceRepository).findBySlug(slug);
            if (Option.isNone(workspace))
              return yield* Effect.fail(new NotFound({ resource: "workspace", id: slug }));
            return yield* issueApiKey(workspace.value.id, keyName);
          }),
        ),
      );
      io.stderr(`new API key of workspace ${slug}, shown only this once:\n`);
      io.stdout(`${key.token}\n`);
      return;
    }
    default:
      throw new UsageError(name === undefined ? "no command given" : `unknown command "${name}"`);
  }
}

/** Runs an admin command; resolves to the process exit code (0 done, 2 refused, 1 failed). */
export async function runAdmin(argv: ReadonlyArray<string>, io: AdminIo): Promise<number> {
  try {
    await command(argv, io);
    return 0;
  } catch (error) {
    // parseArgs throws a TypeError with a code (ERR_PARSE_ARGS_...) for an unknown or bad option.
    const badOption = error instanceof TypeError && "code" in error;
    if (
      error instanceof UsageError ||
      error instanceof CommandError ||
      error instanceof ConfigError ||
      badOption
    ) {
      const usage = error instanceof UsageError || badOption ? `${USAGE}\n` : "";
      io.stderr(`admin: ${error.message}\n${usage}`);
      return 2;
    }
    io.stderr(
      `admin: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

if (import.meta.main) {
  const code = await runAdmin(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
  process.exitCode = code;
}
