/**
 * Structured logs: one JSON object per line on stdout (stderr for warn and
 * error). Callers pass ids and outcomes, never environment values or keys;
 * errors are reduced to their name and message.
 */
import type { LoggerTransport, LogMetadata } from "@restatedev/restate-sdk";

export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly debug: (message: string, fields?: LogFields) => void;
  readonly info: (message: string, fields?: LogFields) => void;
  readonly warn: (message: string, fields?: LogFields) => void;
  readonly error: (message: string, fields?: LogFields) => void;
  /** A logger that adds `fields` to every line. */
  readonly with: (fields: LogFields) => Logger;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; default: stdout/stderr. */
  readonly write?: (level: LogLevel, line: string) => void;
}

const defaultWrite = (level: LogLevel, line: string) => {
  (level === "warn" || level === "error" ? process.stderr : process.stdout).write(`${line}\n`);
};

/** An error as a log field: name and message (stack only at debug level). */
export const errorFields = (error: unknown): LogFields => {
  if (error instanceof Error) return { error: { name: error.name, message: error.message } };
  return { error: { message: String(error) } };
};

const safeJson = (value: unknown): string => {
  try {
    return JSON.stringify(value, (_key, v) => {
      if (v instanceof Error) return { name: v.name, message: v.message };
      if (typeof v === "bigint") return v.toString();
      return v;
    });
  } catch {
    return JSON.stringify({ message: "unserializable log line" });
  }
};

export const makeLogger = (options: LoggerOptions, base: LogFields = {}): Logger => {
  const write = options.write ?? defaultWrite;
  const min = RANK[options.level];
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    write(
      level,
      safeJson({
        time: new Date().toISOString(),
        level,
        service: "hydra",
        message,
        ...base,
        ...fields,
      }),
    );
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => makeLogger(options, { ...base, ...fields }),
  };
};

const sdkLevel = (level: string): LogLevel => {
  switch (level) {
    case "trace":
    case "debug":
      return "debug";
    case "warn":
      return "warn";
    case "error":
      return "error";
    default:
      return "info";
  }
};

/**
 * The Restate SDK's log transport, writing through `logger`: each line carries
 * the invocation id and target; lines logged while replaying are dropped (they
 * were written by an earlier attempt).
 */
export const restateLogTransport =
  (logger: Logger): LoggerTransport =>
  (meta: LogMetadata, message?: unknown, ...rest: unknown[]) => {
    if (meta.replaying) return;
    const parts = [message, ...rest];
    const text = parts
      .filter((p) => !(p instanceof Error))
      .map((p) => (typeof p === "string" ? p : safeJson(p)))
      .join(" ")
      .trim();
    const error = parts.find((p): p is Error => p instanceof Error);
    const fields: Record<string, unknown> = { source: `restate.${meta.source.toLowerCase()}` };
    if (meta.context !== undefined) {
      fields.invocationId = meta.context.invocationId;
      fields.target = meta.context.invocationTarget;
    }
    if (error !== undefined) Object.assign(fields, errorFields(error));
    logger[sdkLevel(meta.level)](text === "" ? (error?.message ?? "") : text, fields);
  };
