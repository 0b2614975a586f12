/**
 * Writes a request body to a new file, counting bytes, and stops reading at the first byte past
 * the limit. Not `pipeline` nor `for await`: both destroy the request on an early stop, and a
 * destroyed HTTP/1.1 request takes its socket along, so the client would never read the 413.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import type { Readable } from "node:stream";

export type Received =
  | { readonly kind: "complete"; readonly sizeBytes: number }
  /** More than `limit` bytes came; the request is left paused, the file closed. */
  | { readonly kind: "too-large" }
  /** The client went away before the end of the body. */
  | { readonly kind: "aborted" };

const closed = (out: WriteStream): Promise<void> =>
  new Promise((resolve) => {
    if (out.closed) resolve();
    else out.once("close", () => resolve());
  });

/**
 * Receives `request` into `file` (created, never overwritten: mode 0600, since an archive may
 * hold secrets). Rejects only on a file system error. The file is closed when this settles; the
 * caller moves or removes it.
 */
export const receive = (request: Readable, file: string, limit: number): Promise<Received> =>
  new Promise<Received>((resolve, reject) => {
    const out = createWriteStream(file, { flags: "wx", mode: 0o600 });
    let received = 0;
    let settled = false;

    const settle = (result: Received | Error) => {
      if (settled) return;
      settled = true;
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("close", onClose);
      request.off("error", onClose);
      out.off("drain", onDrain);
      if (result instanceof Error) {
        out.destroy();
        void closed(out).then(() => reject(result));
      } else if (result.kind === "complete") {
        // Settled once every byte is written and the descriptor is closed.
        out.end((error?: Error | null) => {
          void closed(out).then(() => (error ? reject(error) : resolve(result)));
        });
      } else {
        out.destroy();
        void closed(out).then(() => resolve(result));
      }
    };

    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        request.pause();
        return settle({ kind: "too-large" });
      }
      // Back-pressure: a slow disk pauses the client, not memory.
      if (!out.write(chunk)) request.pause();
    };
    const onDrain = () => {
      if (!settled) request.resume();
    };
    const onEnd = () => settle({ kind: "complete", sizeBytes: received });
    // "close" before "end": the connection dropped mid-body.
    const onClose = () => settle({ kind: "aborted" });

    out.once("error", (error) => settle(error));
    out.on("drain", onDrain);
    request.on("data", onData);
    request.once("end", onEnd);
    request.once("close", onClose);
    request.once("error", onClose);
    // Kept after settling: an error of a request nobody reads any more must not go unhandled.
    request.on("error", () => {});
  });
