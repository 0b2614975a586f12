/**
 * build.log: append-only, so a poller's byte offset stays valid for the whole build, and bounded
 * by the job's maxLogBytes, keeping the head and the tail:
 *
 * - lines are appended as they come until the head budget (maxLogBytes less the tail budget) is
 *   used up; then one marker line says that output is being skipped;
 * - from then on the last lines (up to the tail budget: a quarter of maxLogBytes, at most
 *   256 KiB) are kept in memory, and written after a second marker when the build ends
 *   (finish), so the end of a long build, where its errors are, is always in the log.
 *
 * The file never exceeds maxLogBytes. Lines longer than the line limit are cut. If the runner
 * dies mid-build the skipped part's tail is lost; the head is on disk.
 */
import { closeSync, fstatSync, openSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { formatBytes } from "./sizes.ts";

/** The smallest maxLogBytes a job accepts. */
export const MIN_LOG_BYTES = 16 * 1024;
const MAX_TAIL_BYTES = 256 * 1024;
const MAX_LINE_BYTES = 16 * 1024;
/** Room kept for the two marker lines, so the bound holds exactly. */
const MARKER_ROOM = 512;

const cutLine = (line: string, limit: number): string => {
  const bytes = Buffer.from(line, "utf8");
  if (bytes.length <= limit) return line;
  const note = ` … [line cut: ${bytes.length} bytes]`;
  return bytes.subarray(0, limit - Buffer.byteLength(note)).toString("utf8") + note;
};

export class BuildLogWriter {
  private readonly fd: number;
  private written: number;
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly lineLimit: number;
  private truncated = false;
  private tail: string[] = [];
  private tailBytes = 0;
  private skippedLines = 0;
  private skippedBytes = 0;

  private readonly maxBytes: number;

  constructor(path: string, maxBytes: number) {
    this.maxBytes = maxBytes;
    this.fd = openSync(path, "a", 0o600);
    this.written = fstatSync(this.fd).size;
    this.tailLimit = Math.min(MAX_TAIL_BYTES, Math.floor(maxBytes / 4));
    this.headLimit = maxBytes - this.tailLimit - MARKER_ROOM;
    this.lineLimit = Math.min(MAX_LINE_BYTES, this.tailLimit);
  }

  private write(line: string): void {
    const bytes = Buffer.from(`${line}\n`, "utf8");
    writeSync(this.fd, bytes);
    this.written += bytes.length;
  }

  append(raw: string): void {
    const line = cutLine(raw, this.lineLimit);
    const size = Buffer.byteLength(line) + 1;
    if (!this.truncated && this.written + size <= this.headLimit) {
      this.write(line);
      return;
    }
    if (!this.truncated) {
      this.truncated = true;
      this.write(
        `[ferry] the build log reached its limit of ${formatBytes(this.maxBytes)}: output is skipped from here, and its last lines are written when the build ends`,
      );
    }
    this.tail.push(line);
    this.tailBytes += size;
    while (this.tailBytes > this.tailLimit) {
      const dropped = this.tail.shift() ?? "";
      const droppedSize = Buffer.byteLength(dropped) + 1;
      this.tailBytes -= droppedSize;
      this.skippedLines += 1;
      this.skippedBytes += droppedSize;
    }
  }

  /** Writes the kept tail (when output was skipped) and closes the file. */
  finish(): void {
    if (this.truncated) {
      this.write(
        `[ferry] ${this.skippedLines} lines (${formatBytes(this.skippedBytes)}) of build output skipped; the last ${this.tail.length} lines follow`,
      );
      for (const line of this.tail) this.write(line);
      this.tail = [];
      this.tailBytes = 0;
      this.truncated = false;
      // Later appends (none are expected) start a new head: the bound still holds.
      this.written = this.maxBytes;
    }
    closeSync(this.fd);
  }
}

export interface LogChunk {
  /** Complete lines after `fromOffset`, without their newlines. */
  readonly lines: ReadonlyArray<string>;
  /**
   * The byte offset in build.log where each line starts (same order as `lines`): with them, a
   * line shipped twice (a poll repeated after a crash) is recognised as the same line.
   */
  readonly offsets: ReadonlyArray<number>;
  /** Where the next read starts: after the last complete line returned. */
  readonly nextOffset: number;
}

/** Reads complete lines of `path` from a byte offset, at most `maxBytes` at a time. */
export const readLogLines = async (
  path: string,
  fromOffset: number,
  maxBytes: number,
): Promise<LogChunk> => {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return { lines: [], offsets: [], nextOffset: Math.max(0, fromOffset) };
    throw error;
  }
  try {
    const { size } = await file.stat();
    const start = Math.min(Math.max(0, Math.floor(fromOffset)), size);
    const buffer = Buffer.alloc(Math.min(maxBytes, size - start));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
    const read = buffer.subarray(0, bytesRead);
    const end = read.lastIndexOf(0x0a);
    if (end < 0) return { lines: [], offsets: [], nextOffset: start };
    const lines: string[] = [];
    const offsets: number[] = [];
    // Split on the bytes (not the decoded text), so that each offset is exact.
    for (let from = 0; from <= end; ) {
      const newline = read.indexOf(0x0a, from);
      lines.push(read.subarray(from, newline).toString("utf8"));
      offsets.push(start + from);
      from = newline + 1;
    }
    return { lines, offsets, nextOffset: start + end + 1 };
  } finally {
    await file.close();
  }
};
