/** The example as its own process (src/main.ts on this Node), its output collected. */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import path from "node:path";
import type { Readable } from "node:stream";

export interface ExampleProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** stdout and stderr so far, interleaved. */
  readonly output: () => string;
  /** The exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

/** Starts the example with exactly `env` (and PATH). */
export const startExample = (env: Readonly<Record<string, string>>): ExampleProcess => {
  const child = spawn(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", path.join(import.meta.dirname, "../src/main.ts")],
    { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString("utf8");
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { child, output: () => output, exited };
};
