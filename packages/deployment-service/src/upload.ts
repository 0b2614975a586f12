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
 *
 * Every failure is tagged, so that a caller can tell "retry" from "fix something": a stream of
 * the caller's that fails or an archive too large is ValidationError (`body`); S3 refusing the
 * PUT (3xx/4xx but timeouts and throttling: credentials, bucket, region, clock) is
 * BuildStorageRefused, which a retry would only repeat; S3 failing (5xx, 408, 429) or
 * unreachable is WorkflowUnavailable (retry later); a local file system failure is InternalError.
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
import { BuildStorageRefused, InternalError } from "./errors.ts";

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
 * The caller's archive, watched from the moment it is handed over: a stream that fails while the
 * upload URL is still being made has its error recorded here (no listener would make it an
 * uncaught exception), and is then refused at once instead of waited for.
 */
export interface HeldBody {
  readonly source: Readable;
  readonly failure: () => unknown;
}

export const holdBody = (body: BuildContextBody): HeldBody => {
  const source = toReadable(body);
  let failure: unknown;
  source.on("error", (error) => {
    failure = error;
  });
  return { source, failure: () => failure };
};

/**
 * Receives the body into `file` (at most `maxSizeBytes`): its size, or ValidationError when the
 * stream failed or is too large. The source is destroyed when not read to its end; `file` is left
 * for the caller to move or remove.
 */
const spool = async (body: HeldBody, file: string, maxSizeBytes: number) => {
  const { source } = body;
  let received: Received;
  try {
    received = source.destroyed
      ? { kind: "aborted" }
      : await receiveToFile(source, file, maxSizeBytes);
  } finally {
    if (!source.readableEnded) source.destroy();
  }
  if (received.kind === "too-large") throw tooLarge(maxSizeBytes);
  if (received.kind === "aborted") {
    const failure = body.failure();
    throw ValidationError.single(
      "body",
      failure instanceof Error
        ? `the archive stream failed before its end: ${failure.message}`
        : "the archive stream was closed or destroyed before its end",
    );
  }
  return received.sizeBytes;
};

const unavailable = (detail: string) =>
  new WorkflowUnavailable({ reason: `build storage is unavailable: ${detail}` });

/**
 * 4xx answers that say "not now" rather than "not like this" (the AWS SDKs retry these too):
 * a request timeout, throttling, a conflicting operation in progress.
 */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 429]);
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "RequestTimeout",
  "SlowDown",
  "Throttling",
  "OperationAborted",
]);

/** S3's error code from its XML answer; only a code's characters, so nothing else can leak. */
const s3ErrorCode = (body: string): string =>
  /<Code>([A-Za-z0-9.]{1,64})<\/Code>/.exec(body)?.[1] ?? "";

/** A non-2xx answer to the PUT: refused (do not retry) or unavailable (retry later). */
const answerFailure = (status: number, body: string): BuildStorageRefused | WorkflowUnavailable => {
  const code = s3ErrorCode(body);
  if (
    status >= 300 &&
    status < 500 &&
    !TRANSIENT_STATUSES.has(status) &&
    !TRANSIENT_CODES.has(code)
  )
    return new BuildStorageRefused({ status, code });
  return unavailable(`the upload failed (HTTP ${status}${code === "" ? "" : `, ${code}`})`);
};

const describeFailure = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined || error.message.startsWith(code)
    ? error.message
    : `${code}: ${error.message}`;
};

const TAGGED = [ValidationError, WorkflowUnavailable, BuildStorageRefused, InternalError];

/** Anything untagged that reaches the caller is a local I/O failure (or a bug): InternalError. */
const tagged = (error: unknown): unknown =>
  TAGGED.some((tag) => error instanceof tag)
    ? error
    : new InternalError({ detail: `could not write the build context: ${describeFailure(error)}` });

/**
 * PUTs `file` to a presigned URL (S3 wants the length first, hence the file). Never puts the URL
 * into an error: its query is a credential.
 */
const putFile = (
  url: string,
  headers: Readonly<Record<string, string>>,
  file: string,
  size: number,
) =>
  new Promise<void>((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    // Reading our own spooled file failed: a local failure, not the network's.
    let readFailure: Error | undefined;
    const request = send(
      target,
      { method: "PUT", headers: { ...headers, "content-length": String(size) }, timeout: 60_000 },
      (response) => {
        const chunks: Array<Buffer> = [];
        let length = 0;
        response.on("data", (chunk: Buffer) => {
          // An error answer is small; its code comes first. The rest is not kept.
          if (length < 64 * 1024) chunks.push(chunk);
          length += chunk.length;
        });
        response.on("end", () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(answerFailure(status, Buffer.concat(chunks).toString("utf8")));
        });
        response.on("error", (error) => reject(unavailable(error.message)));
      },
    );
    request.on("timeout", () => request.destroy(new Error("the upload timed out after 60 s")));
    request.on("error", (error) =>
      reject(
        error === readFailure
          ? new InternalError({
              detail: `could not read the spooled build context: ${describeFailure(error)}`,
            })
          : unavailable(describeFailure(error)),
      ),
    );
    createReadStream(file)
      .on("error", (error) => {
        readFailure = error;
        request.destroy(error);
      })
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

/**
 * Writes `body` under `input.key`; nothing is left behind when it fails. Rejects only with tagged
 * errors (see the top of this file).
 */
export const storeBuildContext = (
  input: StoreInput,
  body: HeldBody,
): Promise<UploadedBuildContext> =>
  store(input, body).catch((error: unknown) => {
    throw tagged(error);
  });

const store = async (input: StoreInput, body: HeldBody): Promise<UploadedBuildContext> => {
  const { storage, key, maxSizeBytes } = input;
  if (storage.kind === "local") {
    const file = fileOf(storage.dir, key);
    // The key is CreateUploadUrl's own: one outside the root is a bug, not the caller's input.
    if (file === undefined)
      throw new InternalError({ detail: `build context key "${key}" leaves the storage root` });
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
