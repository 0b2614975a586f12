/** hydra's structured log (@ferry/logging), and the Restate SDK's log lines written through it. */
import {
  errorFields,
  type LogFields,
  type Logger,
  type LogLevel,
  makeLogger as makeServiceLogger,
  safeJson,
} from "@ferry/logging";
import type { LoggerTransport, LogMetadata } from "@restatedev/restate-sdk";

export { errorFields, type LogFields, type Logger, type LogLevel } from "@ferry/logging";

export const makeLogger = (
  options: { readonly level: LogLevel; readonly write?: (level: LogLevel, line: string) => void },
  base: LogFields = {},
): Logger => makeServiceLogger({ service: "hydra", ...options }, base);

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
