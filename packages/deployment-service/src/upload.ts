/**
 * uploadBuildContext: an archive handed over in-process (bytes or a stream) written into build
 * storage under a fresh key of the project, as CreateUploadUrl + PUT would, without HTTP to ctrl.
 *
 * The key, the project check (the caller's workspace) and the size limit are CreateUploadUrl's
 * (the domain's use case). Local storage: the bytes go to a temporary file beside the key's
 * file, linked into place only once whole (the upload handler's scheme), so a failed or
 * oversized upload leaves nothing. S3: the bytes are spooled to a temporary file first (S3 needs
 * the length before the body), then PUT to the presigned URL; the temporary file is always
 * removed.
 */

import { createReadStream } from "node:fs";
import { link, mkdir, mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { fileOf, type Received, receiveToFile, temporaryFileFor } from "@ferry/build-storage";
import { ValidationError, WorkflowUnavailable } from "@ferry/domain";
import type { BuildStorageConfig } from "./build-storage.ts";

/** What uploadBuildContext accepts: the whole archive, or a stream of it. */
export type BuildContextBody =
  | Uint8Array
  | Readable
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

export interface UploadedBuildContext {
  /** The key to pass as `source.buildContextPath` to `deployments.create`. */
  readonly buildContextPath: string;
  readonly sizeBytes: number;
}

const toReadable = (body: BuildContextBody): Readable => {
  if (body instanceof Readable) return body;
  if (body instanceof Uint8Array)
    return Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]);
  if (typeof (body as ReadableStream<Uint8Array>).getReader === "function")
    return Readable.fromWeb(body as WebReadableStream<Uint8Array>);
  return Readable.from(body as AsyncIterable<Uint8Array>);
};

const tooLarge = (maxSizeBytes: number) =>
  ValidationError.single(
    "body",
    `the archive is larger than the maximum build context size of ${maxSizeBytes} bytes`,
  );

/**
 * Receives `body` into `file` (at most `maxSizeBytes`): its size, or a rejection with the
 * stream's own error, or ValidationError when too large. The source is destroyed when not read
 * to its end; `file` is left for the caller to move or remove.
 */
const spool = async (body: BuildContextBody, file: string, maxSizeBytes: number) => {
  const source = toReadable(body);
  let streamError: unknown;
  source.once("error", (error) => {
    streamError = error;
  });
  let received: Received;
  try {
    received = await receiveToFile(source, file, maxSizeBytes);
  } finally {
    if (!source.readableEnded) source.destroy();
  }
  if (received.kind === "too-large") throw tooLarge(maxSizeBytes);
  if (received.kind === "aborted")
    throw streamError instanceof Error
      ? streamError
      : new Error("the build context stream ended before its end (it was closed or destroyed)");
  return received.sizeBytes;
};

const unavailable = (detail: string) =>
  new WorkflowUnavailable({ reason: `build storage is unavailable: ${detail}` });

/** PUTs `file` to a presigned URL; S3 wants the length first, hence the file. */
const putFile = (
  url: string,
  headers: Readonly<Record<string, string>>,
  file: string,
  size: number,
) =>
  new Promise<void>((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(
      target,
      { method: "PUT", headers: { ...headers, "content-length": String(size) }, timeout: 60_000 },
      (response) => {
        const chunks: Array<Buffer> = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else {
            // S3's XML error code says why; never the URL (its query is a credential).
            const code = /<Code>([^<]{1,100})<\/Code>/.exec(Buffer.concat(chunks).toString("utf8"));
            reject(
              unavailable(`the upload was refused (HTTP ${status}${code ? `, ${code[1]}` : ""})`),
            );
          }
        });
        response.on("error", (error) => reject(unavailable(error.message)));
      },
    );
    request.on("timeout", () => request.destroy(new Error("the upload timed out after 60 s")));
    request.on("error", (error) =>
      reject(error instanceof WorkflowUnavailable ? error : unavailable(error.message)),
    );
    createReadStream(file)
      .on("error", (error) => request.destroy(error))
      .pipe(request);
  });

export interface StoreInput {
  readonly storage: BuildStorageConfig;
  /** The key CreateUploadUrl chose, and its presigned URL (S3) with the headers it requires. */
  readonly key: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxSizeBytes: number;
}

/** Writes `body` under `input.key`; nothing is left behind when it fails. */
export const storeBuildContext = async (
  input: StoreInput,
  body: BuildContextBody,
): Promise<UploadedBuildContext> => {
  const { storage, key, maxSizeBytes } = input;
  if (storage.kind === "local") {
    const file = fileOf(storage.dir, key);
    if (file === undefined) throw new Error(`build context key "${key}" leaves the storage root`);
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = temporaryFileFor(file);
    try {
      const sizeBytes = await spool(body, temporary, maxSizeBytes);
      // Fails when the key exists: a key is fresh, so this never overwrites an archive.
      await link(temporary, file);
      return { buildContextPath: key, sizeBytes };
    } finally {
      await rm(temporary, { force: true });
    }
  }
  const directory = await mkdtemp(path.join(tmpdir(), "ferry-upload-"));
  try {
    const temporary = path.join(directory, "context.tar.gz");
    const sizeBytes = await spool(body, temporary, maxSizeBytes);
    await putFile(input.url, input.headers, temporary, sizeBytes);
    return { buildContextPath: key, sizeBytes };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
};
