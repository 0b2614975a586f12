/**
 * The access log: one JSON line per request, written in batches. A write
 * per request would be a syscall per request (stdout to a file or a pipe is
 * synchronous on Linux), so lines collect in memory and go out together
 * every `flushIntervalMs` or once `batchBytes` are waiting. When the sink
 * cannot keep up (it returned false and has not drained), lines keep
 * collecting up to `maxPendingBytes`; past that they are dropped and counted,
 * rather than letting a slow log reader grow the heap without bound.
 *
 * Lines carry the upstream address: this log is internal. Responses never do.
 */

export interface AccessSink {
  write(chunk: string): boolean;
  once(event: "drain", listener: () => void): unknown;
}

export interface AccessRecord {
  readonly requestId: string;
  readonly method: string | undefined;
  /** The Host header as sent (trimmed to 255 characters), or the normalized hostname when routed. */
  readonly host: string;
  /** The request target without its query string (which may carry tokens). */
  readonly url: string | undefined;
  readonly status: number;
  readonly durationMs: number;
  readonly bytesOut: number;
  readonly deploymentId: string | undefined;
  readonly region: string | undefined;
  readonly upstream: string | undefined;
  /** Why frontline answered itself (error-pages.ts), or `client_closed`. */
  readonly reason: string | undefined;
  /** The request went to a second upstream after the first refused the connection. */
  readonly retried: boolean;
  /** A WebSocket (or other upgrade) tunnel: duration and bytes cover its whole life. */
  readonly upgrade?: boolean;
}

export interface AccessLogOptions {
  /** Default: process.stdout. */
  readonly sink?: AccessSink;
  readonly flushIntervalMs?: number;
  readonly batchBytes?: number;
  readonly maxPendingBytes?: number;
  readonly clock?: () => Date;
}

export class AccessLog {
  /** Lines dropped because the sink did not drain. */
  dropped = 0;
  private readonly sink: AccessSink;
  private readonly flushIntervalMs: number;
  private readonly batchBytes: number;
  private readonly maxPendingBytes: number;
  private readonly clock: () => Date;
  private lines: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private readonly flushBound = () => this.flush();
  private readonly onDrain = () => {
    this.draining = false;
    this.flush();
  };

  constructor(options: AccessLogOptions = {}) {
    this.sink = options.sink ?? process.stdout;
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.batchBytes = options.batchBytes ?? 64 * 1024;
    this.maxPendingBytes = options.maxPendingBytes ?? 8 * 1024 * 1024;
    this.clock = options.clock ?? (() => new Date());
  }

  write(record: AccessRecord): void {
    if (this.draining && this.pendingBytes >= this.maxPendingBytes) {
      this.dropped++;
      return;
    }
    const line = `${JSON.stringify({
      time: this.clock().toISOString(),
      type: "access",
      requestId: record.requestId,
      method: record.method,
      host: record.host,
      path: pathOf(record.url),
      status: record.status,
      durationMs: Math.round(record.durationMs * 1000) / 1000,
      bytesOut: record.bytesOut,
      deploymentId: record.deploymentId,
      region: record.region,
      upstream: record.upstream,
      reason: record.reason,
      retried: record.retried || undefined,
      upgrade: record.upgrade,
    })}\n`;
    this.lines.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= this.batchBytes) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(this.flushBound, this.flushIntervalMs);
      // The log never keeps the process alive on its own; close() flushes what is left.
      this.timer.unref();
    }
  }

  /** Writes what is waiting (unless the sink is still draining: then on drain). */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.draining || this.lines.length === 0) return;
    const text = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join("");
    this.lines = [];
    this.pendingBytes = 0;
    if (!this.sink.write(text)) {
      this.draining = true;
      this.sink.once("drain", this.onDrain);
    }
  }

  /** Flushes and resolves once the sink took everything (or after 2 s: never hang a shutdown on a log reader). */
  async close(): Promise<void> {
    this.flush();
    const deadline = Date.now() + 2_000;
    while ((this.draining || this.lines.length > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      this.flush();
    }
  }
}

function pathOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const query = url.indexOf("?");
  const path = query < 0 ? url : url.slice(0, query);
  return path.length > 2048 ? path.slice(0, 2048) : path;
}
