/**
 * A deployment's event log: what happened to it, in order, with a resume cursor.
 *
 * Events are written by the repositories IN THE SAME TRANSACTION as the change they describe (a
 * transactional outbox), so no code path can change a deployment without its watchers seeing
 * it:
 * - `Status`: DeploymentRepository.create (PENDING, "accepted"), updateStatus and
 *   supersedeOlderPending, each time the status actually changes (a repeated call that changes
 *   nothing writes nothing);
 * - `Step`: DeploymentRepository.startStep / finishStep, when the step row actually changes,
 *   carrying the step as it is after the change;
 * - `Log`: EventLog.appendLogs.
 *
 * Each deployment has its own sequence 1, 2, 3, ... (`seq`) without gaps at write time, in
 * COMMIT order: a reader that has seen seq n has seen every event up to n, and the next event
 * it will ever see is n + 1 or later. Log events are trimmed oldest first past the log budget
 * (LogLimits), so a reader may find gaps where log lines were; status and step events are never
 * deleted.
 */
import { Context, Effect, Layer, Schema } from "effect";
import type { DeploymentId } from "../ids.ts";
import type { DeploymentStatus, DeploymentStep } from "../model/deployment.ts";
import { utf8ByteLength } from "../validation/utf8.ts";

// ---------------------------------------------------------------------------
// Events

/** Which output a log line came from; SYSTEM is a message written by Ferry itself. */
export const LogStream = Schema.Literal("STDOUT", "STDERR", "SYSTEM");
export type LogStream = typeof LogStream.Type;

/** One stored line of output (as `appendLogs` normalized it). */
export interface LogLine {
  /** The step that produced it: a StepName such as `BUILDING`. */
  readonly step: string;
  readonly stream: LogStream;
  /** The region of the instance that wrote it; absent for the build and Ferry's messages. */
  readonly region?: string;
  /** Valid UTF-8, no line terminator, no NUL, at most MAX_LOG_LINE_BYTES bytes. */
  readonly text: string;
  /** When it was written (Unix ms). */
  readonly at: number;
}

/** The deployment's status changed. */
export interface StatusEvent {
  readonly _tag: "Status";
  readonly status: DeploymentStatus;
  /** For FAILED: why (the deployment's error message). */
  readonly errorMessage?: string;
  /** Whether the deployment is the project's live deployment after this change. */
  readonly isLive: boolean;
}

/** A step started, ended or changed its message: the step as it is after the change. */
export interface StepEvent {
  readonly _tag: "Step";
  readonly step: DeploymentStep;
}

/** A line of output. */
export interface LogEvent {
  readonly _tag: "Log";
  readonly line: LogLine;
}

export type DeploymentEventBody = StatusEvent | StepEvent | LogEvent;
export type DeploymentEventKind = DeploymentEventBody["_tag"];

export interface DeploymentEvent {
  readonly deploymentId: DeploymentId;
  /** Position in the deployment's log (1, 2, 3, ... in commit order): the resume cursor. */
  readonly seq: bigint;
  /** When it happened (Unix ms): the change's time, or the line's. */
  readonly at: number;
  readonly body: DeploymentEventBody;
}

export interface EventQuery {
  /** Only events with seq > afterSeq (0n: from the first). */
  readonly afterSeq: bigint;
  /** At most this many events (the oldest first). */
  readonly limit: number;
  /** Only events of these kinds; absent means every kind. */
  readonly kinds?: ReadonlyArray<DeploymentEventKind>;
  /** Log events only of this step (other kinds are not affected). */
  readonly logStep?: string;
}

// ---------------------------------------------------------------------------
// Log lines: what appendLogs accepts, and how it stores them

/** A stored line's text is at most this many bytes (UTF-8); longer lines are split. */
export const MAX_LOG_LINE_BYTES = 16_384;

/** The log budget of one deployment: past either bound, its oldest log lines are deleted. */
export interface LogLimits {
  /** At most this many log lines (at least 1). */
  readonly maxLines: number;
  /** At most this many bytes of log text, UTF-8 (at least MAX_LOG_LINE_BYTES). */
  readonly maxBytes: number;
}

