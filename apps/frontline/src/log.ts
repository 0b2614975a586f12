/**
 * frontline's own log (start, stop, upstreams going unhealthy, feed events), on @ferry/logging.
 * Rare events only: per-request lines go through the buffered access log instead.
 */
import {
  type LogFields,
  type Logger,
  type LogLevel,
  makeLogger as makeServiceLogger,
  memoryLogger as memoryServiceLogger,
} from "@ferry/logging";

export { errorFields, type LogFields, type Logger, type LogLevel } from "@ferry/logging";

export const makeLogger = (
  options: { readonly level: LogLevel; readonly write?: (level: LogLevel, line: string) => void },
  base: LogFields = {},
): Logger => makeServiceLogger({ service: "frontline", ...options }, base);

/** A logger that keeps its lines in memory, for tests. */
export const memoryLogger = (level: LogLevel = "debug") => memoryServiceLogger("frontline", level);
