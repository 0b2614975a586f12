/**
 * Structured logs: one JSON object per line on stdout (stderr for warn and error), each with
 * `time`, `level`, `service` and `message`. Callers pass ids and outcomes, never environment
 * values, header values, keys or tokens; errors are reduced to their name, message and code
 * (no stack: it would leak into log stores).
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
  /** The process, as the `service` field of every line. */
  readonly service: string;
  readonly level: LogLevel;
  /** Where lines go; default: stdout/stderr. */
  readonly write?: (level: LogLevel, line: string) => void;
}

const defaultWrite = (level: LogLevel, line: string) => {
  (level === "warn" || level === "error" ? process.stderr : process.stdout).write(`${line}\n`);
};

/** An error as a log field: name, message and code. */
export const errorFields = (error: unknown): LogFields => {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { error: { name: error.name, message: error.message, ...(code ? { code } : {}) } };
  }
  return { error: { message: String(error) } };
};

/** JSON that never throws: errors as name and message, bigints as strings. */
export const safeJson = (value: unknown): string => {
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
        service: options.service,
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
  service: string,
  level: LogLevel = "debug",
): Logger & { readonly lines: () => ReadonlyArray<Record<string, unknown>> } => {
  const lines: string[] = [];
  const logger = makeLogger({ service, level, write: (_level, line) => lines.push(line) });
  return {
    ...logger,
    lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
};