/** 10,000 lines or 2 MiB of text per deployment, whichever is reached first. */
export const DEFAULT_LOG_LIMITS: LogLimits = { maxLines: 10_000, maxBytes: 2 * 1024 * 1024 };

/** Checks limits given by configuration; throws on nonsense (a startup error, not a runtime one). */
export const checkLogLimits = (limits: LogLimits): LogLimits => {
  if (!Number.isSafeInteger(limits.maxLines) || limits.maxLines < 1)
    throw new Error(
      `log limits: maxLines must be an integer of at least 1 (got ${limits.maxLines})`,
    );
  if (!Number.isSafeInteger(limits.maxBytes) || limits.maxBytes < MAX_LOG_LINE_BYTES)
    throw new Error(
      `log limits: maxBytes must be an integer of at least ${MAX_LOG_LINE_BYTES} (got ${limits.maxBytes})`,
    );
  return limits;
};

/** One line as a caller hands it to appendLogs. */
export interface LogLineInput {
  /** The step that produced it: a StepName such as `BUILDING`. */
  readonly step: string;
  readonly stream: LogStream;
  /** The region of the instance that wrote it; omit for the build and Ferry's own messages. */
  readonly region?: string;
  /**
   * The text: a string, or raw bytes decoded as UTF-8. Need not be clean: see appendLogs.
   * Secrets must already be redacted.
   */
  readonly text: string | Uint8Array;
  /** When it was written (Unix ms). */
  readonly at: number;
  /**
   * Where the line starts in its source, in bytes: the build job's log file (one such source
   * per deployment). Lines that carry offsets make appendLogs idempotent: a line whose offset is
   * not above the highest offset already stored for the deployment is skipped, so a batch
   * repeated after a crash, or one that overlaps an earlier batch, stores nothing twice. Offsets
   * grow along the source; lines without one are always stored.
   */
  readonly offset?: number;
}

/** A normalized line and its text's size in bytes. */
export interface SizedLogLine {
  readonly line: LogLine;
  readonly bytes: number;
}

const REPLACEMENT = 0xfffd;

/** UTF-8 bytes → text, each maximal invalid subsequence replaced by U+FFFD (the WHATWG decoder). */
export const decodeUtf8 = (bytes: Uint8Array): string => {
  const parts: Array<string> = [];
  let codes: Array<number> = [];
  const push = (codePoint: number) => {
    codes.push(codePoint);
    if (codes.length >= 4096) {
      parts.push(String.fromCodePoint(...codes));
      codes = [];
    }
  };
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      push(lead);
      i += 1;
      continue;
    }
    let needed: number;
    let codePoint: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      needed = 1;
      codePoint = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      needed = 2;
      codePoint = lead & 0x0f;
      if (lead === 0xe0) lower = 0xa0;
      if (lead === 0xed) upper = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      needed = 3;
      codePoint = lead & 0x07;
      if (lead === 0xf0) lower = 0x90;
      if (lead === 0xf4) upper = 0x8f;
    } else {
      push(REPLACEMENT);
      i += 1;
      continue;
    }
    let seen = 0;
    while (seen < needed) {
      const next = bytes[i + 1 + seen];
      if (next === undefined || next < lower || next > upper) break;
      codePoint = (codePoint << 6) | (next & 0x3f);
      lower = 0x80;
      upper = 0xbf;
      seen += 1;
    }
    if (seen < needed) {
      // The lead and the valid continuation bytes so far become one U+FFFD; the offending byte
      // starts over.
      push(REPLACEMENT);
      i += 1 + seen;
      continue;
    }
    push(codePoint);
    i += 1 + needed;
  }
  parts.push(String.fromCodePoint(...codes));
  return parts.join("");
};

/** Lone surrogates (not encodable as UTF-8) and NUL (not storable in PostgreSQL text) → U+FFFD. */
const wellFormed = (text: string): string => {
  // Fast path: nothing to replace.
  if (!text.includes("\u0000") && !/[\uD800-\uDFFF]/.test(text)) return text;
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    out += code === 0 || (code >= 0xd800 && code <= 0xdfff) ? "\uFFFD" : char;
  }
  return out;
};

