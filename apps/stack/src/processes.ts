/** Child processes of the stack: started with their own environment, output prefixed, stopped in order. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  readonly stop: (graceMs?: number) => Promise<void>;
}

export interface StartChildOptions {
  readonly name: string;
  /** A .ts entry point, run on the Node that runs this launcher (24, through pnpm). */
  readonly entry: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Each output line goes here (default: stdout, prefixed with the name). */
  readonly onLine?: ((line: string) => void) | undefined;
}

export const startChild = (options: StartChildOptions): Child => {
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", options.entry], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const onLine = options.onLine ?? ((line) => process.stdout.write(`[${options.name}] ${line}\n`));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", onLine);
  }
  const exited = once(child, "exit").then(([code, signal]) => (code ?? signal) as number | string);
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    process: child,
    exited,
    stop: (graceMs = 15_000) => {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
};

/** Polls `check` until it returns a value, the child dies, or `timeoutMs` passes. */
export const waitFor = async <A>(
  what: string,
  check: () => Promise<A | undefined>,
  options: { readonly timeoutMs: number; readonly child?: Child },
): Promise<A> => {
  const deadline = Date.now() + options.timeoutMs;
  let died: number | string | undefined;
  void options.child?.exited.then((code) => {
    died = code;
  });
  for (;;) {
    if (died !== undefined)
      throw new Error(
        `${options.child?.name} exited (${died}) before ${what}; see its output above`,
      );
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};
