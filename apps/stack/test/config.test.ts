/** The launcher's configuration: what a `pnpm start` user sets reaches ctrl and hydra as given. */
import { describe, expect, it } from "vitest";
import { loadStackConfig } from "../src/config.ts";

describe("loadStackConfig", () => {
  it("passes the build settings through, for ctrl and hydra only", () => {
    const config = loadStackConfig({
      INIT_CWD: "/home/me/app",
      FERRY_BUILD_STORAGE: "s3",
      FERRY_S3_ENDPOINT: "http://127.0.0.1:9000",
      FERRY_S3_REGION: "eu-west-1",
      FERRY_S3_BUCKET: "builds",
      FERRY_S3_ACCESS_KEY_ID: "AKIA123",
      FERRY_S3_SECRET_ACCESS_KEY: "not-for-frontline",
      FERRY_S3_FORCE_PATH_STYLE: "true",
      FERRY_UPLOAD_MAX_BYTES: "1048576",
      FERRY_UPLOAD_URL_TTL_SECONDS: "60",
      FERRY_BUILD_TIMEOUT_MS: "120000",
      FERRY_PUBLIC_URL: "https://ferry.example.com",
      FERRY_RETENTION_PERIOD: "12h",
      FERRY_REGIONS: "eu-1",
    });
    expect(config.buildSettings).toStrictEqual({
      FERRY_BUILD_STORAGE: "s3",
      FERRY_S3_ENDPOINT: "http://127.0.0.1:9000",
      FERRY_S3_REGION: "eu-west-1",
      FERRY_S3_BUCKET: "builds",
      FERRY_S3_ACCESS_KEY_ID: "AKIA123",
      FERRY_S3_SECRET_ACCESS_KEY: "not-for-frontline",
      FERRY_S3_FORCE_PATH_STYLE: "true",
      FERRY_UPLOAD_MAX_BYTES: "1048576",
      FERRY_UPLOAD_URL_TTL_SECONDS: "60",
      FERRY_BUILD_TIMEOUT_MS: "120000",
      FERRY_PUBLIC_URL: "https://ferry.example.com",
      FERRY_RETENTION_PERIOD: "12h",
    });
    // The settings frontline also gets hold no build setting (the S3 secret stays out of it).
    expect(config.passThrough).toStrictEqual({ FERRY_REGIONS: "eu-1" });
  });

  it("resolves a relative build storage directory where the user ran the command", () => {
    const config = loadStackConfig({
      INIT_CWD: "/home/me/app",
      FERRY_BUILD_STORAGE_DIR: "uploads",
    });
    // ctrl and hydra each run in their own package directory: both must find the same place.
    expect(config.buildSettings).toStrictEqual({ FERRY_BUILD_STORAGE_DIR: "/home/me/app/uploads" });
    expect(loadStackConfig({ INIT_CWD: "/home/me/app" }).buildSettings).toStrictEqual({});
  });
});
