/**
 * A real S3-compatible server for tests (s3rver, in this process, on a free port of 127.0.0.1,
 * data in a temporary directory) and the adapter configuration that reaches it. Used by this
 * package's S3 tests and by the whole-stack tests that run ctrl and hydra on S3.
 *
 * s3rver has one account, S3RVER / S3RVER, and accepts any SigV4 signature made with that
 * access key id (see test/s3.test.ts for what that leaves unchecked).
 */
/// <reference path="./s3rver.d.ts" />
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import S3rver from "s3rver";
import type { S3BuildStorageConfig } from "./s3/storage.ts";

export interface TestS3Server {
  /** Adapter settings for the server's one bucket (path-style, its only account). */
  readonly config: S3BuildStorageConfig;
  /** The same settings as ctrl and hydra read them (FERRY_BUILD_STORAGE=s3 and FERRY_S3_*). */
  readonly env: Readonly<Record<string, string>>;
  /** Stops the server and removes its data. */
  readonly stop: () => Promise<void>;
}

export const startTestS3Server = async (
  options: { readonly bucket?: string } = {},
): Promise<TestS3Server> => {
  const bucket = options.bucket ?? "ferry-test";
  const directory = mkdtempSync(path.join(tmpdir(), "ferry-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const config: S3BuildStorageConfig = {
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    forcePathStyle: true,
  };
  return {
    config,
    env: {
      FERRY_BUILD_STORAGE: "s3",
      FERRY_S3_ENDPOINT: config.endpoint ?? "",
      FERRY_S3_REGION: config.region,
      FERRY_S3_BUCKET: bucket,
      FERRY_S3_ACCESS_KEY_ID: config.accessKeyId,
      FERRY_S3_SECRET_ACCESS_KEY: config.secretAccessKey,
      FERRY_S3_FORCE_PATH_STYLE: "true",
    },
    stop: async () => {
      try {
        await server.close();
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    },
  };
};
