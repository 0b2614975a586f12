/**
 * The S3 adapter against a real S3-compatible server (s3rver, in this process): uploads with
 * fetch to the presigned URL, as clients do, then stat, read and remove through the adapter.
 *
 * s3rver's gaps, and what is asserted instead:
 * - it accepts any SigV4 signature (only the access key id and the expiry are checked), so it
 *   would store a body of another length than the signed Content-Length. The tests check the
 *   signature itself (sigv4.ts): Content-Length is signed, and a request with another length
 *   does not match it, which is what real S3 refuses with 403 SignatureDoesNotMatch.
 * - it has one account, S3RVER / S3RVER: the adapter is configured with it.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { BuildStorage } from "@ferry/domain";
import { Option } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeS3BuildStorage, makeS3Client, type S3BuildStorageConfig } from "../src/index.ts";
import { startTestS3Server, type TestS3Server } from "../src/testing.ts";
import { matchesSignature, signedHeaders } from "./sigv4.ts";
import { at, bytes, collect, failure, run } from "./support.ts";

const BUCKET = "ferry-test";
const MAX = 1024 * 1024;
const TTL = 900;

let server: TestS3Server;
let config: S3BuildStorageConfig;
let client: S3Client;
let storage: BuildStorage["Type"];

beforeAll(async () => {
  server = await startTestS3Server({ bucket: BUCKET });
  config = server.config;
  client = makeS3Client(config);
  storage = makeS3BuildStorage(client, config);
});

afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

let n = 0;
const freshKey = () => `projects/prj_1/contexts/context-${++n}.tar.gz`;

const put = async (url: string, body: Uint8Array, headers: Record<string, string> = {}) =>
  (await fetch(url, { method: "PUT", body, headers })).status;

describe("the S3 build storage", () => {
  it("lists stored objects under a prefix in key order, page by page (ListObjects with Marker)", async () => {
    const prefix = `projects/prj_list${Date.now()}/`;
    const keys = [
      `${prefix}contexts/c.tar.gz`,
      `${prefix}contexts/a.tar.gz`,
      `${prefix}b/x.tar.gz`,
    ];
    const before = Date.now();
    for (const [index, key] of keys.entries()) {
      const { url } = await run(
        storage.createUploadUrl(key, { maxSizeBytes: MAX, expiresInSeconds: TTL }),
      );
      expect(await put(url, bytes(10 + index))).toBe(200);
    }
    const first = await run(storage.list(prefix, { limit: 2 }));
    expect(first.objects.map((o) => o.key)).toEqual([
      `${prefix}b/x.tar.gz`,
      `${prefix}contexts/a.tar.gz`,
    ]);
    expect(first.objects.map((o) => o.sizeBytes)).toEqual([12, 11]);
    // S3 keeps whole seconds.
    for (const object of first.objects) {
      expect(object.lastModifiedAt).toBeGreaterThanOrEqual(before - 1000);
      expect(object.lastModifiedAt).toBeLessThanOrEqual(Date.now() + 1000);
    }
    expect(first.nextAfter).toBe(`${prefix}contexts/a.tar.gz`);
    const second = await run(storage.list(prefix, { after: first.nextAfter, limit: 2 }));
    expect(second.objects.map((o) => o.key)).toEqual([`${prefix}contexts/c.tar.gz`]);
    expect(second.nextAfter).toBeUndefined();
    expect(await run(storage.list(`${prefix}none/`, { limit: 5 }))).toEqual({
      objects: [],
      nextAfter: undefined,
    });
    expect(await failure(storage.list("projects", { limit: 5 }))).toMatchObject({
      _tag: "BuildStorageError",
    });
    for (const key of keys) await run(storage.remove(key));
  });

  it("takes an upload at a presigned URL, then stats, reads and removes it", async () => {
    const key = freshKey();
    const before = Date.now();
    const upload = await run(
      storage.createUploadUrl(key, { maxSizeBytes: MAX, expiresInSeconds: TTL }),
    );
    const url = new URL(upload.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${config.endpoint}/${BUCKET}/${key}`);
    expect(url.searchParams.get("X-Amz-Expires")).toBe(String(TTL));
    // No checksum of an empty body baked into the URL (see makeS3Client).
    expect([...url.searchParams.keys()].filter((name) => /checksum/i.test(name))).toEqual([]);
    expect(signedHeaders(upload.url)).toEqual(["host"]);
    expect(upload.headers).toEqual({});
    expect(upload.maxSizeBytes).toBe(MAX);
    expect(upload.expiresAt).toBeGreaterThan(before + (TTL - 1) * 1000);
    expect(upload.expiresAt).toBeLessThanOrEqual(Date.now() + TTL * 1000);

    const content = bytes(300_000);
    expect(await put(upload.url, content)).toBe(200);
    expect(await run(storage.stat(key))).toEqual(Option.some({ sizeBytes: content.length }));
    expect(await collect(await run(storage.read(key)))).toEqual(content);

    await run(storage.remove(key));
    expect(await run(storage.stat(key))).toEqual(Option.none());
    expect(await failure(storage.read(key))).toMatchObject({
      _tag: "BuildStorageError",
      reason: `no build context stored at "${key}"`,
    });
    // Removing what is not there is not an error (retention repeats removals).
    await run(storage.remove(key));
  });

  it("signs the declared size: S3 refuses a body of any other length", async () => {
    const key = freshKey();
    const upload = await run(
      storage.createUploadUrl(key, { maxSizeBytes: MAX, expiresInSeconds: TTL, sizeBytes: 5000 }),
    );
    expect(upload.headers).toEqual({ "content-length": "5000" });
    expect(signedHeaders(upload.url)).toEqual(["content-length", "host"]);
    const host = new URL(upload.url).host;
    const check = (length: string) =>
      matchesSignature(upload.url, "PUT", { host, "content-length": length }, "S3RVER");
    expect(check("5000")).toBe(true);
    expect(check("4999")).toBe(false);
    expect(check("5001")).toBe(false);

    expect(await put(upload.url, bytes(5000), upload.headers)).toBe(200);
    expect(await run(storage.stat(key))).toEqual(Option.some({ sizeBytes: 5000 }));
  });

  it("signs nothing but the host without a declared size, and the signature holds", async () => {
    const upload = await run(
      storage.createUploadUrl(freshKey(), { maxSizeBytes: MAX, expiresInSeconds: TTL }),
    );
    const host = new URL(upload.url).host;
    expect(matchesSignature(upload.url, "PUT", { host }, "S3RVER")).toBe(true);
    expect(matchesSignature(upload.url, "PUT", { host }, "wrong secret")).toBe(false);
  });

  it("makes URLs that expire", async () => {
    const key = freshKey();
    const upload = await at(
      Date.now() - (60 + 5) * 1000,
      storage.createUploadUrl(key, { maxSizeBytes: MAX, expiresInSeconds: 60 }),
    );
    expect(await put(upload.url, bytes(10))).toBe(403);
    expect(await run(storage.stat(key))).toEqual(Option.none());
  });

  it("reports an unreachable or misconfigured store without its secret", async () => {
    const secret = "do-not-print-this-secret-0123456789";
    const wrong = { ...config, bucket: "no-such-bucket", secretAccessKey: secret };
    const wrongClient = makeS3Client(wrong);
    try {
      const other = makeS3BuildStorage(wrongClient, wrong);
      const error = await failure(other.read(freshKey()));
      expect(error._tag).toBe("BuildStorageError");
      expect(error.reason).not.toContain(secret);
      const down = { ...config, endpoint: "http://127.0.0.1:1", secretAccessKey: secret };
      const downClient = makeS3Client(down);
      try {
        const unreachable = await failure(makeS3BuildStorage(downClient, down).stat(freshKey()));
        expect(unreachable.reason).toMatch(
          /^cannot read build context ".+" \(bucket "ferry-test"\): /,
        );
        expect(unreachable.reason).not.toContain(secret);
      } finally {
        downClient.destroy();
      }
    } finally {
      wrongClient.destroy();
    }
  });

  it("refuses keys that are not storage keys", async () => {
    expect(
      await failure(
        storage.createUploadUrl("../x.tar.gz", { maxSizeBytes: MAX, expiresInSeconds: TTL }),
      ),
    ).toMatchObject({ _tag: "BuildStorageError" });
    expect(await failure(storage.stat("a//b"))).toMatchObject({ _tag: "BuildStorageError" });
  });
});
