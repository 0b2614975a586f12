/**
 * wrk (Debian's `wrk`), run as a child process, its summary parsed: requests per second and the
 * latency distribution (`--latency`).
 */
import { spawn } from "node:child_process";

export interface WrkResult {
  readonly requestsPerSecond: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly socketErrors: number;
}

export interface WrkOptions {
  readonly url: string;
  readonly host?: string;
  readonly threads: number;
  readonly connections: number;
  readonly durationSeconds: number;
}

const toMs = (value: string, unit: string): number => {
  const n = Number(value);
  if (unit === "us") return n / 1000;
  if (unit === "s") return n * 1000;
  if (unit === "m") return n * 60_000;
  return n;
};

export const parseWrk = (output: string): WrkResult => {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const latency = (label: string) => {
    const match = new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(output);
    return match ? toMs(match[1] ?? "", match[2] ?? "ms") : Number.NaN;
  };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  if (rps === null) throw new Error(`could not read wrk's output:\n${output}`);
  return {
    requestsPerSecond: Number(rps[1]),
    p50: latency("50"),
    p99: latency("99"),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0,
  };
};

export const runWrk = (options: WrkOptions): Promise<WrkResult> =>
  new Promise((resolve, reject) => {
    const args = [
      `-t${options.threads}`,
      `-c${options.connections}`,
      `-d${options.durationSeconds}s`,
      "--latency",
      ...(options.host === undefined ? [] : ["-H", `Host: ${options.host}`]),
      options.url,
    ];
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", (error) =>
      reject(
        new Error(`wrk could not start (${error.message}); install it: apt-get install -y wrk`),
      ),
    );
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`wrk exited with ${code}:\n${output}`));
      try {
        resolve(parseWrk(output));
      } catch (error) {
        reject(error);
      }
    });
  });
