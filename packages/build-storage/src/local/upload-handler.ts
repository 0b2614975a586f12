/**
 * Serves `PUT /v1/uploads/{key}?expires=…&max=…[&size=…]&sig=…`: the local adapter's upload
 * URLs. The signature is the credential (ctrl mounts this before its API-key check).
 *
 * The archive appears under its key whole or not at all: the body goes to a temporary file
 * beside it, which is linked into place only once complete, and removed on every other outcome
 * (too large, too short, client gone, disk error). `link` rather than `rename` because it fails
 * when the key exists: of two concurrent uploads to one key, exactly one wins and the other is
 * told 409, where a rename would silently replace the first archive.
 *
 * Answers, all JSON: 200 `{ key, sizeBytes }`; 400 malformed request or size mismatch; 403
 * signature not valid or URL expired; 404 not an upload path; 405 not PUT; 409 key already
 * uploaded; 413 more bytes than the URL allows (the rest of the body is not read); 500 storage
 * failure (details go to `onError`, never to the client).
 */
import { link, mkdir, rm, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { keyProblem } from "../keys.ts";
import { fileOf, temporaryFileFor } from "./files.ts";
import { receive } from "./receive.ts";
import { parseUploadTarget } from "./upload-url.ts";

export interface UploadHandlerOptions {
  /** The storage directory (the same as the storage's). */
  readonly root: string;
  /** The secret the storage signs URLs with. */
  readonly signingSecret: Uint8Array;
  /** Unexpected failures (file system errors), for the server's log. */
  readonly onError?: (error: unknown, context: { readonly key: string }) => void;
}

export type UploadHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

const send = (
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) => {
  if (response.headersSent) {
    response.end();
    return;
  }
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": String(Buffer.byteLength(text)),
    // Refused before the body was read: close rather than read the rest to reuse the
    // connection. (HTTP/2 has no such header: there the stream ends alone.)
    ...(status >= 400 && request.httpVersionMajor === 1 && !request.readableEnded
      ? { connection: "close" }
      : {}),
    ...headers,
  });
  response.end(text);
};

const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

type Stored =
  | { readonly kind: "stored"; readonly sizeBytes: number }
  | { readonly kind: "short"; readonly sizeBytes: number }
  | { readonly kind: "exists" }
  | { readonly kind: "too-large" }
  | { readonly kind: "aborted" };

/** Receives the body into `temporary` and, when it is whole, links it in as `file`. */
const store = async (
  request: IncomingMessage,
  temporary: string,
  file: string,
  limit: number,
  exactSize = false,
): Promise<Stored> => {
  const received = await receive(request, temporary, limit);
  if (received.kind !== "complete") return received;
  if (exactSize && received.sizeBytes !== limit)
    return { kind: "short", sizeBytes: received.sizeBytes };
  try {
    await link(temporary, file);
  } catch (error) {
    if (code(error) === "EEXIST") return { kind: "exists" };
    throw error;
  }
  return { kind: "stored", sizeBytes: received.sizeBytes };
};

export const makeUploadHandler = (options: UploadHandlerOptions): UploadHandler => {
  const secret = options.signingSecret;

  return async (request, response) => {
    const fail = (status: number, message: string, headers?: Record<string, string>) =>
      send(request, response, status, { error: message }, headers);

    if (request.method !== "PUT")
      return fail(405, "uploads take PUT with the archive as the body", { allow: "PUT" });

    const parsed = parseUploadTarget(request.url ?? "", secret);
    if (!parsed.ok) return fail(parsed.status, parsed.message);
    const { key, expires, max, size } = parsed.grant;
    if (Date.now() > expires * 1000)
      return fail(
        403,
        `the upload URL expired at ${new Date(expires * 1000).toISOString()}: get a new one from CreateUploadUrl`,
      );
    const problem = keyProblem(key);
    const file = problem === undefined ? fileOf(options.root, key) : undefined;
    if (file === undefined)
      return fail(400, `invalid storage key: ${problem ?? "leaves the root"}`);

    const limit = size ?? max;
    const declared = request.headers["content-length"];
    if (declared !== undefined) {
      const length = Number(declared);
      if (length > limit)
        return fail(
          413,
          size === undefined
            ? `the archive is ${length} bytes; this upload URL accepts at most ${max}`
            : `the archive is ${length} bytes; this upload URL accepts exactly ${size}`,
        );
      if (size !== undefined && length !== size)
        return fail(400, `the archive is ${length} bytes; this upload URL accepts exactly ${size}`);
    }

    let temporary: string | undefined;
    try {
      if (await exists(file))
        return fail(409, `"${key}" was already uploaded; get a new URL from CreateUploadUrl`);
      await mkdir(path.dirname(file), { recursive: true });
      temporary = temporaryFileFor(file);
      const outcome = await store(request, temporary, file, limit, size !== undefined);
      // Gone before the answer, so that nothing partial is left once the client has it.
      await rm(temporary, { force: true });
      temporary = undefined;
      switch (outcome.kind) {
        case "aborted":
          return;
        case "too-large":
          return fail(413, `the archive is larger than the ${limit} bytes this upload URL accepts`);
        case "short":
          return fail(
            400,
            `the upload ended after ${outcome.sizeBytes} bytes; this upload URL accepts exactly ${size}`,
          );
        case "exists":
          return fail(409, `"${key}" was already uploaded; get a new URL from CreateUploadUrl`);
        case "stored":
          return send(request, response, 200, { key, sizeBytes: outcome.sizeBytes });
      }
    } catch (error) {
      options.onError?.(error, { key });
      if (temporary !== undefined) await rm(temporary, { force: true }).catch(() => {});
      return fail(500, `could not store the upload (${code(error) ?? "storage error"})`);
    }
  };
};
