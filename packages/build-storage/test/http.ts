/** A raw HTTP/1.1 PUT, for what fetch will not send: a body without Content-Length, a lying one. */
import http from "node:http";

export interface RawResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface RawPut {
  readonly headers?: Record<string, string>;
  /** Sent in order; writing stops as soon as the server answers. */
  readonly chunks: Iterable<Uint8Array>;
  /** Drop the connection after the chunks instead of ending the request. */
  readonly abort?: boolean;
}

/** The server's answer; resolves `undefined` when the request was aborted on purpose. */
export const rawPut = (url: string, options: RawPut): Promise<RawResponse | undefined> =>
  new Promise((resolve, reject) => {
    const request = http.request(url, { method: "PUT", headers: options.headers ?? {} });
    let answered = false;
    request.on("response", (response) => {
      answered = true;
      const parts: Array<Buffer> = [];
      response.on("data", (part: Buffer) => parts.push(part));
      response.on("end", () => {
        request.destroy();
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(parts).toString("utf8")),
        });
      });
      response.on("error", reject);
    });
    // Writing into a connection the server closed after answering fails: that is expected.
    request.on("error", (error) => {
      if (!answered && !options.abort) reject(error);
    });
    const answer = new Promise<void>((done) => request.once("response", () => done()));
    void (async () => {
      for (const chunk of options.chunks) {
        if (answered) return;
        if (!request.write(chunk))
          await Promise.race([new Promise((done) => request.once("drain", done)), answer]);
      }
      if (answered) return;
      if (options.abort) {
        // Let the chunks reach the server before the connection drops.
        await new Promise((done) => setTimeout(done, 100));
        request.destroy();
        resolve(undefined);
      } else request.end();
    })();
  });

/** `count` chunks of `size` bytes. */
export function* chunks(count: number, size: number): Iterable<Uint8Array> {
  for (let i = 0; i < count; i++) yield new Uint8Array(size).fill(i % 256);
}
