/**
 * Runs the real `ferry` bin in a child process, as a user would: its own environment (no
 * FERRY_* from the test's process), a working directory, optional standard input.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const FERRY_BIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../bin/ferry.ts",
);

export interface FerryRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface FerryRunOptions {
  /** The environment besides PATH (HOME and XDG_CONFIG_HOME belong here). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Written to standard input, which is then closed; without it stdin is empty. */
  readonly input?: string;
  /** Leave standard input open with nothing written to it, as a parent process may. */
  readonly keepStdinOpen?: boolean;
  readonly timeoutMs?: number;
}

/**
 * Runs any command to its end and collects its output: `env` is its whole environment, stdin
 * gets `input` and is closed (or is left open with `keepStdinOpen`).
 */
export const runProcess = (
  command: string,
  args: ReadonlyArray<string>,
  options: Omit<FerryRunOptions, "cwd" | "env"> & {
    readonly cwd: string;
    readonly env: NodeJS.ProcessEnv;
  },
): Promise<FerryRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 180_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.keepStdinOpen === true) child.stdin.on("error", () => undefined);
    else child.stdin.end(options.input ?? "");
  });

export const runFerry = (
  args: ReadonlyArray<string>,
  options: FerryRunOptions = {},
): Promise<FerryRun> =>
  runProcess(process.execPath, ["--disable-warning=ExperimentalWarning", FERRY_BIN, ...args], {
    ...options,
    cwd: options.cwd ?? process.cwd(),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env },
  });

/** The run's stdout parsed as the one JSON document `--json` promises; the run's output on failure. */
export const parseJson = <T = Record<string, unknown>>(run: FerryRun): T => {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `ferry printed no JSON document (exit ${run.code})\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
    );
  }
};
