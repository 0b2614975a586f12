/** Effect's logs of the use cases (with their annotations) handed to the embedding service. */
import { Cause, HashMap, Logger, LogLevel } from "effect";
import type { DeploymentServiceConfig } from "./config.ts";

export type LogSink = NonNullable<DeploymentServiceConfig["log"]>;

/** Default: warnings and errors as JSON lines on stderr; info is dropped. */
export const stderrSink: LogSink = ({ level, message, fields }) => {
  if (level === "info") return;
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`,
  );
};

export const effectLogger = (sink: LogSink): Logger.Logger<unknown, void> =>
  Logger.make(({ logLevel, message, cause, annotations }) => {
    const messages = Array.isArray(message) ? message : [message];
    const fields: Record<string, unknown> = {};
    for (const [key, value] of HashMap.toEntries(annotations)) fields[key] = value;
    if (!Cause.isEmpty(cause)) fields.cause = Cause.pretty(cause, { renderErrorCause: true });
    const text = messages.map((part) => (typeof part === "string" ? part : String(part))).join(" ");
    const level = LogLevel.greaterThanEqual(logLevel, LogLevel.Error)
      ? "error"
      : LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)
        ? "warn"
        : "info";
    sink({ level, message: text, fields });
  });
