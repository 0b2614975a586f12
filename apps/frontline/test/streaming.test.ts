/**
 * Bodies stream through frontline in both directions: neither the request
 * nor the response is buffered whole. Each test makes progress on one side
 * depend on the other side having seen a chunk already, so a buffering proxy
 * would deadlock (and time out) instead of passing.
 */
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { entry, type Harness, startHarness, startUpstream, until } from "./support.ts";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function harnessFor(handler: http.RequestListener): Promise<Harness> {
  const u = await startUpstream("stream", handler);
  cleanup.push(u.close);
  const h = await startHarness({ routes: [entry("app.ferry.test", [u.address])] });
  cleanup.push(h.close);
  return h;
}

describe("streaming", () => {
  it("streams the request body: the instance sees the first chunk before the client has finished", async () => {
    const seen: string[] = [];
    const h = await harnessFor((req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      // Echo each chunk as it arrives.
      req.on("data", (chunk: Buffer) => {
        seen.push(chunk.toString());
        res.write(chunk);
      });
      req.on("end", () => res.end("|end"));
    });

    const received: string[] = [];
    let clientFinished = false;
    const done = new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: h.port,
          method: "POST",
          headers: { host: "app.ferry.test", "transfer-encoding": "chunked" },
          agent: false,
        },
        (res) => {
          res.on("data", (chunk: Buffer) => received.push(chunk.toString()));
          res.on("end", () => resolve(received.join("")));
        },
      );
      req.on("error", reject);
      (async () => {
        req.write("first;");
        // The upstream must get (and echo back) the first chunk while the request is still open.
        await until(() => seen.length >= 1 && received.join("").includes("first;"));
        expect(clientFinished).toBe(false);
        req.write("second;");
        await until(() => seen.join("").includes("second;"));
        clientFinished = true;
        req.end("third");
      })().catch(reject);
    });
    expect(await done).toBe("first;second;third|end");
    expect(seen.join("")).toBe("first;second;third");
  });

  it("streams the response: the client gets the first chunk before the instance has finished", async () => {
    let clientGotFirst = false;
    let upstreamEnded = false;
    const h = await harnessFor((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: one\n\n");
      until(() => clientGotFirst, 10_000)
        .then(() => {
          upstreamEnded = true;
          res.end("data: two\n\n");
        })
        .catch(() => res.destroy());
    });
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(
          { host: "127.0.0.1", port: h.port, headers: { host: "app.ferry.test" }, agent: false },
          (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => {
              text += chunk.toString();
              if (text.includes("data: one")) {
                if (!clientGotFirst) expect(upstreamEnded).toBe(false);
                clientGotFirst = true;
              }
            });
            res.on("end", () => resolve(text));
          },
        )
        .on("error", reject);
    });
    expect(body).toBe("data: one\n\ndata: two\n\n");
  });

  it("carries large bodies intact both ways (backpressure, no whole-body buffering)", async () => {
    const h = await harnessFor((req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      req.pipe(res);
    });
    const payload = randomBytes(8 * 1024 * 1024);
    const digest = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: h.port,
          method: "PUT",
          headers: { host: "app.ferry.test", "content-length": String(payload.length) },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          // A slow reader: frontline must pause the instance rather than buffer its output.
          res.on("data", (chunk: Buffer) => {
            chunks.push(chunk);
            res.pause();
            setTimeout(() => res.resume(), 1);
          });
          res.on("end", () => resolve(Buffer.concat(chunks)));
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
    expect(echoed.length).toBe(payload.length);
    expect(digest(echoed)).toBe(digest(payload));
    expect(h.access().at(-1)).toMatchObject({ status: 200, bytesOut: payload.length });
  });
});
