/**
 * The local adapter and its upload handler through a real HTTP server on a random port: uploads
 * with fetch (as clients do) and with raw requests (chunked bodies, lying lengths, dropped
 * connections); what ends up on disk after each.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, utimes, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BuildStorage } from "@ferry/domain";
import { Option } from "effect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeLocalBuildStorage, makeUploadHandler } from "../src/index.ts";
import { chunks, rawPut } from "./http.ts";
import { at, bytes, collect, failure, filesUnder, run } from "./support.ts";

const SECRET = randomBytes(32);
const KEY = "projects/prj_1/contexts/01jdz8x4m3q7r2v5w9y0abcdef.tar.gz";
const MAX = 64 * 1024;
const TTL = 900;

let root: string;
let server: http.Server;
let storage: BuildStorage["Type"];
const errors: Array<unknown> = [];

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "ferry-local-storage-"));
  const handler = makeUploadHandler({
    root,
    signingSecret: SECRET,
    onError: (error) => errors.push(error),
  });
  server = http.createServer((request, response) => void handler(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  storage = makeLocalBuildStorage({
    root,
    publicBaseUrl: `http://127.0.0.1:${port}/`,
    signingSecret: SECRET,
  });
});

afterEach(async () => {
  expect(errors).toEqual([]);
  rmSync(root, { recursive: true, force: true });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

const urlFor = (key = KEY, options: { maxSizeBytes?: number; sizeBytes?: number } = {}) =>
  run(
    storage.createUploadUrl(key, {
      maxSizeBytes: options.maxSizeBytes ?? MAX,
      expiresInSeconds: TTL,
      ...(options.sizeBytes === undefined ? {} : { sizeBytes: options.sizeBytes }),
    }),
  );

const put = async (url: string, body: Uint8Array, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { method: "PUT", body, headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe("the local build storage", () => {
  it("takes an upload, then stats, reads and removes it", async () => {
    const before = Date.now();
    const upload = await urlFor();
    expect(upload.url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:\\d+/v1/uploads/${KEY}\\?expires=\\d+&max=${MAX}&sig=`),
    );
    expect(upload.headers).toEqual({});
    expect(upload.maxSizeBytes).toBe(MAX);
    expect(upload.expiresAt).toBeGreaterThan(before + (TTL - 1) * 1000);
    expect(upload.expiresAt).toBeLessThanOrEqual(Date.now() + TTL * 1000);

    const content = bytes(40_000);
    expect(await put(upload.url, content)).toEqual({
      status: 200,
      body: { key: KEY, sizeBytes: content.length },
    });
    expect(await filesUnder(root)).toEqual([KEY]);
    expect(await run(storage.stat(KEY))).toEqual(Option.some({ sizeBytes: content.length }));
    expect(await collect(await run(storage.read(KEY)))).toEqual(content);

    await run(storage.remove(KEY));
    expect(await run(storage.stat(KEY))).toEqual(Option.none());
    expect(await failure(storage.read(KEY))).toMatchObject({
      _tag: "BuildStorageError",
      reason: `no build context stored at "${KEY}"`,
    });
    // Removing what is not there is not an error.
    await run(storage.remove(KEY));
  });

  it("takes an upload of exactly the declared size, and only that size", async () => {
    const upload = await urlFor(KEY, { sizeBytes: 1000 });
    expect(upload.headers).toEqual({ "content-length": "1000" });

    expect(await rawPut(upload.url, { chunks: [bytes(999)] })).toEqual({
      status: 400,
      body: { error: "the upload ended after 999 bytes; this upload URL accepts exactly 1000" },
    });
    expect(
      await rawPut(upload.url, { headers: { "content-length": "999" }, chunks: [bytes(999)] }),
    ).toEqual({
      status: 400,
      body: { error: "the archive is 999 bytes; this upload URL accepts exactly 1000" },
    });
    expect(await put(upload.url, bytes(1001))).toEqual({
      status: 413,
      body: { error: "the archive is 1001 bytes; this upload URL accepts exactly 1000" },
    });
    expect(await filesUnder(root)).toEqual([]);

    expect(await put(upload.url, bytes(1000), upload.headers)).toEqual({
      status: 200,
      body: { key: KEY, sizeBytes: 1000 },
    });
  });

  it("refuses an expired URL", async () => {
    const upload = await at(
      Date.now() - (TTL + 5) * 1000,
      storage.createUploadUrl(KEY, { maxSizeBytes: MAX, expiresInSeconds: TTL }),
    );
    const response = await put(upload.url, bytes(10));
    expect(response.status).toBe(403);
    expect(response.body.error).toMatch(
      /^the upload URL expired at \d{4}-\d\d-\d\dT[\d:.]+Z: get a new one from CreateUploadUrl$/,
    );
    expect(await filesUnder(root)).toEqual([]);
  });

  it("refuses a URL whose signature does not hold", async () => {
    const { url } = await urlFor(KEY, { maxSizeBytes: 100 });
    const original = new URL(url);
    const altered = (change: (url: URL) => void) => {
      const copy = new URL(original);
      change(copy);
      return copy.toString();
    };
    const sig = original.searchParams.get("sig") ?? "";
    const forgeries = [
      altered((u) => u.searchParams.set("max", "100000")),
      altered((u) =>
        u.searchParams.set("expires", String(Number(u.searchParams.get("expires")) + 3600)),
      ),
      altered((u) => u.searchParams.set("size", "50")),
      altered((u) => {
        u.pathname = u.pathname.replace("prj_1", "prj_2");
      }),
      altered((u) => u.searchParams.set("sig", `${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`)),
      altered((u) => u.searchParams.set("sig", `${sig}x`)),
      altered((u) => u.searchParams.delete("sig")),
      altered((u) => u.searchParams.delete("max")),
    ];
    for (const forged of forgeries) {
      expect(await put(forged, bytes(10)), forged).toEqual({
        status: 403,
        body: {
          error:
            "the upload URL's signature is not valid (altered or incomplete URL?): use the URL exactly as CreateUploadUrl returned it",
        },
      });
    }
    // Another secret signs other URLs.
    const other = makeLocalBuildStorage({
      root,
      publicBaseUrl: original.origin,
      signingSecret: randomBytes(32),
    });
    const foreign = await run(
      other.createUploadUrl(KEY, { maxSizeBytes: 100, expiresInSeconds: TTL }),
    );
    expect((await put(foreign.url, bytes(10))).status).toBe(403);
    expect(await filesUnder(root)).toEqual([]);
  });

  it("refuses an archive over the limit from its Content-Length, before reading it", async () => {
    const { url } = await urlFor(KEY, { maxSizeBytes: 100 });
    expect(await put(url, bytes(101))).toEqual({
      status: 413,
      body: { error: "the archive is 101 bytes; this upload URL accepts at most 100" },
    });
    expect(await filesUnder(root)).toEqual([]);
    expect(await put(url, bytes(100))).toEqual({ status: 200, body: { key: KEY, sizeBytes: 100 } });
  });

  it("stops reading a chunked body at the first byte over the limit and keeps nothing", async () => {
    const { url } = await urlFor(KEY);
    // Up to 16 MiB offered; the server answers after 64 KiB and a bit.
    const response = await rawPut(url, { chunks: chunks(1024, 16 * 1024) });
    expect(response).toEqual({
      status: 413,
      body: { error: `the archive is larger than the ${MAX} bytes this upload URL accepts` },
    });
    expect(await filesUnder(root)).toEqual([]);
    expect(await run(storage.stat(KEY))).toEqual(Option.none());
    // The URL is still good for an archive within the limit.
    expect((await rawPut(url, { chunks: chunks(4, 16 * 1024) }))?.status).toBe(200);
  });

  it("keeps nothing of an upload whose client went away", async () => {
    const { url } = await urlFor(KEY);
    expect(await rawPut(url, { chunks: chunks(2, 1024), abort: true })).toBeUndefined();
    const deadline = Date.now() + 5_000;
    while ((await filesUnder(root)).length > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await filesUnder(root)).toEqual([]);
  });

  it("refuses a second upload to a key, keeping the first", async () => {
    const { url } = await urlFor();
    expect((await put(url, bytes(10, 1))).status).toBe(200);
    expect(await put(url, bytes(20, 2))).toEqual({
      status: 409,
      body: { error: `"${KEY}" was already uploaded; get a new URL from CreateUploadUrl` },
    });
    expect(await collect(await run(storage.read(KEY)))).toEqual(bytes(10, 1));
    expect(await filesUnder(root)).toEqual([KEY]);
  });

  it("lets exactly one of two concurrent uploads to a key win", async () => {
    const { url } = await urlFor();
    const statuses = await Promise.all([
      rawPut(url, { chunks: chunks(32, 1024) }),
      rawPut(url, { chunks: chunks(32, 1024) }),
    ]);
    expect(statuses.map((response) => response?.status).sort()).toEqual([200, 409]);
    expect(await filesUnder(root)).toEqual([KEY]);
  });

  it("answers 405 to anything but PUT", async () => {
    const { url } = await urlFor();
    const response = await fetch(url, { method: "POST", body: "x" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("PUT");
  });

  it("refuses keys that are not storage keys, at every call", async () => {
    for (const key of ["../escape.tar.gz", "/abs.tar.gz", "a//b", "a/.hidden", "a/../../b", ""]) {
      const options = { maxSizeBytes: MAX, expiresInSeconds: TTL };
      expect(await failure(storage.createUploadUrl(key, options)), key).toMatchObject({
        _tag: "BuildStorageError",
        reason: expect.stringContaining("invalid storage key"),
      });
      expect(await failure(storage.stat(key))).toMatchObject({ _tag: "BuildStorageError" });
      expect(await failure(storage.read(key))).toMatchObject({ _tag: "BuildStorageError" });
      expect(await failure(storage.remove(key))).toMatchObject({ _tag: "BuildStorageError" });
    }
  });

  it("lists stored objects under a prefix in key order, page by page, with their write times", async () => {
    const keys = [
      "projects/prj_2/contexts/b.tar.gz",
      "projects/prj_1/contexts/z.tar.gz",
      "projects/prj_1/contexts/a.tar.gz",
    ];
    const before = Date.now();
    for (const [index, key] of keys.entries())
      expect((await put((await urlFor(key)).url, bytes(100 + index))).status).toBe(200);
    // Not objects: an upload's temporary file, and a key outside the prefix.
    await writeFile(path.join(root, "projects/prj_1/contexts/.a.tar.gz.0a1b2c.part"), "x");
    await mkdir(path.join(root, "other"), { recursive: true });
    await writeFile(path.join(root, "other/c.tar.gz"), "x");
    const old = new Date("2026-01-02T03:04:05Z");
    await utimes(path.join(root, keys[1] as string), old, old);

    const first = await run(storage.list("projects/", { limit: 2 }));
    expect(first.objects.map((o) => o.key)).toEqual([
      "projects/prj_1/contexts/a.tar.gz",
      "projects/prj_1/contexts/z.tar.gz",
    ]);
    expect(first.nextAfter).toBe("projects/prj_1/contexts/z.tar.gz");
    expect(first.objects[0]?.sizeBytes).toBe(102);
    expect(first.objects[0]?.lastModifiedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(first.objects[1]?.lastModifiedAt).toBe(old.getTime());
    const second = await run(storage.list("projects/", { after: first.nextAfter, limit: 2 }));
    expect(second).toEqual({
      objects: [
        {
          key: "projects/prj_2/contexts/b.tar.gz",
          sizeBytes: 100,
          lastModifiedAt: expect.any(Number),
        },
      ],
      nextAfter: undefined,
    });
    expect(
      (await run(storage.list("projects/prj_2/", { limit: 10 }))).objects.map((o) => o.key),
    ).toEqual(["projects/prj_2/contexts/b.tar.gz"]);
    // Nothing stored yet under a prefix: an empty last page, not an error.
    expect(await run(storage.list("projects/none/", { limit: 10 }))).toEqual({
      objects: [],
      nextAfter: undefined,
    });
    for (const prefix of ["projects", "../", "/", "a//"])
      expect(await failure(storage.list(prefix, { limit: 10 })), prefix).toMatchObject({
        _tag: "BuildStorageError",
      });
    expect(await failure(storage.list("projects/", { limit: 0 }))).toMatchObject({
      reason: "a listing returns 1 to 1000 objects per page (asked: 0)",
    });
  });

  it("never puts the signing secret in a URL", async () => {
    const { url } = await urlFor();
    expect(url).not.toContain(SECRET.toString("base64url"));
    expect(url).not.toContain(SECRET.toString("hex"));
  });
});