/** Splits `text` into pieces of at most `maxBytes` bytes of UTF-8, never inside a character. */
const splitByBytes = (text: string, bytes: number, maxBytes: number): Array<SizedText> => {
  if (bytes <= maxBytes) return [{ text, bytes }];
  const pieces: Array<SizedText> = [];
  let start = 0;
  let end = 0;
  let size = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const charBytes = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (size + charBytes > maxBytes) {
      pieces.push({ text: text.slice(start, end), bytes: size });
      start = end;
      size = 0;
    }
    end += char.length;
    size += charBytes;
  }
  pieces.push({ text: text.slice(start, end), bytes: size });
  return pieces;
};

interface SizedText {
  readonly text: string;
  readonly bytes: number;
}

/**
 * The lines as appendLogs stores them, in order: bytes decoded as UTF-8 and invalid sequences,
 * lone surrogates and NUL replaced with U+FFFD; a text holding line breaks split at each `\n`
 * (a `\r` before it, and one final terminator, dropped; an empty text stays one empty line);
 * every line longer than MAX_LOG_LINE_BYTES split into pieces of at most that size, never
 * inside a character.
 */
export const normalizeLogLines = (
  lines: ReadonlyArray<LogLineInput>,
): ReadonlyArray<SizedLogLine> => {
  const out: Array<SizedLogLine> = [];
  for (const input of lines) {
    const raw = typeof input.text === "string" ? input.text : decodeUtf8(input.text);
    const text = wellFormed(raw);
    const split = text.split("\n");
    if (split.length > 1 && split.at(-1) === "") split.pop();
    for (const part of split) {
      const clean = part.endsWith("\r") ? part.slice(0, -1) : part;
      for (const piece of splitByBytes(clean, utf8ByteLength(clean), MAX_LOG_LINE_BYTES))
        out.push({
          line: {
            step: input.step,
            stream: input.stream,
            ...(input.region === undefined || input.region === "" ? {} : { region: input.region }),
            text: piece.text,
            at: input.at,
          },
          bytes: piece.bytes,
        });
    }
  }
  return out;
};

/** The lines of a batch not stored yet, and the deployment's source offset once they are. */
export interface UnstoredLines {
  readonly lines: ReadonlyArray<LogLineInput>;
  /** The highest offset stored after the batch (null: no line with an offset, ever). */
  readonly offset: number | null;
}

/**
 * Drops the lines whose offset is not above `storedOffset` (the highest source offset already
 * stored for the deployment, null: none) or not above an earlier line of the batch: what makes
 * appendLogs idempotent. Lines without an offset are kept. An offset that is not a whole number
 * of at least 0 is a caller's bug (a defect).
 */
export const unstoredLines = (
  lines: ReadonlyArray<LogLineInput>,
  storedOffset: number | null,
): UnstoredLines => {
  let offset = storedOffset;
  const kept: Array<LogLineInput> = [];
  for (const line of lines) {
    if (line.offset === undefined) {
      kept.push(line);
      continue;
    }
    if (!Number.isSafeInteger(line.offset) || line.offset < 0)
      throw new Error(`a log line's offset must be a whole number of bytes (got ${line.offset})`);
    if (offset !== null && line.offset <= offset) continue;
    offset = line.offset;
    kept.push(line);
  }
  return { lines: kept, offset };
};

/** The longest tail of `lines` within `limits` (what a batch can keep on its own). */
export const tailWithinLimits = <L extends { readonly bytes: number }>(
  lines: ReadonlyArray<L>,
  limits: LogLimits,
): ReadonlyArray<L> => {
  let bytes = 0;
  let start = lines.length;
  while (start > 0 && lines.length - start < limits.maxLines) {
    const next = bytes + (lines[start - 1]?.bytes ?? 0);
    if (next > limits.maxBytes) break;
    bytes = next;
    start -= 1;
  }
  return start === 0 ? lines : lines.slice(start);
};

