/**
 * Reading a secret (an API key, a secret variable's value) without it landing in shell
 * history: typed at a terminal without echo, or piped in (`... | ferry env set KEY --secret`,
 * `< file`).
 *
 * Standard input that is not a terminal is read to its end, but never forever: when nothing
 * arrives for FERRY_STDIN_TIMEOUT seconds (a pipe its writer left open, as a CI runner or a
 * parent process may), the command fails and says how to pass the value.
 */
import { usageError } from "./errors.ts";
import type { Io } from "./io.ts";
import { stdinTimeoutMs } from "./settings.ts";

const HOW =
  'pipe it in (printf %s "$VALUE" | ferry ...) or redirect a file (< FILE), or run ferry at a terminal to type it hidden';

const readHidden = (io: Io, prompt: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const stdin = io.stdin as NodeJS.ReadStream;
    io.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    let value = "";
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener("data", onData);
      io.stderr.write("\n");
      if (error === undefined) resolve(value);
      else reject(error);
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        // Enter, or Ctrl-D as a terminal's end of input.
        if (character === "\r" || character === "\n" || character === "\u0004") return done();
        if (character === "\u0003") return done(usageError("cancelled"));
        if (character === "\u007f" || character === "\b") value = value.slice(0, -1);
        else value += character;
      }
    };
    stdin.on("data", onData);
  });

/** Everything up to the end of the stream; fails once it stays silent for `timeoutMs`. */
const readPiped = (io: Io, what: string, timeoutMs: number | undefined): Promise<string> =>
  new Promise((resolve, reject) => {
    const stream = io.stdin;
    const chunks: Array<Buffer> = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: Error | undefined) => {
      clearTimeout(timer);
      stream.removeListener("data", onData);
      stream.removeListener("end", onEnd);
      stream.removeListener("error", onError);
      // A paused stdin no longer keeps the process alive, so it can exit with its error.
      stream.pause();
      if (error === undefined) resolve(Buffer.concat(chunks).toString("utf8"));
      else reject(error);
    };
    const onSilence = () => {
      const seconds = (timeoutMs ?? 0) / 1000;
      finish(
        usageError(
          chunks.length === 0
            ? `no ${what} on standard input: it is not a terminal, and nothing arrived in ${seconds} s while it stayed open; ${HOW} (FERRY_STDIN_TIMEOUT=SECONDS waits longer)`
            : `standard input was not closed after the ${what} (nothing more arrived in ${seconds} s): close it after writing the value, for example printf %s "$VALUE" | ferry ...`,
        ),
      );
    };
    const arm = () => {
      clearTimeout(timer);
      if (timeoutMs !== undefined) timer = setTimeout(onSilence, timeoutMs);
    };
    const onData = (chunk: Buffer | string) => {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      arm();
    };
    const onEnd = () => finish(undefined);
    const onError = (error: Error) => finish(error);
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", onError);
    stream.resume();
    arm();
  });

/**
 * The secret typed at the terminal (hidden), or everything piped to stdin with one trailing
 * newline removed (so `echo value |` and files ending in a newline give the value itself).
 */
export const readSecret = async (io: Io, prompt: string, what: string): Promise<string> => {
  const value =
    io.stdin.isTTY === true
      ? await readHidden(io, prompt)
      : (await readPiped(io, what, stdinTimeoutMs(io.env))).replace(/\r?\n$/, "");
  if (value === "")
    throw usageError(
      io.stdin.isTTY === true
        ? `no ${what} typed`
        : `no ${what} on standard input (it is empty or closed): ${HOW}`,
    );
  return value;
};
