/**
 * frontline's own log (start, stop, upstreams going unhealthy, feed events):
 * one JSON object per line on stdout (stderr for warn and error). Rare events
 * only: per-request lines go through the buffered access log instead.
 * Callers pass ids and outcomes, never header values or tokens; errors are
 * reduced to their name, message and code.
 */
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

/** An error as a log field: name, message and code (no stack: it would leak into log stores). */
export const errorFields = (error: unknown): LogFields => {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { error: { name: error.name, message: error.message, ...(code ? { code } : {}) } };
  }
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
        service: "frontline",
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

/** A logger that keeps its lines in memory, for tests. */
export const memoryLogger = (
  level: LogLevel = "debug",
): Logger & { readonly lines: () => ReadonlyArray<Record<string, unknown>> } => {
  const lines: string[] = [];
  const logger = makeLogger({ level, write: (_level, line) => lines.push(line) });
  return {
    ...logger,
    lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
};
