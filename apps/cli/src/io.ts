/**
 * What a command may touch of its process: streams, environment, working directory. Passed in
 * (not read from `process`) so that every command can run in-process as well as from the bin.
 */
import type { Environment } from "./settings.ts";

export interface OutputStream {
  write(text: string): unknown;
  /** True when the stream is a terminal. */
  readonly isTTY?: boolean | undefined;
  /** The terminal's width in columns, when it is one. */
  readonly columns?: number | undefined;
}

export interface Io {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined };
  readonly env: Environment;
  readonly cwd: string;
}

export const processIo = (): Io => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});

/** Colors and spinners only on a terminal, and never with NO_COLOR (https://no-color.org). */
export const useColor = (io: Io, stream: OutputStream): boolean =>
  stream.isTTY === true && (io.env.NO_COLOR ?? "") === "" && io.env.TERM !== "dumb";
