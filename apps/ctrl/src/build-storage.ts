/**
 * Build storage as configured (FERRY_BUILD_STORAGE): the port's adapter, and for local storage
 * the handler of its upload URLs, which the server mounts at `PUT /v1/uploads/*`.
 */
import {
  localBuildStorage,
  makeUploadHandler,
  s3BuildStorage,
  type UploadHandler,
} from "@ferry/build-storage";
import type { BuildStorage } from "@ferry/domain";
import type { Layer } from "effect";
import type { BuildStorageConfig } from "./config.ts";
import type { Log } from "./log.ts";

export interface BuildStorageWiring {
  readonly layer: Layer.Layer<BuildStorage>;
  /** Local storage only: serves the upload URLs it hands out. */
  readonly uploadHandler: UploadHandler | undefined;
}

export interface BuildStorageOptions {
  /**
   * Where clients reach ctrl; called for each URL, since with no FERRY_PUBLIC_URL it is the
   * listen URL, known only once the server listens.
   */
  readonly publicBaseUrl: () => string;
  readonly signingSecret: Uint8Array;
  readonly log: Log;
}

export const wireBuildStorage = (
  config: BuildStorageConfig,
  options: BuildStorageOptions,
): BuildStorageWiring => {
  if (config.kind === "s3") return { layer: s3BuildStorage(config), uploadHandler: undefined };
  const local = { root: config.dir, signingSecret: options.signingSecret };
  return {
    layer: localBuildStorage({ ...local, publicBaseUrl: options.publicBaseUrl }),
    uploadHandler: makeUploadHandler({
      ...local,
      onError: (error, { key }) => options.log.error("upload failed", { key, error }),
    }),
  };
};

/** The storage for the start log: never the S3 secret. */
export const describeBuildStorage = (config: BuildStorageConfig) =>
  config.kind === "local"
    ? { kind: "local", dir: config.dir }
    : {
        kind: "s3",
        endpoint: config.endpoint ?? "AWS",
        region: config.region,
        bucket: config.bucket,
        forcePathStyle: config.forcePathStyle,
      };
