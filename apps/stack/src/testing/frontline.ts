/** Requests to frontline with a deployment's hostname, as a browser would send them. */
import http from "node:http";

export interface FrontlineAnswer {
  readonly status: number;
  /** The body, trimmed. */
  readonly body: string;
}

/** GET `path` through frontline with this Host (node:http: fetch may not set Host): status and body. */
export const viaFrontline = (frontlineUrl: string, host: string, path = "/") =>
  new Promise<FrontlineAnswer>((resolve, reject) => {
    const request = http.get(
      `${frontlineUrl}${path}`,
      { headers: { host }, timeout: 5_000 },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: body.trim() }));
      },
    );
    request.once("timeout", () => request.destroy(new Error("timeout")));
    request.once("error", reject);
  });

export interface ServesOptions {
  readonly path?: string;
  /** How long a route change may take to reach frontline (default 2 s: it is pushed within ms). */
  readonly withinMs?: number;
}

/** Polls until frontline serves `content` at `path` for `host`; fails with what it served last. */
export const serves = async (
  frontlineUrl: string,
  host: string,
  content: string,
  options: ServesOptions = {},
) => {
  const deadline = Date.now() + (options.withinMs ?? 2_000);
  let last: FrontlineAnswer = { status: 0, body: "" };
  while (Date.now() < deadline) {
    last = await viaFrontline(frontlineUrl, host, options.path);
    if (last.status === 200 && last.body === content) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${host} served ${last.status} "${last.body}", not "${content}"`);
};
