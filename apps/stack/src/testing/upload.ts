/**
 * Uploads as a client does them: ask CreateUploadUrl where to put the archive, then PUT it
 * there with the headers the answer requires.
 */
import http from "node:http";
import type { Clients } from "./api.ts";

export interface PutAnswer {
  readonly status: number;
  readonly body: string;
}

/** How long a PUT waits after its headers for a server that refuses from them alone. */
const EARLY_ANSWER_MS = 1_000;
const CHUNK_BYTES = 64 * 1024;

/**
 * A PUT of `body` with node:http, as a careful client sends it: the headers first, then, unless
 * the server already answered (it refuses an over-large Content-Length at once and closes the
 * connection), the body in chunks, stopping if an answer arrives. Writing into the connection a
 * server closed after answering fails: after an answer that is expected, not an error.
 */
export const put = (
  url: string,
  body: Uint8Array,
  headers: Readonly<Record<string, string>> = {},
): Promise<PutAnswer> =>
  new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: "PUT",
      headers: { "content-length": String(body.length), ...headers },
    });
    let answered = false;
    const answer = new Promise<void>((done) => request.once("response", () => done()));
    request.on("response", (response) => {
      answered = true;
      const parts: Array<Buffer> = [];
      response.on("data", (part: Buffer) => parts.push(part));
      response.on("end", () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") });
      });
      response.on("error", reject);
    });
    request.on("error", (error) => {
      if (!answered) reject(error);
    });
    request.flushHeaders();
    void (async () => {
      await Promise.race([answer, new Promise((wait) => setTimeout(wait, EARLY_ANSWER_MS))]);
      for (let at = 0; at < body.length && !answered; at += CHUNK_BYTES) {
        const chunk = body.subarray(at, at + CHUNK_BYTES);
        await new Promise<void>((written) => request.write(chunk, () => written()));
      }
      if (!answered) request.end();
    })();
  });

export interface Upload {
  readonly buildContextPath: string;
  readonly answer: PutAnswer;
}

/** CreateUploadUrl for the project, then a PUT of the archive to the URL with its headers. */
export const upload = async (
  clients: Clients,
  projectId: string,
  archive: Uint8Array,
): Promise<Upload> => {
  const url = await clients.deployments.createUploadUrl({ projectId });
  if (url.method !== "PUT") throw new Error(`upload method ${url.method}, expected PUT`);
  return {
    buildContextPath: url.buildContextPath,
    answer: await put(url.uploadUrl, archive, url.requiredHeaders),
  };
};

/** An upload that must succeed: its build context path. */
export const uploaded = async (clients: Clients, projectId: string, archive: Uint8Array) => {
  const { buildContextPath, answer } = await upload(clients, projectId, archive);
  if (answer.status !== 200)
    throw new Error(`upload refused: ${answer.status} ${answer.body.slice(0, 500)}`);
  return buildContextPath;
};