/** What appendLogs did. */
export interface AppendedLogs {
  /** Lines stored by this call (after splitting; 0 for an unknown deployment). */
  readonly appended: number;
  /** Log lines deleted (older ones) or not stored (the head of an oversized batch) to stay in budget. */
  readonly dropped: number;
  /** The deployment's last seq after the call. */
  readonly lastSeq: bigint;
}

// ---------------------------------------------------------------------------
// Ports

export class EventLog extends Context.Tag("@ferry/domain/EventLog")<
  EventLog,
  {
    /**
     * Appends a batch of log lines to the deployment's log as `Log` events, in the given
     * order, after every event already there, in ONE transaction (so a batch is seen whole,
     * interleaved in commit order with status and step events), and wakes the deployment's
     * watchers.
     *
     * The lines are normalized first (normalizeLogLines): bytes are decoded as UTF-8; invalid
     * UTF-8, lone surrogates and NUL become U+FFFD; a text with line breaks becomes several
     * lines; a line over MAX_LOG_LINE_BYTES (16384) bytes is split. The deployment's log is
     * bounded (LogLimits, 10,000 lines / 2 MiB of text by default, set where the adapter is
     * built): when a batch overflows it, the OLDEST log lines of the deployment are deleted
     * (the tail is kept; status and step events are never deleted). A batch larger than the
     * budget keeps only its own tail.
     *
     * Idempotent for lines that carry their source `offset` (a build log shipped from a byte
     * offset): the deployment's highest stored offset is read and advanced in the same
     * transaction as the insert, and lines at or below it are skipped, so a batch replayed after
     * a crash, or overlapping an earlier one, stores each line once (trimming does not bring
     * trimmed lines back). Lines without an offset are appended on every call.
     * Batch lines (for example every 100 lines or 500 ms): each call is a transaction.
     * An empty batch, or a deployment that does not exist (any more), appends nothing.
     * The caller redacts secrets; the adapters never log line contents.
     */
    readonly appendLogs: (
      deploymentId: DeploymentId,
      lines: ReadonlyArray<LogLineInput>,
    ) => Effect.Effect<AppendedLogs>;
    /** The deployment's events matching `query`, oldest first (none for an unknown deployment). */
    readonly list: (
      deploymentId: DeploymentId,
      query: EventQuery,
    ) => Effect.Effect<ReadonlyArray<DeploymentEvent>>;
    /** The seq of the deployment's last event ever written (0n: none, or no such deployment). */
    readonly lastSeq: (deploymentId: DeploymentId) => Effect.Effect<bigint>;
  }
>() {}

/** The event feed was closed (the server is shutting down): watchers should end and reconnect. */
export class EventFeedClosed extends Schema.TaggedError<EventFeedClosed>()("EventFeedClosed", {}) {
  override get message(): string {
    return "the event feed is closed: the server is shutting down";
  }
}

/** Wakes the watchers of a deployment's event log when new events may have committed. */
export class DeploymentEventFeed extends Context.Tag("@ferry/domain/DeploymentEventFeed")<
  DeploymentEventFeed,
  {
    /**
     * Completes when the deployment's log may hold an event with seq > `afterSeq`: at once
     * when it already does, else when a new event of the deployment commits. Never misses an
     * event committed after the call started. It may also complete when nothing new is there
     * (a notification connection that was re-established, a backstop timer, another event
     * kind than the caller reads), so callers re-read the log and wait again.
     *
     * Interrupt it to stop waiting. Fails with EventFeedClosed once the feed is closed.
     */
    readonly waitForEvents: (
      deploymentId: DeploymentId,
      afterSeq: bigint,
    ) => Effect.Effect<void, EventFeedClosed>;
  }
>() {}

/**
 * A feed without notifications: every wait ends after `intervalMs`, so watchers poll the
 * log at that pace. Correct (callers re-read), only slower than a notification-based feed.
 */
export const pollingDeploymentEventFeed = (intervalMs: number): Layer.Layer<DeploymentEventFeed> =>
  Layer.succeed(DeploymentEventFeed, {
    waitForEvents: () => Effect.sleep(intervalMs),
  });
