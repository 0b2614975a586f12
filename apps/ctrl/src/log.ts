/**
 * Structured logs: one JSON object per line, on stdout (or any sink a test
 * gives). Callers pass fields they chose, never a request's headers or body:
 * logging those is how tokens and secret values end up in log stores.
 */
import { effectLogger as effectLoggerTo } from "@ferry/deployment-service";
import type { Logger } from "effect";

export type LogFields = Readonly<Record<string, unknown>>;

export interface Log {
  readonly info: (message: string, fields?: LogFields) => void;
  readonly warn: (message: string, fields?: LogFields) => void;
  readonly error: (message: string, fields?: LogFields) => void;
}

export type LogSink = (line: string) => void;

const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/** Errors serialize to their name, message and stack (JSON.stringify drops them otherwise). */
const replacer = (_key: string, value: unknown): unknown => {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error)
    return { name: value.name, message: value.message, stack: value.stack };
  return value;
};

export const makeLog = (sink: LogSink = stdoutSink, clock: () => Date = () => new Date()): Log => {
  const write =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      sink(
        JSON.stringify({ time: clock().toISOString(), level, msg: message, ...fields }, replacer),
      );
  return { info: write("info"), warn: write("warn"), error: write("error") };
};

/** A log that keeps its lines in memory, for tests. */
export const memoryLog = (): Log & {
  readonly lines: () => ReadonlyArray<Record<string, unknown>>;
} => {
  const lines: Array<string> = [];
  const log = makeLog((line) => lines.push(line));
  return { ...log, lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
};

/**
 * Effect's logger writing into a Log, so that `Effect.log*` inside the use
 * cases (with their annotations, such as the request id) land in the same
 * JSON stream as the request logs.
 */
export const effectLogger = (log: Log): Logger.Logger<unknown, void> =>
  effectLoggerTo(({ level, message, fields }) => log[level](message, fields));
